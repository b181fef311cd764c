package client_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"telchat/client"
	"telchat/hub"
	"telchat/internal/servertest"
)

// This file proves the server's limits over real TCP on loopback:
// connections (total, per address, connect rate), messages (token bucket,
// flood), time (nickname, idle, write deadline, keep-alive) and memory (line
// length, outbound queue). hostile_test.go and churn_test.go use its helpers.

// promptText is the nickname prompt; it has no line end.
const promptText = "Choose a nickname: "

// probe is a raw TCP chat client, like nc, whose methods return errors
// instead of failing the test, so that any goroutine may drive it.
type probe struct {
	conn *net.TCPConn
	r    *bufio.Reader
	nick string
}

// dialProbe connects to addr from the loopback address localIP ("" lets the
// system choose).
func dialProbe(localIP, addr string) (*probe, error) {
	d := net.Dialer{Timeout: servertest.Timeout}
	if localIP != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(localIP)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s from %q: %w", addr, localIP, err)
	}
	return &probe{conn: c.(*net.TCPConn), r: bufio.NewReaderSize(c, 64<<10)}, nil
}

// openProbe dials from localIP and closes the probe when the test ends.
func openProbe(t *testing.T, localIP, addr string) *probe {
	t.Helper()
	p, err := dialProbe(localIP, addr)
	failOn(t, err)
	t.Cleanup(p.close)
	return p
}

// loginProbe dials, logs in as nick and closes the probe when the test ends.
func loginProbe(t *testing.T, addr, nick string) *probe {
	t.Helper()
	p := openProbe(t, "", addr)
	failOn(t, p.login(nick))
	return p
}

func (p *probe) who() string {
	if p.nick == "" {
		return p.conn.LocalAddr().String()
	}
	return p.nick
}

func (p *probe) write(b []byte) error {
	_ = p.conn.SetWriteDeadline(time.Now().Add(servertest.Timeout))
	if _, err := p.conn.Write(b); err != nil {
		return fmt.Errorf("%s: write: %w", p.who(), err)
	}
	return nil
}

func (p *probe) send(line string) error { return p.write([]byte(line + "\n")) }

// line reads one line without its line end.
func (p *probe) line() (string, error) {
	_ = p.conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
	l, err := p.r.ReadString('\n')
	if err != nil {
		return l, fmt.Errorf("%s: read (partial %.200q): %w", p.who(), l, err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r"), nil
}

// expect reads lines until one contains want and returns it.
func (p *probe) expect(want string) (string, error) {
	for {
		l, err := p.line()
		if err != nil {
			return "", fmt.Errorf("waiting for %q: %w", want, err)
		}
		if strings.Contains(l, want) {
			return l, nil
		}
	}
}

// until reads until the input ends with marker (the prompt has no line end)
// and returns everything read.
func (p *probe) until(marker string) (string, error) {
	_ = p.conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
	var sb strings.Builder
	for !strings.HasSuffix(sb.String(), marker) {
		b, err := p.r.ReadByte()
		if err != nil {
			return sb.String(), fmt.Errorf("%s: waiting for %q (got %.200q): %w", p.who(), marker, sb.String(), err)
		}
		sb.WriteByte(b)
	}
	return sb.String(), nil
}

// login waits for the nickname prompt, answers it and waits until the user
// is in a room.
func (p *probe) login(nick string) error {
	if _, err := p.until(promptText); err != nil {
		return err
	}
	return p.answer(nick)
}

// answer answers the nickname prompt (already read) and waits until the
// user is in a room.
func (p *probe) answer(nick string) error {
	if err := p.send(nick); err != nil {
		return err
	}
	if _, err := p.expect("*** Welcome, " + nick + "!"); err != nil {
		return err
	}
	if _, err := p.expect("*** You are now in #"); err != nil {
		return err
	}
	p.nick = nick
	return nil
}

// rest reads until the server ends the stream and returns what came; a
// reset or a timeout is an error.
func (p *probe) rest() (string, error) {
	_ = p.conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
	b, err := io.ReadAll(p.r)
	if err != nil {
		return string(b), fmt.Errorf("%s: waiting for EOF (got %.200q): %w", p.who(), b, err)
	}
	return string(b), nil
}

func (p *probe) close() { _ = p.conn.Close() }

// reset closes the connection with a TCP reset.
func (p *probe) reset() {
	_ = p.conn.SetLinger(0)
	_ = p.conn.Close()
}

func failOn(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sessionLog records the server's sessions in the order they were accepted;
// its record method is a client.Config.ConnState.
type sessionLog struct {
	mu   sync.Mutex
	list []*client.Session
}

func (l *sessionLog) record(s *client.Session, st client.State) {
	if st != client.StateNew {
		return
	}
	l.mu.Lock()
	l.list = append(l.list, s)
	l.mu.Unlock()
}

// nth returns the i-th session accepted (from 0).
func (l *sessionLog) nth(t *testing.T, i int) *client.Session {
	t.Helper()
	var s *client.Session
	servertest.WaitFor(t, "session "+strconv.Itoa(i), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		if i < len(l.list) {
			s = l.list[i]
		}
		return s != nil
	})
	return s
}

// openFDs counts the open file descriptors of this process.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(ents)
}

// heapAlloc is the live heap after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// ---- Connections ----

// expectRefused dials from localIP and wants exactly one line saying why,
// then the end of the stream.
func expectRefused(t *testing.T, localIP, addr, why string) {
	t.Helper()
	p := openProbe(t, localIP, addr)
	out, err := p.rest()
	failOn(t, err)
	if want := "! Connection refused: " + why + "\r\n"; out != want {
		t.Fatalf("connection from %s got %q, want exactly %q and EOF", localIP, out, want)
	}
	p.close()
}

// expectAdmitted dials from localIP and wants the nickname prompt.
func expectAdmitted(t *testing.T, localIP, addr string) *probe {
	t.Helper()
	p := openProbe(t, localIP, addr)
	_, err := p.until(promptText)
	failOn(t, err)
	return p
}

const (
	ipA = "127.0.0.1"
	ipB = "127.0.0.2" // loopback too: a second client address on the same host
)

func TestConnectionLimits(t *testing.T) {
	const (
		full    = "the server is full, try again later"
		tooMany = "too many connections from your address"
	)
	leaveByQuit := func(t *testing.T, p *probe) {
		failOn(t, p.answer("leaver"))
		failOn(t, p.send("/quit"))
		out, err := p.rest()
		failOn(t, err)
		if !strings.Contains(out, "Goodbye, leaver") {
			t.Fatalf("no goodbye in %q", out)
		}
		p.close()
	}
	leaveByReset := func(t *testing.T, p *probe) { p.reset() }
	leaveByHalfClose := func(t *testing.T, p *probe) {
		failOn(t, p.conn.CloseWrite())
		_, err := p.rest()
		failOn(t, err)
		p.close()
	}
	cases := []struct {
		name   string
		cfg    client.Config
		admit  []string // addresses of the connections let in, in order
		refuse []string // addresses of the connections then refused
		why    string
		leave  func(*testing.T, *probe) // how the first admitted one leaves
		again  string                   // this address gets in once it left
	}{
		{"max-clients", client.Config{MaxClients: 2}, []string{ipA, ipB}, []string{ipA, ipB}, full, leaveByQuit, ipB},
		{"max-clients-half-close", client.Config{MaxClients: 1}, []string{ipA}, []string{ipA, ipB}, full, leaveByHalfClose, ipB},
		{"max-per-ip", client.Config{MaxPerIP: 2}, []string{ipA, ipA, ipB, ipB}, []string{ipA, ipB}, tooMany, leaveByReset, ipA},
		{"max-per-ip-one", client.Config{MaxPerIP: 1, MaxClients: 10}, []string{ipA, ipB}, []string{ipA}, tooMany, leaveByQuit, ipA},
		{"both-off", client.Config{}, []string{ipA, ipA, ipA, ipA, ipB}, nil, "", leaveByReset, ipA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{Client: tc.cfg})
			var in []*probe
			for _, ip := range tc.admit {
				in = append(in, expectAdmitted(t, ip, s.Addr))
			}
			for _, ip := range tc.refuse {
				expectRefused(t, ip, s.Addr, tc.why)
			}
			if got := s.Server.Refused(); got != int64(len(tc.refuse)) {
				t.Fatalf("Refused() = %d, want %d", got, len(tc.refuse))
			}
			if got := s.Hub.Counters.Refused.Load(); got != int64(len(tc.refuse)) {
				t.Fatalf("the hub's Refused counter (/stats) = %d, want %d", got, len(tc.refuse))
			}
			// The refused ones did not disturb the ones let in.
			failOn(t, in[len(in)-1].answer("stayer"))
			tc.leave(t, in[0])
			servertest.WaitFor(t, "the leaver's session to end", func() bool {
				return s.Server.Active() == int64(len(tc.admit)-1)
			})
			p := expectAdmitted(t, tc.again, s.Addr)
			failOn(t, p.answer("newcomer"))
		})
	}
}

// closedAtOnce reports whether the server side of p is fully closed: data
// sent to it is answered with a reset. A side that lingers (half-closed,
// reading and discarding) takes the data silently.
func closedAtOnce(p *probe) bool {
	_ = p.conn.SetDeadline(time.Now().Add(200 * time.Millisecond))
	defer p.conn.SetDeadline(time.Time{})
	if _, err := p.conn.Write([]byte("x\n")); err != nil {
		return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
	}
	_, err := p.r.ReadByte()
	return errors.Is(err, syscall.ECONNRESET)
}

func TestRefusalsLingerUpToACap(t *testing.T) {
	const full = "the server is full, try again later"
	// Lingering refusals last a minute here, so a reset can only come from
	// a refusal that did not linger.
	s := servertest.Start(t, servertest.Config{Client: client.Config{MaxClients: 1, MaxRefusing: 1, Linger: time.Minute}})
	expectAdmitted(t, ipA, s.Addr)

	lingering := openProbe(t, ipA, s.Addr) // the one refusal allowed to linger
	out, err := lingering.rest()
	failOn(t, err)
	if want := "! Connection refused: " + full + "\r\n"; out != want {
		t.Fatalf("first refused connection got %q, want %q", out, want)
	}
	// Over the cap: the line, then a full close (a reset answers more data).
	over := openProbe(t, ipB, s.Addr)
	out, err = over.rest()
	failOn(t, err)
	if want := "! Connection refused: " + full + "\r\n"; out != want {
		t.Fatalf("refused connection over the cap got %q, want %q", out, want)
	}
	servertest.WaitFor(t, "a reset from the refusal over the cap", func() bool { return closedAtOnce(over) })
	if closedAtOnce(lingering) {
		t.Fatal("the refusal under the cap did not linger")
	}
	// Once the lingering one is gone, refusals linger again.
	lingering.close()
	servertest.WaitFor(t, "the lingering refusal to end", func() bool { return s.Server.Refusing() == 0 })
	again := openProbe(t, ipB, s.Addr)
	_, err = again.rest()
	failOn(t, err)
	if closedAtOnce(again) {
		t.Fatal("a refusal under the cap did not linger")
	}
}

func TestConnectRateLimit(t *testing.T) {
	t.Parallel() // it waits for time to pass
	// Half a connection per second after a burst of 3: four quick dials
	// from one address cannot all get in, whatever the scheduling.
	s := servertest.Start(t, servertest.Config{Client: client.Config{ConnectRate: 0.5, ConnectBurst: 3}})
	for range 3 {
		p := expectAdmitted(t, ipA, s.Addr)
		p.close() // leaving does not give the token back
	}
	expectRefused(t, ipA, s.Addr, "too many connections from your address, slow down")
	expectAdmitted(t, ipB, s.Addr) // another address has its own bucket
	// The bucket refills: within a few seconds ipA gets in again. Each
	// refused attempt costs nothing.
	deadline := time.Now().Add(servertest.Timeout)
	for attempt := 1; ; attempt++ {
		p := openProbe(t, ipA, s.Addr)
		out, err := p.until(promptText)
		if err == nil {
			failOn(t, p.answer("patient"))
			t.Logf("admitted again after %d refused attempts", attempt-1)
			return
		}
		if !strings.HasPrefix(out, "! Connection refused: ") {
			t.Fatalf("attempt %d: got %q: %v", attempt, out, err)
		}
		p.close()
		if time.Now().After(deadline) {
			t.Fatal("the connect rate bucket never refilled")
		}
		time.Sleep(100 * time.Millisecond) // polling: wait for the bucket
	}
}

// ---- Messages: see pace_test.go ----

// ---- Time ----

func TestNickTimeoutDespiteAttempts(t *testing.T) {
	t.Parallel() // it waits for time to pass
	s := servertest.Start(t, servertest.Config{Hub: hub.Config{NickTimeout: time.Second}})
	bob := s.Login(t, "bob")
	c := s.Dial(t)
	c.ExpectPrompt()
	for _, bad := range []string{"has space", "x!", strings.Repeat("n", 30)} {
		c.Send(bad)
		if l := c.Line(); !strings.HasPrefix(l, "! ") {
			t.Fatalf("nick %q: got %q", bad, l)
		}
		c.ExpectPrompt()
	}
	out := c.ExpectEOF()
	if !strings.Contains(out, "! Timed out waiting for a nickname") {
		t.Fatalf("got %q", out)
	}
	_ = c.Conn.Close() // the server lingers until our end closes too
	servertest.WaitFor(t, "the session to end", func() bool { return s.Server.Active() == 1 })
	// A named user is not subject to the nickname timeout, and nobody was
	// told about a user who never had a name.
	for _, l := range bob.Sync() {
		if strings.Contains(l, "left") {
			t.Fatalf("bob saw %q", l)
		}
	}
}

func TestIdleTimeoutWarnsThenDisconnects(t *testing.T) {
	t.Parallel() // it waits for time to pass
	const idle = 2 * time.Second
	s := servertest.Start(t, servertest.Config{Hub: hub.Config{IdleTimeout: idle}})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	alice.Expect("! You have been idle for ")
	bob.Send("still here") // activity resets bob's clock
	out := alice.ExpectEOF()
	if !strings.Contains(out, "! Disconnected after 2s idle") {
		t.Fatalf("alice got %q", out)
	}
	bob.Expect("*** alice left #lobby (timeout: idle)")
	bob.Sync()
}

// findServerSide looks for the server's socket for the client connection c
// among this process's file descriptors (the server runs in the test
// process).
func findServerSide(t *testing.T, c *net.TCPConn) (int, bool) {
	t.Helper()
	want := c.LocalAddr().(*net.TCPAddr)
	srv := c.RemoteAddr().(*net.TCPAddr)
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list file descriptors: %v", err)
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		local, err1 := syscall.Getsockname(fd)
		peer, err2 := syscall.Getpeername(fd)
		if err1 != nil || err2 != nil {
			continue
		}
		l, ok1 := local.(*syscall.SockaddrInet4)
		p, ok2 := peer.(*syscall.SockaddrInet4)
		if ok1 && ok2 && l.Port == srv.Port && p.Port == want.Port && net.IP(p.Addr[:]).Equal(want.IP) {
			return fd, true
		}
	}
	return -1, false
}

// serverSide returns the server's socket for the client connection c.
func serverSide(t *testing.T, c *net.TCPConn) int {
	t.Helper()
	fd, ok := findServerSide(t, c)
	if !ok {
		t.Fatalf("no server socket for %s", c.LocalAddr())
	}
	return fd
}

// expectServerClosed waits until the server has closed its socket for the
// client connection c. (Reading c to its end is no proof: the kernel may
// trickle out what the server had sent very slowly to a peer that shrank
// its receive buffer.)
func expectServerClosed(t *testing.T, c *net.TCPConn) {
	t.Helper()
	servertest.WaitFor(t, "the server to close its socket", func() bool {
		_, open := findServerSide(t, c)
		return !open
	})
}

func TestKeepAliveOnAcceptedConnections(t *testing.T) {
	cases := []struct {
		name                 string
		keepAlive            time.Duration
		on                   int
		idle, interval, prob int // seconds, seconds, count; checked when on
	}{
		{"default", 0, 1, 30, 15, 4},
		{"six-seconds", 6 * time.Second, 1, 6, 3, 4},
		{"disabled", -1, 0, 0, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{Client: client.Config{KeepAlive: tc.keepAlive}})
			c := s.Login(t, "alice") // the session is set up by now
			fd := serverSide(t, c.Conn)
			opt := func(level, name int) int {
				v, err := syscall.GetsockoptInt(fd, level, name)
				failOn(t, err)
				return v
			}
			if got := opt(syscall.SOL_SOCKET, syscall.SO_KEEPALIVE); got != tc.on {
				t.Fatalf("SO_KEEPALIVE = %d, want %d", got, tc.on)
			}
			if got := opt(syscall.SOL_SOCKET, syscall.SO_OOBINLINE); got != 1 {
				t.Errorf("SO_OOBINLINE = %d, want 1", got)
			}
			if tc.on == 1 {
				got := [3]int{opt(syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE), opt(syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL), opt(syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT)}
				if want := [3]int{tc.idle, tc.interval, tc.prob}; got != want {
					t.Errorf("keep-alive idle/interval/count = %v, want %v", got, want)
				}
			}
		})
	}
}

// ---- Memory ----

func TestMegabyteLineIsCutMemoryBounded(t *testing.T) {
	const clients, size = 4, 1 << 20
	var sessions sessionLog
	s := servertest.Start(t, servertest.Config{Client: client.Config{ConnState: sessions.record}})
	bob := s.Login(t, "bob")
	var cs []*servertest.Client
	for i := range clients {
		cs = append(cs, s.Login(t, "long"+strconv.Itoa(i)))
	}
	bob.Sync()
	huge := []byte(strings.Repeat("x", size))
	before := heapAlloc()
	for _, c := range cs {
		c.Write(huge) // no line end yet
	}
	for i := range clients {
		sess := sessions.nth(t, i+1)
		servertest.WaitFor(t, "the server to read the long line", func() bool { return sess.Stats().BytesIn > size })
	}
	after := heapAlloc()
	runtime.KeepAlive(huge)
	grew := int64(after) - int64(before)
	t.Logf("heap grew by %d bytes while %d clients each had %d bytes of one line in", grew, clients, size)
	if grew > size/2 {
		t.Fatalf("heap grew by %d bytes: unterminated lines are being buffered", grew)
	}
	for i, c := range cs {
		c.Send("")
		c.Expect("! Line too long: cut to 1024 bytes")
		l := bob.Expect("<long" + strconv.Itoa(i) + "> ")
		if want := "<long" + strconv.Itoa(i) + "> " + strings.Repeat("x", 1024); l != want {
			t.Fatalf("bob got a line of %d bytes, want %d", len(l), len(want))
		}
		c.Send("still works")
		bob.Expect("<long" + strconv.Itoa(i) + "> still works")
	}
}

// stallOne logs in a client with a small receive window that will never
// read again, and returns it with its session (the first one accepted on s).
func stallOne(t *testing.T, s *servertest.Server, sessions *sessionLog) (*probe, *client.Session) {
	t.Helper()
	d := net.Dialer{Timeout: servertest.Timeout, Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		if cerr := rc.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	c, err := d.Dial("tcp", s.Addr)
	failOn(t, err)
	p := &probe{conn: c.(*net.TCPConn), r: bufio.NewReader(c)}
	t.Cleanup(p.close)
	failOn(t, p.login("stalled"))
	return p, sessions.nth(t, 0)
}

// stallChunk is the text of one private message that fills the stalled
// client's socket.
var stallChunk = strings.Repeat("z", 15000)

// noPrivateBudget turns off the hub's private-message budget, which exists
// to stop exactly what fillQueue does: these tests need a queue that others
// can fill.
func noPrivateBudget() hub.Config { return hub.Config{PrivateRate: -1, PrivateBacklog: -1} }

// fillQueue sends private messages to the stalled client until the server
// holds at least bytes of output for it in its queue: the writer takes the
// whole queue whenever it can write, so the writer is stuck by then. With
// bytes 0 it keeps output queued until the session ends (for the write
// deadline to notice the stall).
func fillQueue(t *testing.T, filler *servertest.Client, sess *client.Session, bytes int64) {
	t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for sess.State() == client.StateActive {
		st := sess.Stats()
		if bytes > 0 && st.QueuedBytes >= bytes {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stalled client's queue never got to %d bytes: %+v", bytes, st)
		}
		if bytes > 0 || st.QueuedMsgs < 2 {
			filler.Send("/msg stalled " + stallChunk)
			filler.Expect("stalled") // the echo, or no such user once dropped
		} else {
			time.Sleep(10 * time.Millisecond) // polling the writer's progress
		}
	}
}

func TestStalledReaderIsDroppedAsSlow(t *testing.T) {
	// A filler sends private messages of 15 kB to a client that never
	// reads: only that client gets them. Each case leaves one way to be
	// dropped: a write stall, the queue's message cap or its byte cap.
	cases := []struct {
		name  string
		cfg   client.Config
		limit func(hub.PeerStats) bool // holds for the stalled queue at all times
	}{
		{"write-timeout", client.Config{WriteTimeout: 300 * time.Millisecond, MaxQueueBytes: 1 << 30, MaxQueueMsgs: 1 << 20}, nil},
		{"queue-messages", client.Config{WriteTimeout: time.Hour, MaxQueueBytes: 1 << 30, MaxQueueMsgs: 100},
			func(st hub.PeerStats) bool { return st.QueuedMsgs <= 100 }},
		{"queue-bytes", client.Config{WriteTimeout: time.Hour, MaxQueueBytes: 256 << 10},
			func(st hub.PeerStats) bool { return st.QueuedBytes <= 256<<10 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var sessions sessionLog
			tc.cfg.MaxLine, tc.cfg.ConnState = 16<<10, sessions.record
			s := servertest.Start(t, servertest.Config{Client: tc.cfg, Hub: noPrivateBudget()})
			stalled, sess := stallOne(t, s, &sessions)
			bob := s.Login(t, "bob")
			filler := s.Login(t, "filler")
			// With only the write deadline, keep output queued until the
			// client is dropped; with a queue cap, fill until it is.
			if tc.limit == nil {
				fillQueue(t, filler, sess, 0)
			}
			var peak hub.PeerStats
			for i := 0; sess.State() == client.StateActive; i++ {
				if i == 1000 { // 15 MB: far more than the socket buffers hold
					t.Fatalf("the stalled client was not dropped; its queue peaked at %+v", peak)
				}
				filler.Send("/msg stalled " + stallChunk)
				filler.Expect("stalled") // the echo, or no such user once dropped
				st := sess.Stats()
				if !tc.limit(st) {
					t.Fatalf("queue over its limit: %+v", st)
				}
				peak.QueuedMsgs, peak.QueuedBytes = max(peak.QueuedMsgs, st.QueuedMsgs), max(peak.QueuedBytes, st.QueuedBytes)
			}
			t.Logf("queue peaked at %d messages, %d bytes", peak.QueuedMsgs, peak.QueuedBytes)
			bob.Expect("*** stalled left #lobby (slow)")
			if n := s.Hub.Counters.SlowDrops.Load(); n != 1 {
				t.Errorf("SlowDrops = %d, want 1", n)
			}
			expectServerClosed(t, stalled.conn)
			servertest.WaitFor(t, "the session to end", func() bool { return s.Server.Active() == 2 })
			filler.Send("hello")
			bob.Expect("<filler> hello")
		})
	}
}

// chatNumbered has each of the probes say lines "0" .. "n-1" then "end n",
// and checks with a reader per probe that it gets every other probe's lines
// exactly once and in order. It returns when all readers are done.
func chatNumbered(t *testing.T, ps []*probe, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(ps))
	for _, p := range ps {
		wg.Add(2)
		go func() {
			defer wg.Done()
			var sb strings.Builder
			for i := range n {
				sb.WriteString(strconv.Itoa(i) + "\n")
				if sb.Len() > 512 || i == n-1 {
					if err := p.write([]byte(sb.String())); err != nil {
						errs <- err
						return
					}
					sb.Reset()
				}
			}
			if err := p.send("end " + strconv.Itoa(n)); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if err := newSequenceCheck(ps, p).follow(p); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// sequenceCheck follows the numbered lines ("<nick> 17", ending with
// "<nick> end 42" after 42 lines) of a fixed set of senders on one
// connection: each must come exactly once and in order.
type sequenceCheck struct {
	next  map[string]int // sender -> next number expected; -1 after its end
	total int            // numbered lines seen
}

func newSequenceCheck(senders []*probe, self *probe) *sequenceCheck {
	c := &sequenceCheck{next: make(map[string]int)}
	for _, p := range senders {
		if p != self {
			c.next[p.nick] = 0
		}
	}
	return c
}

// feed checks one line. Lines from others are ignored.
func (c *sequenceCheck) feed(line string) error {
	nick, text, ok := strings.Cut(strings.TrimPrefix(line, "<"), "> ")
	if !ok || !strings.HasPrefix(line, "<") {
		return nil
	}
	next, followed := c.next[nick]
	if !followed {
		return nil
	}
	if count, isEnd := strings.CutPrefix(text, "end "); isEnd {
		if count != strconv.Itoa(next) {
			return fmt.Errorf("%s ended after %s lines, got %d", nick, count, next)
		}
		c.next[nick] = -1
		return nil
	}
	got, err := strconv.Atoi(text)
	switch {
	case err != nil:
		return fmt.Errorf("unexpected line %q", line)
	case next < 0:
		return fmt.Errorf("line %d from %s after its end", got, nick)
	case got != next:
		return fmt.Errorf("got line %d from %s, want %d (lost, duplicated or reordered)", got, nick, next)
	}
	c.next[nick] = next + 1
	c.total++
	return nil
}

func (c *sequenceCheck) complete() bool {
	for _, next := range c.next {
		if next >= 0 {
			return false
		}
	}
	return true
}

// follow reads p until every sender has ended.
func (c *sequenceCheck) follow(p *probe) error {
	for !c.complete() {
		l, err := p.line()
		if err != nil {
			return fmt.Errorf("%w; progress %v", err, c.next)
		}
		if err := c.feed(l); err != nil {
			return fmt.Errorf("%s: %w", p.nick, err)
		}
	}
	return nil
}

func TestSlowConsumerDoesNotStallOthers(t *testing.T) {
	// One client stops reading while 50 others chat. The others get every
	// line, in order, while the stalled one is still connected (its queue
	// grows, nobody waits for it); then it is dropped as slow at its
	// queue's byte cap. Latency numbers belong to the load generator.
	const chatters, lines = 50, 20
	var sessions sessionLog
	s := servertest.Start(t, servertest.Config{Client: client.Config{
		MaxLine: 16 << 10, MaxQueueBytes: 1 << 20, WriteTimeout: time.Hour, ConnState: sessions.record,
	}, Hub: noPrivateBudget()})
	stalled, sess := stallOne(t, s, &sessions)
	filler := s.Login(t, "filler")
	ps := make([]*probe, chatters)
	for i := range ps {
		ps[i] = loginProbe(t, s.Addr, fmt.Sprintf("c%02d", i))
	}
	// Half a megabyte waiting in its queue: the server's writer for it is
	// stuck on a full socket.
	fillQueue(t, filler, sess, 512<<10)
	chatNumbered(t, ps, lines)
	st := sess.Stats()
	if sess.State() != client.StateActive || s.Hub.Counters.SlowDrops.Load() != 0 {
		t.Fatalf("the stalled client is %v: the chat must not depend on it", sess.State())
	}
	// Its writer is still stuck: output is still waiting for it.
	if st.QueuedMsgs == 0 {
		t.Fatalf("the stalled client's queue is empty: it was not stalled during the chat")
	}
	t.Logf("%d chatters got all %d lines while the stalled client's queue held %d messages, %d bytes",
		chatters, chatters*(chatters-1)*(lines+1), st.QueuedMsgs, st.QueuedBytes)
	for i := 0; sess.State() == client.StateActive; i++ {
		if i == 1000 {
			t.Fatal("the stalled client was never dropped")
		}
		filler.Send("/msg stalled " + stallChunk)
		filler.Expect("stalled")
	}
	for _, p := range []*probe{ps[0], ps[chatters-1]} {
		_, err := p.expect("*** stalled left #lobby (slow)")
		failOn(t, err)
	}
	expectServerClosed(t, stalled.conn)
}
