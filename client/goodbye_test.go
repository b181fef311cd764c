package client_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"telchat/client"
	"telchat/hub"
	"telchat/internal/servertest"
)

// goodbyeScript drives a real client on a terminal (expect gives it a pty:
// nc behaves differently with a terminal on its standard input than with a
// pipe). It logs in as bob, then either types /quit or waits for the test
// to end the session (kick, shutdown); once the goodbye has shown, it waits
// for the client to exit and reports how long that took.
//
// Arguments: port, action (quit, wait, or refused: the server refuses
// the connection and there is no login), the goodbye text, the seconds to
// wait for the exit, and the client's command line.
const goodbyeScript = `
set port [lindex $argv 0]
set action [lindex $argv 1]
set goodbye [lindex $argv 2]
set waitSecs [lindex $argv 3]
set cmd [lrange $argv 4 end]
set timeout 10
proc want {pat} {
	expect {
		-ex $pat {}
		timeout { puts "\n@@ timeout waiting for: $pat"; exit 2 }
		eof { puts "\n@@ eof waiting for: $pat"; exit 3 }
	}
}
spawn {*}$cmd
if {$action eq "refused"} {
	# no login: the server refuses the connection
} else {
	want "Choose a nickname: "
	send "bob\r"
	want "You are now in #lobby"
}
if {$action eq "refused"} {
	# the refusal is the goodbye
} elseif {$action eq "quit"} {
	send "/quit off to lunch\r"
} else {
	puts "\n@@ ready [exp_pid]\n"
}
want $goodbye
set t0 [clock milliseconds]
set timeout $waitSecs
expect {
	eof {}
	timeout { puts "\n@@ still running $waitSecs s after the goodbye"; exit 4 }
}
set ms [expr {[clock milliseconds] - $t0}]
lassign [wait] pid spawnid oserr status
puts "\n@@ exit status $status after $ms ms"
`

// realClient is a terminal client a person would use, with the exit status
// it has when the server ends the session.
type realClient struct {
	name   string
	bin    string
	args   func(port string) []string
	status int
}

var realClients = []realClient{
	{"nc", "nc", func(p string) []string { return []string{"nc", "127.0.0.1", p} }, 0},
	{"inetutils telnet", "telnet", func(p string) []string { return []string{"telnet", "127.0.0.1", p} }, 0},
	// busybox telnet exits 1 after "Connection closed by foreign host".
	{"busybox telnet", "busybox", func(p string) []string { return []string{"busybox", "telnet", "127.0.0.1", p} }, 1},
	{"socat", "socat", func(p string) []string { return []string{"socat", "-", "TCP:127.0.0.1:" + p} }, 0},
	{"plink", "plink", func(p string) []string { return []string{"plink", "-telnet", "-P", p, "127.0.0.1"} }, 0},
}

var exitLine = regexp.MustCompile(`@@ exit status (-?\d+) after (\d+) ms`)

// goodbyeTestLinger is the servers' linger in these tests: every client
// must exit well within it.
const goodbyeTestLinger = 5 * time.Second

// runGoodbye starts rc under expect, logged in as bob, runs end with the
// client's process id (end ends the session unless the action is quit)
// once bob is in, and checks that
// the whole goodbye showed and the client exited within the linger. When
// end returns false the run does not count (see the stalled test):
// runGoodbye then checks nothing and returns false.
func runGoodbye(t *testing.T, s *servertest.Server, rc realClient, action, goodbye string, end func(pid int) bool) (counted bool) {
	t.Helper()
	expect := servertest.RequireBinary(t, "expect")
	servertest.RequireBinary(t, rc.bin)
	script := filepath.Join(t.TempDir(), "goodbye.exp")
	if err := os.WriteFile(script, []byte(goodbyeScript), 0o600); err != nil {
		t.Fatal(err)
	}
	waitSecs := strconv.Itoa(int((goodbyeTestLinger + 2*time.Second) / time.Second))
	args := append([]string{"-f", script, s.Port(), action, goodbye, waitSecs}, rc.args(s.Port())...)
	p := servertest.StartProcess(t, nil, expect, args...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s transcript:\n%s", rc.name, p.Out.String())
		}
	})
	if action == "wait" {
		at := p.Out.WaitFor(t, 0, "@@ ready ")
		pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(p.Out.String()[at:], "\n", 2)[0]))
		if err != nil {
			t.Fatalf("no client pid: %v", err)
		}
		if !end(pid) {
			return false
		}
	}
	at := p.Out.WaitFor(t, 0, goodbye)
	p.Out.WaitFor(t, at, "@@ exit status")
	if err := p.Wait(t); err != nil {
		t.Fatalf("expect: %v", err)
	}
	out := p.Out.String()
	// The goodbye arrived whole: the line and its end (a terminal may show
	// CR LF as CR CR LF; in character mode, as plink gets, a colour reset
	// may come before it).
	if !regexp.MustCompile(regexp.QuoteMeta(goodbye) + `(\x1b\[[0-9;]*m)*\r+\n`).MatchString(out[at-len(goodbye):]) {
		t.Fatalf("%s: the goodbye %q is not a whole line", rc.name, goodbye)
	}
	for _, bad := range []string{"reset", "FATAL", "rror"} {
		if strings.Contains(out[at:], bad) {
			t.Fatalf("%s shows %q after the goodbye", rc.name, bad)
		}
	}
	m := exitLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("%s: no exit line", rc.name)
	}
	status, _ := strconv.Atoi(m[1])
	ms, _ := strconv.Atoi(m[2])
	if status != rc.status {
		t.Fatalf("%s exited with status %d, want %d", rc.name, status, rc.status)
	}
	if time.Duration(ms)*time.Millisecond >= goodbyeTestLinger {
		t.Fatalf("%s exited %d ms after the goodbye, not within the linger (%v)", rc.name, ms, goodbyeTestLinger)
	}
	t.Logf("%s exited (status %d) %d ms after the goodbye", rc.name, status, ms)
	return true
}

// TestRealClientsExitAfterGoodbye: when the server ends a session, each
// real client a person would use shows the whole goodbye and exits within
// the linger, by itself, without the user pressing a key. nc notices a
// closed connection only when it next writes, so the server resets the
// connection once every byte of the goodbye has been acknowledged (and
// after a settling delay); the other clients exit on the half-close.
func TestRealClientsExitAfterGoodbye(t *testing.T) {
	for _, rc := range realClients {
		t.Run(rc.name+" /quit", func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{Client: client.Config{Linger: goodbyeTestLinger}})
			alice := s.Login(t, "alice")
			runGoodbye(t, s, rc, "quit", "*** Goodbye, bob!", nil)
			expectExactLine(t, alice, "*** bob left", "*** bob left #lobby (quit: off to lunch)")
			servertest.WaitFor(t, "bob's session to end", func() bool { return s.Server.Active() == 1 })
		})
	}
	nc := realClients[0]
	t.Run("nc kicked", func(t *testing.T) {
		s := servertest.Start(t, servertest.Config{
			Client: client.Config{Linger: goodbyeTestLinger},
			Hub:    hub.Config{PasswordCheck: func(p string) bool { return p == "pw" }},
		})
		admin := s.Login(t, "ada")
		admin.Send("/oper pw")
		admin.Expect("You are now an admin")
		runGoodbye(t, s, nc, "wait", "kicked by ada: go home", func(int) bool {
			admin.Send("/kick bob go home")
			return true
		})
		admin.Expect("*** bob left #lobby (kicked")
		servertest.WaitFor(t, "bob's session to end", func() bool { return s.Server.Active() == 1 })
	})
	t.Run("nc at shutdown", func(t *testing.T) {
		s := servertest.Start(t, servertest.Config{Client: client.Config{Linger: goodbyeTestLinger}})
		shut := make(chan error, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 2*goodbyeTestLinger)
		defer cancel()
		runGoodbye(t, s, nc, "wait", "*** going down", func(int) bool {
			go func() { shut <- s.Server.Shutdown(ctx, "going down") }()
			return true
		})
		if err := <-shut; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if n := s.Server.Active(); n != 0 {
			t.Fatalf("%d sessions left after Shutdown", n)
		}
	})
	t.Run("nc refused", func(t *testing.T) {
		s := servertest.Start(t, servertest.Config{Client: client.Config{Linger: goodbyeTestLinger, MaxPerIP: 1}})
		first := s.Dial(t)
		first.ExpectPrompt()
		runGoodbye(t, s, nc, "refused", "! Connection refused: too many connections from your address", nil)
		servertest.WaitFor(t, "the refusal to end", func() bool { return s.Server.Refusing() == 0 })
	})
	t.Run("nc stalled while the goodbye arrives", func(t *testing.T) {
		// nc is stopped while the goodbye, the FIN and their
		// acknowledgement go by: a reset right then would reach it before
		// it read the goodbye, and nc drops unread input on a reset. The
		// settling time covers a stall shorter than it.
		//
		// The stall ends when this test sees the goodbye acknowledged; a
		// busy machine can delay that past the settling time, and then the
		// reset rightly comes while nc is still stopped. Such a run does
		// not count (the server did what it promises) and is tried again,
		// a few times at most. A reset seen sooner than the settling time
		// after the kick always fails.
		const attempts = 5
		for i := 1; i <= attempts; i++ {
			s := servertest.Start(t, servertest.Config{
				Client: client.Config{Linger: goodbyeTestLinger},
				Hub:    hub.Config{PasswordCheck: func(p string) bool { return p == "pw" }},
			})
			admin := s.Login(t, "ada")
			admin.Send("/oper pw")
			admin.Expect("You are now an admin")
			if runGoodbye(t, s, nc, "wait", "kicked by ada: stalled", func(pid int) bool {
				return stallWhileKicked(t, s, admin, pid, i)
			}) {
				return
			}
		}
		t.Skipf("in %d runs this busy machine never continued nc within half the settling time (%v) of the half-close", attempts, goodbyeTestSettle)
	})
}

// goodbyeTestSettle is the settling time before the reset for
// goodbyeTestLinger: a quarter of the linger, at most 500 ms (see
// client/goodbye.go).
const goodbyeTestSettle = 500 * time.Millisecond

// stallWhileKicked stops nc (process pid), has admin kick bob, and
// continues nc once its kernel has acknowledged the goodbye and the FIN
// (the server's end of the connection is then in FIN-WAIT-2) or the
// server has reset the connection (it is gone). It fails the test when the
// reset came sooner than the settling time after the kick, and reports
// whether the run counts: nc was continued within half the settling time,
// before the reset, so it had ample time to read the goodbye.
func stallWhileKicked(t *testing.T, s *servertest.Server, admin *servertest.Client, pid, attempt int) bool {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	continued := false
	defer func() {
		if !continued {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}()
	kicked := time.Now()
	admin.Send("/kick bob stalled")
	var st string
	var seen time.Duration // when st was read, after the kick
	var open time.Duration // when the connection was last seen established
	servertest.WaitFor(t, "the goodbye to be acknowledged", func() bool {
		st = serverSideState(t, s.Port(), admin.Conn)
		seen = time.Since(kicked)
		if st == tcpEstablished {
			open = seen
		}
		return st == tcpFinWait2 || st == ""
	})
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	continued = true
	// The half-close came after the kick and after the connection was
	// last seen established; the server's clock for the settling time
	// starts just before it.
	stalled := time.Since(kicked) - open // at least how long nc was stopped after the half-close
	if st == "" && seen < goodbyeTestSettle {
		t.Fatalf("the server reset the connection within %v of the kick, sooner than the settling time (%v)", seen, goodbyeTestSettle)
	}
	if st == "" || stalled > goodbyeTestSettle/2 {
		t.Logf("run %d does not count: nc was continued %v after the half-close (connection state %q)", attempt, stalled, st)
		return false
	}
	return true
}

// Connection states as /proc/net/tcp shows them.
const (
	// tcpEstablished: the server has not half-closed.
	tcpEstablished = "01"
	// tcpFinWait2: everything the server sent, its FIN included, is
	// acknowledged and the peer has not closed.
	tcpFinWait2 = "05"
)

// serverSideState returns the state, as /proc/net/tcp shows it (hex), of
// the server's end of the one connection to the server's port other than
// except's; "" when there is none.
func serverSideState(t *testing.T, port string, except *net.TCPConn) string {
	t.Helper()
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skipf("cannot read /proc/net/tcp: %v", err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	local := fmt.Sprintf(":%04X", p)
	skip := fmt.Sprintf(":%04X", except.LocalAddr().(*net.TCPAddr).Port)
	// Only the lines that hold the port are split into fields: on a busy
	// machine the file lists tens of thousands of connections, and this
	// runs while nc is stopped.
	for rest, port := data, []byte(local+" "); ; {
		i := bytes.Index(rest, port)
		if i < 0 {
			return ""
		}
		start := bytes.LastIndexByte(rest[:i], '\n') + 1
		end := len(rest)
		if n := bytes.IndexByte(rest[i:], '\n'); n >= 0 {
			end = i + n
		}
		f := strings.Fields(string(rest[start:end]))
		if len(f) > 3 && strings.HasSuffix(f[1], local) && !strings.HasSuffix(f[2], skip) && f[3] != "0A" {
			return f[3]
		}
		rest = rest[end:]
	}
}
