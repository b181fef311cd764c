package cluster_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"telchat/internal/servertest"
)

// TestClusterChurn is the churn test spread over three telchat servers on
// one NATS. Steady clients on every server, in two rooms that span all
// three, say numbered lines all through the churn; each must get every
// line of every other steady client of its room exactly once and in the
// order said, wherever it was said. Meanwhile short-lived clients on all
// three servers connect and leave in every way, rename, join and part the
// shared rooms and a room of their own, send private messages across
// servers and try names held on another server. Afterwards every server
// shows exactly the steady clients, and goroutines and descriptors are
// back where they were. It checks what users see, not how lines travel
// between servers, and runs with each -cluster-order.
func TestClusterChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("churn takes seconds")
	}
	for _, tc := range []struct {
		name    string
		ordered bool
	}{{"local", false}, {"stream", true}} {
		t.Run(tc.name, func(t *testing.T) { clusterChurn(t, tc.ordered) })
	}
}

// clusterChurn is TestClusterChurn with own room lines shown at once
// (ordered false) or in the feed's order (true).
func clusterChurn(t *testing.T, ordered bool) {
	const (
		servers    = 3
		steady     = 12                    // 2 per server in each of 2 rooms
		maxChurn   = 150                   // bounded by count...
		churnFor   = 3 * time.Second       // ...and by time
		spawnEvery = 20 * time.Millisecond // 150 in about 3 s
		sayEvery   = 40 * time.Millisecond
	)
	ns := startNATS(t, t.TempDir(), -1)
	var nodes []*node
	for i := range servers {
		nodes = append(nodes, startNodeWith(t, ns.ClientURL(), "S"+strconv.Itoa(i+1),
			nodeOptions{timeout: 10 * time.Second, ordered: ordered}))
	}
	rooms := []string{"lobby", "den"}
	// Steady client i is on server i%3, in room (i/3)%2.
	wb := make([]*chatConn, steady)
	roomOf := func(i int) string { return rooms[(i/servers)%len(rooms)] }
	for i := range wb {
		c, err := dialChat(nodes[i%servers].Addr)
		if err == nil {
			t.Cleanup(c.close)
			err = c.login("wb" + strconv.Itoa(i))
		}
		if err == nil && roomOf(i) != "lobby" {
			err = c.send("/join " + roomOf(i))
			if err == nil {
				_, err = c.expect("You are now in #" + roomOf(i))
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		wb[i] = c
	}
	peers := func(i int) []string { // the steady clients of i's room but i
		var p []string
		for j := range wb {
			if j != i && roomOf(j) == roomOf(i) {
				p = append(p, wb[j].nick)
			}
		}
		return p
	}
	// Each says "ready" and waits for every peer's: the rooms reach
	// across the servers before the count starts.
	for _, c := range wb {
		if err := c.send("ready"); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range wb {
		if err := c.awaitAll(peers(i), "ready"); err != nil {
			t.Fatal(err)
		}
	}
	baseGoroutines, baseFDs := runtime.NumGoroutine(), openSockets(t)

	stop := make(chan struct{})
	var steadyWG sync.WaitGroup
	received := make([]int, steady)
	for i, c := range wb {
		steadyWG.Add(2)
		go func() { // says numbered lines until stop, then "end N"
			defer steadyWG.Done()
			tick := time.NewTicker(sayEvery)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-stop:
					if err := c.send("end " + strconv.Itoa(n)); err != nil {
						t.Error(err)
					}
					return
				case <-tick.C:
				}
				if err := c.send(strconv.Itoa(n)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer steadyWG.Done()
			n, err := followPeers(c, peers(i))
			if err != nil {
				t.Error(err)
			}
			received[i] = n
		}()
	}

	start := time.Now()
	var churnWG sync.WaitGroup
	spawned := map[string]int{}
	for i := 0; i < maxChurn && time.Since(start) < churnFor; i++ {
		mode := clusterChurnModes[i%len(clusterChurnModes)]
		spawned[mode.name]++
		addr := nodes[i%servers].Addr
		// A steady client on another server, for /msg and a taken name.
		other := wb[(i+1)%servers+servers*(i%(steady/servers))].nick
		churnWG.Add(1)
		go func() {
			defer churnWG.Done()
			if err := mode.run(addr, fmt.Sprintf("ch%03d", i), other); err != nil {
				t.Errorf("churn client %d (%s) on %s: %v", i, mode.name, addr, err)
			}
		}()
		time.Sleep(spawnEvery) // arrivals spread over the churn period
	}
	churnWG.Wait()
	churned := time.Since(start)
	close(stop)
	steadyWG.Wait()
	if t.Failed() {
		t.FailNow()
	}
	total, n := 0, 0
	for _, r := range received {
		total += r
	}
	for _, c := range spawned {
		n += c
	}
	t.Logf("%d short-lived clients on %d servers in %v (%v); %d steady clients each got all their room's lines, %d in all",
		n, servers, churned.Round(time.Millisecond), spawned, steady, total)

	// Every server shows exactly the steady clients in each room: no
	// churner is left over anywhere.
	for i := range servers {
		for _, room := range rooms {
			want := 0
			for j := range wb {
				if roomOf(j) == room {
					want++
				}
			}
			waitRoomCount(t, wb[i], room, want)
		}
	}
	waitBack(t, "goroutines", baseGoroutines, runtime.NumGoroutine)
	waitBack(t, "open sockets and pipes", baseFDs, func() int { return openSockets(t) })
	for i, nd := range nodes {
		if a := nd.Server.Server.Active(); a != steady/servers {
			t.Errorf("server %d: %d sessions active, want its %d steady ones", i+1, a, steady/servers)
		}
	}
}

// clusterChurnMode is one way a short-lived client behaves: run gets the
// server's address, a fresh nickname and the nickname of a steady client
// on another server.
type clusterChurnMode struct {
	name string
	run  func(addr, nick, other string) error
}

// clusterChurnModes: leaving in every way (quit, half-close, reset,
// hang-up in the middle of a line, never naming, bad and taken names,
// never reading), and doing what crosses servers (rename, join and part
// the shared rooms and a room of its own, a private message to another
// server).
var clusterChurnModes = []clusterChurnMode{
	{"quit", func(addr, nick, _ string) error {
		return withLogin(addr, nick, func(c *chatConn) error {
			if err := c.send("hello from " + nick + "\n/quit bye"); err != nil {
				return err
			}
			return c.toEOF()
		})
	}},
	{"half-close", func(addr, nick, _ string) error {
		return withLogin(addr, nick, func(c *chatConn) error {
			if err := c.write([]byte("hello\nlast words without a line end")); err != nil {
				return err
			}
			if err := c.conn.CloseWrite(); err != nil {
				return err
			}
			return c.toEOF()
		})
	}},
	{"reset", func(addr, nick, _ string) error {
		return withLogin(addr, nick, func(c *chatConn) error {
			err := c.send("bye")
			c.reset()
			return err
		})
	}},
	{"mid-line", func(addr, nick, _ string) error {
		return withLogin(addr, nick, func(c *chatConn) error {
			return c.write([]byte("half a li"))
		})
	}},
	{"no-name", func(addr, _, _ string) error {
		c, err := dialChat(addr)
		if err != nil {
			return err
		}
		defer c.close()
		return c.until(promptText)
	}},
	{"bad-and-taken-names", func(addr, _, other string) error {
		c, err := dialChat(addr)
		if err != nil {
			return err
		}
		defer c.close()
		if err := c.until(promptText); err != nil {
			return err
		}
		for _, bad := range []string{"x y", "x\x1b[2J", other} {
			if err := c.send(bad); err != nil {
				return err
			}
			if err := c.until(promptText); err != nil {
				return fmt.Errorf("after %q: %w", bad, err)
			}
		}
		return c.conn.CloseWrite()
	}},
	{"rename", func(addr, nick, other string) error {
		return withLogin(addr, nick, func(c *chatConn) error {
			renamed := "cx" + strings.TrimPrefix(nick, "ch")
			if err := c.send("/nick " + other); err != nil {
				return err
			}
			if _, err := c.expect("taken"); err != nil {
				return err
			}
			if err := c.send("/nick " + renamed); err != nil {
				return err
			}
			if _, err := c.expect("You are now known as " + renamed); err != nil {
				return err
			}
			if err := c.send("renamed\n/quit"); err != nil {
				return err
			}
			return c.toEOF()
		})
	}},
	{"join-part", func(addr, nick, _ string) error {
		return withLogin(addr, nick, func(c *chatConn) error {
			for _, step := range []struct{ send, want string }{
				{"/join den", "You are now in #den"},
				{"passing through den", ""},
				{"/join side" + nick[len(nick)-1:], "You are now in #side"},
				{"a room of our own", ""},
				{"/part", "You are now in #lobby"},
				{"back in the lobby", ""},
			} {
				if err := c.send(step.send); err != nil {
					return err
				}
				if step.want != "" {
					if _, err := c.expect(step.want); err != nil {
						return err
					}
				}
			}
			if err := c.send("/quit"); err != nil {
				return err
			}
			return c.toEOF()
		})
	}},
	{"private", func(addr, nick, other string) error {
		return withLogin(addr, nick, func(c *chatConn) error {
			if err := c.send("/msg " + other + " hello across"); err != nil {
				return err
			}
			if _, err := c.expect("-> *" + other + "* hello across"); err != nil {
				return err
			}
			if err := c.send("/quit"); err != nil {
				return err
			}
			return c.toEOF()
		})
	}},
	{"never-reads", func(addr, nick, _ string) error {
		return withLogin(addr, nick, func(c *chatConn) error {
			if err := c.send("/join den\nI never read"); err != nil {
				return err
			}
			time.Sleep(300 * time.Millisecond) // stays a while as chat piles up unread
			return nil
		})
	}},
}

// promptText is the nickname prompt; it has no line end.
const promptText = "Choose a nickname: "

// maxPending bounds what chatConn.until reads while looking for a marker.
const maxPending = 1 << 20

// chatConn is a raw TCP chat client, like nc, whose methods return errors
// instead of failing the test, so that any goroutine may drive it.
type chatConn struct {
	conn *net.TCPConn
	r    *bufio.Reader
	nick string
}

// dialChat connects to addr.
func dialChat(addr string) (*chatConn, error) {
	c, err := net.DialTimeout("tcp", addr, servertest.Timeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &chatConn{conn: c.(*net.TCPConn), r: bufio.NewReaderSize(c, 64<<10)}, nil
}

// withLogin dials addr, logs in as nick, runs f and closes the connection.
func withLogin(addr, nick string, f func(*chatConn) error) error {
	c, err := dialChat(addr)
	if err != nil {
		return err
	}
	defer c.close()
	if err := c.login(nick); err != nil {
		return err
	}
	return f(c)
}

func (c *chatConn) who() string {
	if c.nick == "" {
		return c.conn.LocalAddr().String()
	}
	return c.nick
}

// login answers the prompt with nick and waits until it is in a room.
func (c *chatConn) login(nick string) error {
	if err := c.until(promptText); err != nil {
		return err
	}
	if err := c.send(nick); err != nil {
		return err
	}
	if _, err := c.expect("*** Welcome, " + nick + "!"); err != nil {
		return err
	}
	if _, err := c.expect("You are now in #"); err != nil {
		return err
	}
	c.nick = nick
	return nil
}

func (c *chatConn) write(b []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(servertest.Timeout))
	if _, err := c.conn.Write(b); err != nil {
		return fmt.Errorf("%s: write: %w", c.who(), err)
	}
	return nil
}

// send writes text and a line end.
func (c *chatConn) send(text string) error { return c.write([]byte(text + "\n")) }

// until reads up to and including marker (which need not end a line).
func (c *chatConn) until(marker string) error {
	_ = c.conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
	var sb strings.Builder
	for !strings.HasSuffix(sb.String(), marker) {
		b, err := c.r.ReadByte()
		if err != nil {
			return fmt.Errorf("%s: waiting for %q: %w (got %q)", c.who(), marker, err, tail(sb.String()))
		}
		if sb.Len() >= maxPending {
			return fmt.Errorf("%s: no %q in %d bytes", c.who(), marker, sb.Len())
		}
		sb.WriteByte(b)
	}
	return nil
}

// line reads one line without its line end.
func (c *chatConn) line() (string, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
	l, err := c.r.ReadString('\n')
	if err != nil {
		return l, fmt.Errorf("%s: read: %w", c.who(), err)
	}
	return strings.TrimRight(l, "\r\n"), nil
}

// expect reads lines until one contains want.
func (c *chatConn) expect(want string) (string, error) {
	var last string
	for {
		l, err := c.line()
		if err != nil {
			return "", fmt.Errorf("waiting for %q (last line %q): %w", want, last, err)
		}
		if strings.Contains(l, want) {
			return l, nil
		}
		last = l
	}
}

// awaitAll reads lines until each of nicks has said text, in any order.
func (c *chatConn) awaitAll(nicks []string, text string) error {
	missing := map[string]bool{}
	for _, n := range nicks {
		missing["<"+n+"> "+text] = true
	}
	for len(missing) > 0 {
		l, err := c.line()
		if err != nil {
			return fmt.Errorf("waiting for %d more %q: %w", len(missing), text, err)
		}
		delete(missing, l)
	}
	return nil
}

// toEOF reads until the server closes the connection.
func (c *chatConn) toEOF() error {
	_ = c.conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
	if _, err := io.Copy(io.Discard, c.r); err != nil {
		return fmt.Errorf("%s: waiting for the end: %w", c.who(), err)
	}
	return nil
}

// reset closes with a TCP reset.
func (c *chatConn) reset() {
	_ = c.conn.SetLinger(0)
	c.close()
}

func (c *chatConn) close() { _ = c.conn.Close() }

func tail(s string) string {
	if len(s) > 200 {
		return "..." + s[len(s)-200:]
	}
	return s
}

// followPeers reads c's lines until every peer has said "end N", and
// checks that each peer's numbered lines ("<peer> 0", "<peer> 1", ...)
// came exactly once and in order, and that N is the count. Other lines
// (other users, notices, history) are ignored. It returns the numbered
// lines seen.
func followPeers(c *chatConn, peers []string) (int, error) {
	next := map[string]int{} // peer -> next number; -1 once ended
	for _, p := range peers {
		next[p] = 0
	}
	open, total := len(peers), 0
	for open > 0 {
		l, err := c.line()
		if err != nil {
			return total, fmt.Errorf("%d peers not ended: %w", open, err)
		}
		nick, text, ok := strings.Cut(strings.TrimPrefix(l, "<"), "> ")
		if !ok || !strings.HasPrefix(l, "<") {
			continue
		}
		want, followed := next[nick]
		switch {
		case !followed:
			continue
		case want < 0:
			return total, fmt.Errorf("%s: got %q from %s after its end", c.nick, l, nick)
		}
		if count, isEnd := strings.CutPrefix(text, "end "); isEnd {
			if count != strconv.Itoa(want) {
				return total, fmt.Errorf("%s: %s ended after %s lines, got %d", c.nick, nick, count, want)
			}
			next[nick] = -1
			open--
			continue
		}
		got, err := strconv.Atoi(text)
		switch {
		case err != nil:
			return total, fmt.Errorf("%s: unexpected line %q", c.nick, l)
		case got < want:
			return total, fmt.Errorf("%s: %s's line %d again or late, after %d", c.nick, nick, got, want-1)
		case got > want:
			return total, fmt.Errorf("%s: %s's line %d came before %d (lost or reordered)", c.nick, nick, got, want)
		}
		next[nick] = want + 1
		total++
	}
	return total, nil
}

// waitRoomCount asks /who ROOM through c until the server shows want
// users in it, or fails at the deadline.
func waitRoomCount(t *testing.T, c *chatConn, room string, want int) {
	t.Helper()
	prefix := fmt.Sprintf("*** %d in #%s:", want, room)
	deadline := time.Now().Add(servertest.Timeout)
	for {
		if err := c.send("/who " + room); err != nil {
			t.Fatal(err)
		}
		l, err := c.expect(" in #" + room)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(l, prefix) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's server shows %q, want %d users", c.nick, l, want)
		}
		time.Sleep(20 * time.Millisecond) // a poll interval, not a synchronization
	}
}

// waitBack waits until now() is back to at most base, and dumps the
// goroutines if it never is.
func waitBack(t *testing.T, what string, base int, now func() int) {
	t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		got := now()
		if got <= base {
			t.Logf("%s back to %d (baseline %d)", what, got, base)
			return
		}
		if time.Now().After(deadline) {
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			t.Fatalf("%s: %d, baseline %d", what, got, base)
		}
		time.Sleep(5 * time.Millisecond) // polling
	}
}

// openSockets counts this process's descriptors that are not files on
// disk (sockets, pipes, epoll): what a client leaves behind if its
// connection is not closed. Files are left out: JetStream opens and
// closes its store's blocks as the streams grow.
func openSockets(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	n := 0
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if errors.Is(err, os.ErrNotExist) {
			continue // closed since the listing
		}
		if err != nil || !strings.HasPrefix(target, "/") {
			n++
		}
	}
	return n
}
