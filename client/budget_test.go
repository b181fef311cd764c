package client_test

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"telchat/client"
	"telchat/internal/servertest"
)

// trickler is an attacker that reads just enough never to count as
// stalled: from its own loopback address, with a small receive buffer, it
// logs in and then reads a few bytes now and then, so its queue on the
// server fills up to whatever the server allows.
type trickler struct {
	p    *probe
	read atomic.Int64 // bytes read after the login
	stop chan struct{}
	done chan struct{}
}

// startTrickler logs nick in from localIP and reads chunk bytes every
// pace until the test ends or the server closes the connection.
func startTrickler(t *testing.T, addr, localIP, nick string, chunk int, pace time.Duration) *trickler {
	t.Helper()
	d := net.Dialer{
		Timeout:   servertest.Timeout,
		LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)},
		// A small receive buffer, set before the handshake so that the
		// window stays small: the kernels between the server and the
		// attacker hold little, its session's queue the rest.
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			if err != nil {
				return err
			}
			return serr
		},
	}
	c, err := d.Dial("tcp", addr)
	failOn(t, err)
	// A tiny read buffer: each read takes at most chunk bytes off the wire.
	p := &probe{conn: c.(*net.TCPConn), r: bufio.NewReaderSize(c, 16)}
	failOn(t, p.login(nick))
	tr := &trickler{p: p, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(tr.done)
		buf := make([]byte, chunk)
		tick := time.NewTicker(pace)
		defer tick.Stop()
		for {
			select {
			case <-tr.stop:
				return
			case <-tick.C:
			}
			_ = p.conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
			n, err := p.r.Read(buf)
			tr.read.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(tr.stop)
		p.close()
		<-tr.done
	})
	return tr
}

// sampleMax records the largest value f returns, every millisecond, until
// the returned stop is called; stop returns the maximum.
func sampleMax(f func() int64) (stop func() int64) {
	var peak atomic.Int64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if v := f(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-quit:
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() int64 {
		once.Do(func() { close(quit); <-done })
		return peak.Load()
	}
}

// talkUntil has talker say numbered lines of about 1000 bytes, 50 at a
// time, and has every honest client read each round in order, until cond
// holds (checked between rounds) or rounds run out; it returns the number
// of rounds.
func talkUntil(t *testing.T, talker *servertest.Client, honest []*servertest.Client, maxRounds int, cond func() bool) int {
	t.Helper()
	pad := strings.Repeat("z", 1000)
	next := 0
	for round := range maxRounds {
		if cond() {
			return round
		}
		var b strings.Builder
		for i := range 50 {
			fmt.Fprintf(&b, "%d %s\n", next+i, pad)
		}
		talker.Write([]byte(b.String()))
		for _, h := range honest {
			for i := range 50 {
				l := h.Expect("<" + talker.Nick + "> ")
				num, _, _ := strings.Cut(strings.TrimPrefix(l, "<"+talker.Nick+"> "), " ")
				if num != fmt.Sprint(next+i) {
					t.Fatalf("%s got line %s, want %d", h.Nick, num, next+i)
				}
			}
		}
		next += 50
	}
	if !cond() {
		t.Fatalf("condition not met after %d rounds", maxRounds)
	}
	return maxRounds
}

// TestQueueBudgetBoundsTheTotal: attackers from many addresses read just
// enough never to stall, so that each fills its queue up to its cap. The
// server's total of queued bytes never passes the budget: as it runs out
// the biggest queues are cut as slow, while clients that keep up receive
// every line, in order, and are never cut.
func TestQueueBudgetBoundsTheTotal(t *testing.T) {
	const (
		perClient = 512 << 10
		budget    = 3 << 20 // the attackers' caps add up to 8 MiB
		attackers = 16
	)
	s := servertest.Start(t, servertest.Config{Client: client.Config{
		MaxQueueBytes: perClient, MaxQueueTotal: budget, MaxQueuePerIP: -1,
		MaxBehind: -1, WriteTimeout: time.Minute}})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	carol := s.Login(t, "carol")
	for i := range attackers {
		startTrickler(t, s.Addr, fmt.Sprintf("127.0.1.%d", i+1), fmt.Sprintf("t%d", i), 256, 10*time.Millisecond)
	}
	peak := sampleMax(s.Server.QueuedBytes)
	honest := []*servertest.Client{bob, carol}
	// First the attack fills the queues (nobody is cut before half the
	// budget is used), then it goes on until it has cost half the
	// attackers their connection.
	rounds := talkUntil(t, alice, honest, 400, func() bool { return s.Server.QueuedBytes() >= budget/2 })
	rounds += talkUntil(t, alice, honest, 400, func() bool {
		return s.Hub.Counters.SlowDrops.Load() >= attackers/2
	})
	top := peak()
	t.Logf("%d rounds; peak queued %d bytes (budget %d); %d cut as slow", rounds, top, budget, s.Hub.Counters.SlowDrops.Load())
	if top > budget {
		t.Fatalf("the server held %d queued bytes, over its budget of %d", top, budget)
	}
	for _, c := range []*servertest.Client{bob, carol} {
		noLinesFrom(t, c, "alice left")
		noLinesFrom(t, c, "bob left")
		noLinesFrom(t, c, "carol left")
	}
}

// TestQueueShareBoundsAnAddress: many connections from one address share
// its part of the budget; clients from other addresses are not affected.
func TestQueueShareBoundsAnAddress(t *testing.T) {
	const (
		perClient = 512 << 10
		share     = 1 << 20 // the attackers' caps add up to 3 MiB
		attackers = 6
	)
	s := servertest.Start(t, servertest.Config{Client: client.Config{
		MaxQueueBytes: perClient, MaxQueuePerIP: share, MaxQueueTotal: -1,
		MaxBehind: -1, WriteTimeout: time.Minute}})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	const attackerIP = "127.0.2.1"
	for i := range attackers {
		startTrickler(t, s.Addr, attackerIP, fmt.Sprintf("t%d", i), 256, 10*time.Millisecond)
	}
	ip := netip.MustParseAddr(attackerIP)
	peak := sampleMax(func() int64 { return s.Server.QueuedBytesFrom(ip) })
	rounds := talkUntil(t, alice, []*servertest.Client{bob}, 400, func() bool { return s.Server.QueuedBytesFrom(ip) >= share/2 })
	rounds += talkUntil(t, alice, []*servertest.Client{bob}, 400, func() bool {
		return s.Hub.Counters.SlowDrops.Load() >= attackers/2
	})
	top := peak()
	t.Logf("%d rounds; peak queued from %s %d bytes (share %d)", rounds, attackerIP, top, share)
	if top > share {
		t.Fatalf("the address held %d queued bytes, over its share of %d", top, share)
	}
	noLinesFrom(t, bob, "bob left")
}

// TestFarBehindForLongIsSlow: a reader whose queue stays far behind (over a
// quarter of its cap) for MaxBehind is cut as slow, even though it keeps
// reading a little and its queue never reaches the cap.
func TestFarBehindForLongIsSlow(t *testing.T) {
	const perClient = 1 << 20
	var sessions sessionsByStart
	s := servertest.Start(t, servertest.Config{Client: client.Config{
		MaxQueueBytes: perClient, MaxBehind: time.Second, WriteTimeout: time.Minute,
		ConnState: sessions.connState}})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	tr := startTrickler(t, s.Addr, "127.0.3.1", "lagger", 512, 10*time.Millisecond)
	lagger := sessions.nth(t, 2)
	talkUntil(t, alice, []*servertest.Client{bob}, 400, func() bool {
		return lagger.Stats().QueuedBytes > perClient/2
	})
	queued, read := lagger.Stats().QueuedBytes, tr.read.Load()
	if queued >= perClient {
		t.Fatalf("lagger's queue is at its cap (%d bytes): the test needs it below", queued)
	}
	start := time.Now()
	bob.Expect("*** lagger left #lobby (slow)")
	took := time.Since(start)
	if tr.read.Load() <= read {
		t.Fatalf("lagger read nothing while it waited: the test needs it to read a little")
	}
	t.Logf("lagger (%d bytes queued) cut after %v", queued, took)
	noLinesFrom(t, bob, "bob left")
}
