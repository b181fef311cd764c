package client_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"telchat/client"
	"telchat/hub"
	"telchat/internal/servertest"
)

// waitSessions waits until the server has exactly n sessions and the hub n
// connections.
func waitSessions(t *testing.T, s *servertest.Server, n int64) {
	t.Helper()
	servertest.WaitFor(t, fmt.Sprintf("%d sessions", n), func() bool {
		return s.Server.Active() == n && s.Hub.Counters.ConnectionsNow.Load() == n
	})
}

// endAll closes the clients and waits until no session is left.
func endAll(t *testing.T, s *servertest.Server, clients ...*servertest.Client) {
	t.Helper()
	for _, c := range clients {
		_ = c.Conn.Close()
	}
	waitSessions(t, s, 0)
}

// noLinesFrom syncs c and fails if any line read meanwhile contains what.
func noLinesFrom(t *testing.T, c *servertest.Client, what string) {
	t.Helper()
	for _, l := range c.Sync() {
		if strings.Contains(l, what) {
			t.Fatalf("%s: unexpected line %q", c.Nick, l)
		}
	}
}

// sessionsByStart records the server's sessions in the order they start.
type sessionsByStart struct {
	mu   sync.Mutex
	list []*client.Session
}

func (l *sessionsByStart) connState(s *client.Session, st client.State) {
	if st != client.StateNew {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, s)
}

// nth returns the i-th session started (from 0).
func (l *sessionsByStart) nth(t *testing.T, i int) *client.Session {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if i >= len(l.list) {
		t.Fatalf("session %d not started (%d so far)", i, len(l.list))
	}
	return l.list[i]
}

// burst has from send n numbered lines of about size bytes ("<n> yyy...").
func burst(from *servertest.Client, n, size int) {
	pad := strings.Repeat("y", size)
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%d %s\n", i, pad)
	}
	from.Write([]byte(b.String()))
}

// expectNumbered reads the numbered lines 0..n-1 from nick on c, in order.
func expectNumbered(t *testing.T, c *servertest.Client, nick string, n int) {
	t.Helper()
	prefix := "<" + nick + "> "
	for next := 0; next < n; next++ {
		l := c.Expect(prefix)
		num, _, _ := strings.Cut(strings.TrimPrefix(l, prefix), " ")
		if num != strconv.Itoa(next) {
			t.Fatalf("%s: got line %s from %s, want %d", c.Nick, num, nick, next)
		}
	}
}

// TestHalfClose: after the client's FIN every complete line is processed,
// the unterminated last line counts, replies are written, then the server
// closes cleanly (EOF, not a reset).
func TestHalfClose(t *testing.T) {
	cases := []struct {
		name      string
		input     string
		fullClose bool     // close instead of CloseWrite (a hangup mid-line)
		bobSees   []string // lines from alice, in order
		aliceGets string   // in alice's output before EOF
		leave     string
	}{
		{name: "unterminated text", input: "one\ntwo\r\nthree",
			bobSees: []string{"<alice> one", "<alice> two", "<alice> three"}, leave: "(hangup)"},
		{name: "unterminated command", input: "/whois alice",
			aliceGets: "*** alice is in #lobby", leave: "(hangup)"},
		{name: "unterminated quit", input: "/quit see you",
			aliceGets: "*** Goodbye, alice!", leave: "(quit: see you)"},
		{name: "ends in CR", input: "x\r", bobSees: []string{"<alice> x"}, leave: "(hangup)"},
		{name: "ends inside IAC", input: "abc\xff", bobSees: []string{"<alice> abc"}, leave: "(hangup)"},
		{name: "ends inside subnegotiation", input: "abc\xff\xfa\x18\x00xterm",
			bobSees: []string{"<alice> abc"}, leave: "(hangup)"},
		{name: "hangup mid-line", input: "first\nhalf a li", fullClose: true,
			bobSees: []string{"<alice> first", "<alice> half a li"}, leave: "(hangup)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{})
			bob := s.Login(t, "bob")
			alice := s.Login(t, "alice")
			bob.Expect("*** alice joined")
			alice.Write([]byte(tc.input))
			if tc.fullClose {
				_ = alice.Conn.Close()
			} else {
				if err := alice.Conn.CloseWrite(); err != nil {
					t.Fatal(err)
				}
				out := alice.ExpectEOF()
				if !strings.Contains(out, tc.aliceGets) {
					t.Fatalf("alice's output %q lacks %q", out, tc.aliceGets)
				}
			}
			for _, want := range tc.bobSees {
				expectExactLine(t, bob, "<alice>", want)
			}
			expectExactLine(t, bob, "*** alice left", "*** alice left #lobby "+tc.leave)
			noLinesFrom(t, bob, "alice")
			waitSessions(t, s, 1)
			endAll(t, s, bob)
		})
	}
}

// TestQuitThenMoreBytes: /quit followed at once by more input. The goodbye
// is flushed, then the server half-closes and reads and discards input
// until the client's EOF (or the linger time), so unread input never turns
// the close into a reset that would destroy the goodbye.
func TestQuitThenMoreBytes(t *testing.T) {
	more := strings.Repeat("more input\n", 6000) // 66 kB
	cases := []struct {
		name      string
		linger    time.Duration
		halfClose bool
	}{
		// The client's FIN ends the linger: with a linger of a minute the
		// session must still end within the test's wait.
		{"client half-closes", time.Minute, true},
		// The client keeps its side open: the linger ends the session.
		{"client stays open", 200 * time.Millisecond, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{Client: client.Config{Linger: tc.linger}})
			bob := s.Login(t, "bob")
			alice := s.Login(t, "alice")
			bob.Expect("*** alice joined")
			alice.Write([]byte("/quit gone fishing\n" + more))
			if tc.halfClose {
				if err := alice.Conn.CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			out := alice.ExpectEOF() // fails on a reset
			if !strings.HasSuffix(out, "*** Goodbye, alice!\r\n") {
				t.Fatalf("output before EOF %q, want the goodbye last", out)
			}
			expectExactLine(t, bob, "*** alice left", "*** alice left #lobby (quit: gone fishing)")
			noLinesFrom(t, bob, "alice") // nothing after /quit was said
			waitSessions(t, s, 1)
			endAll(t, s, bob)
		})
	}
}

// TestResetRemovesClientExactlyOnce: a client that resets its connection
// (SO_LINGER 0) ends both of its session's goroutines; the hub removes it
// once, the others see one leave line, and the nickname is free again.
func TestResetRemovesClientExactlyOnce(t *testing.T) {
	cases := []struct {
		name    string
		prepare func(t *testing.T, alice, bob *servertest.Client)
	}{
		{"idle", func(*testing.T, *servertest.Client, *servertest.Client) {}},
		{"mid-line", func(_ *testing.T, alice, _ *servertest.Client) { alice.Write([]byte("half a li")) }},
		{"while the server writes to it", func(_ *testing.T, alice, bob *servertest.Client) {
			_ = alice.Conn.SetReadBuffer(4096)
			burst(bob, 1000, 500)
			bob.Sync() // the hub has queued the whole burst for alice
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{})
			bob := s.Login(t, "bob")
			alice := s.Login(t, "alice")
			bob.Expect("*** alice joined")
			tc.prepare(t, alice, bob)
			_ = alice.Conn.SetLinger(0)
			_ = alice.Conn.Close()
			l := bob.Expect("*** alice left")
			if !strings.HasPrefix(l, "*** alice left #lobby (hangup") {
				t.Fatalf("bob got %q, want a hangup", l)
			}
			noLinesFrom(t, bob, "alice")
			waitSessions(t, s, 1)
			again := s.Login(t, "alice")
			endAll(t, s, bob, again)
		})
	}
}

// TestSilentClients: connections that never send a byte end cleanly, and
// nobody is told (they had no nickname).
func TestSilentClients(t *testing.T) {
	s := servertest.Start(t, servertest.Config{Hub: hub.Config{NickTimeout: time.Second}})
	bob := s.Login(t, "bob")

	closed := s.Dial(t) // reads the greeting, then closes: FIN
	closed.ExpectPrompt()
	_ = closed.Conn.Close()

	reset := s.Dial(t) // reads nothing, resets
	_ = reset.Conn.SetLinger(0)
	_ = reset.Conn.Close()

	halfClosed := s.Dial(t) // half-closes: the server answers with EOF
	halfClosed.ExpectPrompt()
	if err := halfClosed.Conn.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if out := halfClosed.ExpectEOF(); out != "" {
		t.Fatalf("half-closed silent client got %q", out)
	}

	waiting := s.Dial(t) // stays silent until the nickname timeout
	waiting.ExpectPrompt()
	if out := waiting.ExpectEOF(); !strings.Contains(out, "Timed out waiting for a nickname") {
		t.Fatalf("silent client got %q, want the timeout notice", out)
	}
	_ = waiting.Conn.Close()

	waitSessions(t, s, 1)
	noLinesFrom(t, bob, "left")
	endAll(t, s, bob, waiting)
}

// TestSlowConsumerDropped: a user who never reads while others chat is
// dropped with reason slow, whether its queue passes its cap or its writes
// stall for the write timeout; the others lose nothing and stay in order.
func TestSlowConsumerDropped(t *testing.T) {
	cases := []struct {
		name string
		cfg  client.Config
	}{
		// The write timeout is far away: the queue cap must do it.
		{"queue cap", client.Config{MaxQueueBytes: 256 << 10, WriteTimeout: time.Minute}},
		// The queue cap is far away: the stalled writes must do it.
		{"stalled writes", client.Config{MaxQueueBytes: 256 << 20, WriteTimeout: 300 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{Client: tc.cfg})
			slowpoke := s.Login(t, "slowpoke")
			_ = slowpoke.Conn.SetReadBuffer(4096)
			alice := s.Login(t, "alice")
			bob := s.Login(t, "bob")

			// alice talks in rounds of 100 lines until bob sees slowpoke
			// dropped; bob checks every line arrives, in order.
			next, sent := 0, 0
			deadline := time.Now().Add(2 * servertest.Timeout)
		rounds:
			for round := 0; ; round++ {
				if time.Now().After(deadline) || round > 10000 {
					t.Fatal("slowpoke was never dropped")
				}
				var b strings.Builder
				for range 100 {
					fmt.Fprintf(&b, "%d %s\n", sent, strings.Repeat("y", 900))
					sent++
				}
				alice.Write([]byte(b.String()))
				for next < sent {
					l := bob.Line()
					if l == "*** slowpoke left #lobby (slow)" {
						break rounds
					}
					if rest, ok := strings.CutPrefix(l, "<alice> "); ok {
						num, _, _ := strings.Cut(rest, " ")
						if num != strconv.Itoa(next) {
							t.Fatalf("bob got line %s, want %d", num, next)
						}
						next++
					}
				}
			}
			for next < sent {
				l := bob.Expect("<alice> ")
				num, _, _ := strings.Cut(strings.TrimPrefix(l, "<alice> "), " ")
				if num != strconv.Itoa(next) {
					t.Fatalf("bob got line %s, want %d", num, next)
				}
				next++
			}
			noLinesFrom(t, bob, "left")
			waitSessions(t, s, 2)
			// Whichever rule cut it, the server's end is reset, not closed:
			// what the kernel still held for the client is discarded at
			// once instead of pinning socket memory while it drains.
			servertest.WaitFor(t, "the server's socket of the slow client to be gone", func() bool {
				return !serverSocketExists(t, slowpoke.Conn)
			})
			endAll(t, s, alice, bob, slowpoke)
		})
	}
}

// bigBurst is more than the kernel buffers between the server and a client
// that does not read (about 4 MB on Linux loopback: the server's send
// buffer grows to tcp_wmem's maximum), so the rest waits in the session's
// queue. bigQueue is a queue cap that holds it.
const (
	bigBurstLines = 8000
	bigBurstSize  = 1000
	bigBurstBytes = bigBurstLines * bigBurstSize
	bigQueue      = 32 << 20
)

// checkBehind fails unless the session has written less than the burst:
// its writer is blocked with the rest in hand or queued.
func checkBehind(t *testing.T, sess *client.Session) {
	t.Helper()
	if st := sess.State(); st != client.StateActive {
		t.Fatalf("session is %v, want active", st)
	}
	if out := sess.Stats().BytesOut; out >= bigBurstBytes {
		t.Fatalf("session wrote %d bytes of a %d-byte burst: not behind", out, bigBurstBytes)
	}
}

// TestBehindButProgressingIsNotCut: a reader that falls behind during a
// burst (its writes block) but keeps making progress is not dropped.
func TestBehindButProgressingIsNotCut(t *testing.T) {
	t.Run("pauses, then catches up", func(t *testing.T) {
		var sessions sessionsByStart
		s := servertest.Start(t, servertest.Config{Client: client.Config{
			MaxQueueBytes: bigQueue, WriteTimeout: 5 * time.Second, ConnState: sessions.connState}})
		lagger := s.Login(t, "lagger")
		alice := s.Login(t, "alice")
		bob := s.Login(t, "bob")
		burst(alice, bigBurstLines, bigBurstSize)
		expectNumbered(t, bob, "alice", bigBurstLines) // meanwhile lagger reads nothing
		checkBehind(t, sessions.nth(t, 0))
		// The batch in the writer's hands counts against the byte cap like
		// the queue: written plus held covers the whole burst.
		servertest.WaitFor(t, "the session to account for every byte of the burst", func() bool {
			st := sessions.nth(t, 0).Stats()
			return st.BytesOut+st.QueuedBytes >= bigBurstBytes
		})
		expectNumbered(t, lagger, "alice", bigBurstLines)
		lagger.Sync()
		noLinesFrom(t, bob, "left")
		endAll(t, s, lagger, alice, bob)
	})
	t.Run("reads slowly throughout", func(t *testing.T) {
		// The writer's batch takes seconds to drain at the reader's pace
		// (8 MB at about 3 MB/s), more than twice the write timeout, but
		// every write makes progress. The timeout also covers the time
		// lagger reads nothing while bob takes the burst, which the race
		// detector on a busy machine can stretch past a few hundred ms.
		var sessions sessionsByStart
		s := servertest.Start(t, servertest.Config{Client: client.Config{
			MaxQueueBytes: bigQueue, WriteTimeout: time.Second, ConnState: sessions.connState}})
		lagger := s.Login(t, "lagger")
		alice := s.Login(t, "alice")
		bob := s.Login(t, "bob")
		burst(alice, bigBurstLines, bigBurstSize)
		// bob reads the burst meanwhile, on his own goroutine: lagger must
		// read from the start, or a busy machine could keep it silent for
		// a whole write timeout while bob reads.
		bobDone := make(chan error, 1)
		go func() {
			prefix := "<alice> "
			for next := 0; next < bigBurstLines; {
				l, err := bob.TryLine()
				if err != nil {
					bobDone <- err
					return
				}
				if rest, ok := strings.CutPrefix(l, prefix); ok {
					if num, _, _ := strings.Cut(rest, " "); num != strconv.Itoa(next) {
						bobDone <- fmt.Errorf("bob got line %s, want %d", num, next)
						return
					}
					next++
				}
			}
			bobDone <- nil
		}()
		// lagger takes the burst at about 3 MB/s: 16 lines every 5 ms.
		pace := time.NewTicker(5 * time.Millisecond)
		defer pace.Stop()
		prefix := "<alice> "
		for next := 0; next < bigBurstLines; {
			<-pace.C
			for range 16 {
				l := lagger.Line()
				if !strings.HasPrefix(l, prefix) {
					continue
				}
				num, _, _ := strings.Cut(strings.TrimPrefix(l, prefix), " ")
				if num != strconv.Itoa(next) {
					t.Fatalf("lagger got line %s, want %d", num, next)
				}
				if next++; next == bigBurstLines {
					break
				}
			}
		}
		if err := <-bobDone; err != nil {
			t.Fatal(err)
		}
		lagger.Sync()
		noLinesFrom(t, bob, "left")
		endAll(t, s, lagger, alice, bob)
	})
}

// TestKickedByAdmin: a user kicked by an admin gets the notice, then EOF;
// the others see the kick.
func TestKickedByAdmin(t *testing.T) {
	s := servertest.Start(t, servertest.Config{Hub: hub.Config{
		PasswordCheck: func(p string) bool { return p == "pw" }}})
	admin := s.Login(t, "ada")
	admin.Send("/oper pw")
	admin.Expect("You are now an admin")
	bob := s.Login(t, "bob")
	alice := s.Login(t, "alice")
	bob.Expect("*** alice joined")
	alice.Write([]byte("half a li")) // mid-line when kicked
	admin.Send("/kick alice spamming")
	out := alice.ExpectEOF()
	if !strings.Contains(out, "kicked by ada: spamming") {
		t.Fatalf("kicked user got %q", out)
	}
	_ = alice.Conn.Close()
	l := bob.Expect("*** alice left")
	if !strings.HasPrefix(l, "*** alice left #lobby (kicked") {
		t.Fatalf("bob got %q", l)
	}
	noLinesFrom(t, bob, "alice")
	waitSessions(t, s, 2)
	endAll(t, s, admin, bob, alice)
}

// TestShutdownWithBusyClients: every client gets the notice and EOF, even one
// typing a line and one with a long queue; Shutdown returns before its
// deadline and no session is left.
func TestShutdownWithBusyClients(t *testing.T) {
	t.Run("mid-line, silent and full queue", func(t *testing.T) {
		var sessions sessionsByStart
		s := servertest.Start(t, servertest.Config{Client: client.Config{
			MaxQueueBytes: bigQueue, WriteTimeout: 5 * time.Second, ConnState: sessions.connState}})
		lagger := s.Login(t, "lagger")
		alice := s.Login(t, "alice")
		bob := s.Login(t, "bob")
		silent := s.Dial(t)
		silent.ExpectPrompt()
		alice.Write([]byte("half a li"))
		burst(bob, bigBurstLines, bigBurstSize)
		expectNumbered(t, alice, "bob", bigBurstLines) // lagger has read nothing
		checkBehind(t, sessions.nth(t, 0))

		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		defer cancel()
		shut := make(chan error, 1)
		go func() { shut <- s.Server.Shutdown(ctx, "going down") }()

		for _, c := range []*servertest.Client{alice, bob, silent} {
			if out := c.ExpectEOF(); !strings.HasSuffix(out, "*** going down\r\n") {
				t.Fatalf("%s: output before EOF %q, want the notice last", c.Nick, out)
			}
			_ = c.Conn.Close()
		}
		expectNumbered(t, lagger, "bob", bigBurstLines)
		if out := lagger.ExpectEOF(); !strings.HasSuffix(out, "*** going down\r\n") {
			t.Fatalf("lagger: output before EOF ends %q, want the notice last", out[max(0, len(out)-200):])
		}
		_ = lagger.Conn.Close()
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if n := s.Server.Active(); n != 0 {
			t.Fatalf("%d sessions left after Shutdown", n)
		}
	})
	t.Run("a client that never reads", func(t *testing.T) {
		// Its writes stall: it must be cut once its writes have made no
		// progress for the write timeout (2 s; the kernel may still take a
		// trickle of bytes shortly after the burst), well before Shutdown's
		// deadline of 4.5 s. A writer that let any progress within a
		// timeout buy a fresh one took three timeouts here.
		var sessions sessionsByStart
		s := servertest.Start(t, servertest.Config{Client: client.Config{
			MaxQueueBytes: bigQueue, WriteTimeout: 2 * time.Second, ConnState: sessions.connState}})
		stuck := s.Login(t, "stuck")
		bob := s.Login(t, "bob")
		burst(bob, bigBurstLines, bigBurstSize)
		bob.Sync()
		checkBehind(t, sessions.nth(t, 0))

		ctx, cancel := context.WithTimeout(context.Background(), 4500*time.Millisecond)
		defer cancel()
		shut := make(chan error, 1)
		go func() { shut <- s.Server.Shutdown(ctx, "going down") }()
		if out := bob.ExpectEOF(); !strings.HasSuffix(out, "*** going down\r\n") {
			t.Fatalf("bob: output before EOF %q, want the notice last", out)
		}
		_ = bob.Conn.Close()
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if n := s.Server.Active(); n != 0 {
			t.Fatalf("%d sessions left after Shutdown", n)
		}
		_ = stuck.Conn.Close()
	})
}

// TestClosedOnlyAfterWriterEnds: a client half-closes while a long backlog
// is still queued for it. Its reader ends at once, but the session goes on
// until the writer has flushed the backlog and closed the connection; only
// then may it count as closed (StateClosed, Server.Active), or Shutdown
// could return while a writer still holds a connection.
func TestClosedOnlyAfterWriterEnds(t *testing.T) {
	var (
		sessions sessionsByStart
		mu       sync.Mutex
		states   = map[*client.Session][]client.State{}
	)
	record := func(sess *client.Session, st client.State) {
		sessions.connState(sess, st)
		mu.Lock()
		defer mu.Unlock()
		states[sess] = append(states[sess], st)
	}
	s := servertest.Start(t, servertest.Config{Client: client.Config{
		MaxQueueBytes: bigQueue, WriteTimeout: time.Minute, ConnState: record}})
	lagger := s.Login(t, "lagger")
	bob := s.Login(t, "bob")
	burst(bob, bigBurstLines, bigBurstSize)
	bob.Sync()
	sess := sessions.nth(t, 0)
	checkBehind(t, sess)
	if err := lagger.Conn.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	bob.Expect("*** lagger left #lobby (hangup)")
	expectNumbered(t, lagger, "bob", bigBurstLines)
	lagger.ExpectEOF()
	waitSessions(t, s, 1)
	want := []client.State{client.StateNew, client.StateActive, client.StateClosing, client.StateClosed}
	mu.Lock()
	got := states[sess]
	mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("session states %v, want %v", got, want)
	}
	endAll(t, s, bob, lagger)
}

// serverSocketExists reports whether the kernel still has the server's end
// of c's connection, in any state (an orphan in FIN-WAIT-1 holding unsent
// data counts), from /proc/net/tcp.
func serverSocketExists(t *testing.T, c *net.TCPConn) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skipf("cannot read /proc/net/tcp: %v", err)
	}
	local := c.LocalAddr().(*net.TCPAddr)
	remote := c.RemoteAddr().(*net.TCPAddr)
	// The server's end has the server's address as local_address and the
	// client's as rem_address: hex IPv4 in host (little-endian) order, then
	// the port.
	hexAddr := func(a *net.TCPAddr) string {
		ip := a.IP.To4()
		return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], a.Port)
	}
	want := hexAddr(remote) + " " + hexAddr(local)
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 3 && f[1]+" "+f[2] == want {
			return true
		}
	}
	return false
}
