package admin_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"telchat/admin"
	"telchat/hub"
	"telchat/internal/servertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// console is an operator console served by admin.Serve over pipes.
type console struct {
	t      *testing.T
	in     *io.PipeWriter
	lines  chan string
	served chan struct{}
}

// startConsole serves a console on h; its input is closed at the end of
// the test if the test has not done so.
func startConsole(t *testing.T, h *hub.Hub) *console {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &console{t: t, in: inW, lines: make(chan string, 4096), served: make(chan struct{})}
	go func() {
		defer close(c.served)
		admin.Serve(h, inR, outW, "test console", zerolog.Nop())
		_ = outW.Close()
		_ = inR.Close()
	}()
	go readAll(outR, c.lines)
	t.Cleanup(func() {
		_ = inW.Close()
		for range c.lines {
		}
		<-c.served
	})
	c.Expect("telchat admin console: type help for the commands")
	return c
}

// readAll sends each line of r (without CR LF) to lines, then closes it.
func readAll(r io.Reader, lines chan<- string) {
	defer close(lines)
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines <- strings.TrimSuffix(sc.Text(), "\r")
	}
}

func (c *console) Send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		c.t.Fatalf("console write: %v", err)
	}
}

func (c *console) Expect(want string) string {
	c.t.Helper()
	return expectLine(c.t, c.lines, want)
}

// rest closes the input and returns everything up to the end of output.
func (c *console) rest() []string {
	c.t.Helper()
	_ = c.in.Close()
	var out []string
	timeout := time.After(servertest.Timeout)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				return out
			}
			out = append(out, l)
		case <-timeout:
			c.t.Fatalf("console output did not end; got %q", out)
		}
	}
}

func expectLine(t *testing.T, lines <-chan string, want string) string {
	t.Helper()
	timeout := time.After(servertest.Timeout)
	var seen []string
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended waiting for %q; seen %q", want, seen)
			}
			if strings.Contains(l, want) {
				return l
			}
			seen = append(seen, l)
		case <-timeout:
			t.Fatalf("timed out waiting for %q; seen %q", want, seen)
		}
	}
}

func TestConsoleRunsAdminCommands(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})
	bob := s.Login(t, "bob")
	carol := s.Login(t, "carol")
	con := startConsole(t, s.Hub)

	con.Send("help")
	con.Expect("*** Commands (the leading / is optional here):")
	con.Expect("/kick NICK [REASON]")
	con.Send("/stats") // with or without the slash
	con.Expect("*** uptime ")
	con.Send("  STATS  ")
	con.Expect("connections now 3 (named 2)")
	con.Send("who")
	con.Expect("*** 2 in #lobby: bob, carol") // every room: only the lobby has members
	con.Send("who lobby")
	con.Expect("*** 2 in #lobby: bob, carol")
	con.Send("me waves")
	con.Expect("! Only a chat user can do that")
	con.Send("kcik bob")
	con.Expect("! Unknown command /kcik: type /help for the list (did you mean /kick?)")
	con.Send("")
	con.Send("wall from the operator")
	bob.Expect("*** NOTICE from console: from the operator")
	con.Expect("*** NOTICE from console: from the operator")
	con.Send("mute bob")
	con.Expect("*** Muted bob until /unmute")
	con.Send("whois bob")
	con.Expect("*** bob is in #lobby")
	con.Send("move carol den")
	con.Expect("*** Moved carol to #den")
	carol.Expect("You are now in #den")
	con.Send("clients")
	con.Expect("*** 3 connections:")
	con.Expect("  (console) test console - since ")
	con.Send("kick bob go away")
	con.Expect("*** Kicked bob")
	if out := bob.ExpectEOF(); !strings.Contains(out, "*** You were kicked by console: go away") {
		t.Fatalf("bob got %q", out)
	}
	con.Send("ban 127.0.0.1 closed")
	con.Expect("*** Banned 127.0.0.1 for good; 1 connection(s) kicked")
	carol.ExpectEOF()
	con.Send("quit")
	con.Expect("*** Console closed; the server keeps running; use shutdown to stop it")
	<-con.served
	// The hub is still running.
	if out := s.Dial(t).ExpectEOF(); out != "! You are banned from this server: closed\r\n" {
		t.Fatalf("got %q", out)
	}
}

func TestConsoleEOFDoesNotStopTheHub(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})
	con := startConsole(t, s.Hub)
	// Commands sent just before the end of input still get their output.
	con.Send("stats")
	con.Send("motd set after eof")
	con.Send("bans")
	out := strings.Join(con.rest(), "\n")
	for _, want := range []string{"*** uptime", "*** Message of the day set", "*** No bans"} {
		if !strings.Contains(out, want) {
			t.Errorf("output before EOF lacks %q: %q", want, out)
		}
	}
	select {
	case <-con.served:
	case <-time.After(servertest.Timeout):
		t.Fatal("Serve did not return at end of input")
	}
	select {
	case <-s.Hub.Done():
		t.Fatal("end of console input stopped the hub")
	default:
	}
	alice := s.Login(t, "alice")
	alice.Send("/motd")
	alice.Expect("*** after eof")
	servertest.WaitFor(t, "console removed from the hub", func() bool { return s.Hub.Counters.ConnectionsNow.Load() == 1 })
}

func TestConsoleOverlongLineKeepsItsStart(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})
	bob := s.Login(t, "bob")
	con := startConsole(t, s.Hub)
	long := "wall " + strings.Repeat("A", 5000) + strings.Repeat("B", 6000)
	con.Send(long)
	con.Send("stats")
	l := bob.Expect("*** NOTICE from console: AAAA")
	if strings.Contains(l, "B") || len(l) > 4200 {
		t.Fatalf("overlong line not cut to its start: %d bytes", len(l))
	}
	con.Expect("*** uptime")
}

// failingWriter fails every write, like a console whose reader went away.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("gone") }

func TestConsoleWriteFailureLeavesTheHub(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})
	inR, inW := io.Pipe()
	served := make(chan struct{})
	go func() {
		defer close(served)
		admin.Serve(s.Hub, inR, failingWriter{}, "broken console", zerolog.Nop())
	}()
	select {
	case <-served:
	case <-time.After(servertest.Timeout):
		t.Fatal("Serve did not return after its writer failed")
	}
	_ = inW.Close()
	servertest.WaitFor(t, "console removed from the hub", func() bool {
		return s.Hub.Counters.ConnectionsTotal.Load() == 1 && s.Hub.Counters.ConnectionsNow.Load() == 0
	})
}

func TestConsoleAfterHubStopped(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})
	s.Shutdown()
	done := make(chan struct{})
	go func() {
		defer close(done)
		admin.Serve(s.Hub, strings.NewReader("stats\n"), io.Discard, "late console", zerolog.Nop())
	}()
	select {
	case <-done:
	case <-time.After(servertest.Timeout):
		t.Fatal("Serve on a stopped hub did not return")
	}
}

// socketPath is a socket path in a fresh temporary directory.
func socketPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "admin.sock")
}

// serveSocket listens on path and serves until the test ends.
func serveSocket(t *testing.T, h *hub.Hub, path string) (*admin.SocketServer, chan error) {
	t.Helper()
	srv, err := admin.ListenSocket(path, h, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), servertest.Timeout)
		defer cancel()
		_ = srv.Close(ctx)
		<-served
	})
	return srv, served
}

func dialSocket(t *testing.T, path string) (*net.UnixConn, chan string) {
	t.Helper()
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	lines := make(chan string, 1024)
	go readAll(conn, lines)
	expectLine(t, lines, "telchat admin console")
	return conn, lines
}

func TestAdminSocket(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})
	bob := s.Login(t, "bob")
	path := socketPath(t)
	srv, served := serveSocket(t, s.Hub, path)

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, want a socket with 0600", fi.Mode())
	}

	// Like `nc -U PATH`: type commands, read answers.
	conn, lines := dialSocket(t, path)
	if _, err := io.WriteString(conn, "who lobby\r\n/wall over the socket\n"); err != nil {
		t.Fatal(err)
	}
	expectLine(t, lines, "*** 1 in #lobby: bob")
	bob.Expect("*** NOTICE from console: over the socket")

	// Like `printf 'stats\n' | socat - UNIX-CONNECT:PATH`: the answer
	// arrives before the console closes.
	conn2, lines2 := dialSocket(t, path)
	if _, err := io.WriteString(conn2, "stats\nbans"); err != nil {
		t.Fatal(err)
	}
	if err := conn2.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	expectLine(t, lines2, "*** uptime")
	expectLine(t, lines2, "*** No bans")
	for l := range lines2 {
		t.Errorf("unexpected output after the answers: %q", l)
	}
	servertest.WaitFor(t, "finished console removed", func() bool { return s.Hub.Counters.ConnectionsNow.Load() == 2 })

	// Close ends the open console and removes the socket file.
	ctx, cancel := context.WithTimeout(context.Background(), servertest.Timeout)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	served <- nil // for the cleanup
	for range lines {
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket file left behind: %v", err)
	}
	servertest.WaitFor(t, "socket console removed", func() bool { return s.Hub.Counters.ConnectionsNow.Load() == 1 })
	// The hub is still running.
	bob.Send("/who")
	bob.Expect("*** 1 in #lobby: bob")
}

func TestListenSocketExistingFiles(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})

	// A regular file is never replaced.
	path := socketPath(t)
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ListenSocket(path, s.Hub, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("ListenSocket over a regular file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Fatal("regular file changed")
	}

	// A socket in use by a running server is refused.
	live := socketPath(t)
	serveSocket(t, s.Hub, live)
	if _, err := admin.ListenSocket(live, s.Hub, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("ListenSocket over a live socket: %v", err)
	}

	// A stale socket left by a crash is replaced.
	stale := socketPath(t)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	_ = ln.Close()
	serveSocket(t, s.Hub, stale)
	_, lines := dialSocket(t, stale)
	_ = lines
}
