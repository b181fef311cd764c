package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"telchat/internal/servertest"
)

const waitLimit = 20 * time.Second

// binary is the telchat binary the tests run, built at most once per
// test run (TestMain removes it).
var binary struct {
	once sync.Once
	dir  string // made by TestMain
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "telchat-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary.dir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// buildServer builds the telchat binary once per test run and returns its
// path.
func buildServer(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		bin := filepath.Join(binary.dir, "telchat")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		binary.path = bin
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// server is a running telchat process.
type server struct {
	cmd    *exec.Cmd
	addr   string
	stdin  io.WriteCloser
	stdout chan string // its standard output (the console's), line by line
	done   chan error
	// metricsAddr and tlsAddr are the -metrics-addr and -tls-addr
	// listeners' addresses, when there are some.
	metricsAddr, tlsAddr string

	logMu sync.Mutex
	log   []string // the lines of standard error so far
}

// logged returns the lines of standard error so far.
func (s *server) logged() []string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return slices.Clone(s.log)
}

// startServer runs bin with args plus -addr 127.0.0.1:0, and waits for its
// "listening" log line to learn the port.
func startServer(t *testing.T, bin string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-log-format", "json"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = outW
	s := &server{cmd: cmd, stdin: stdin, stdout: make(chan string, 1024), done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = outW.Close() // the child has its copy
	go func() {
		defer outR.Close()
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			select {
			case s.stdout <- strings.TrimSuffix(sc.Text(), "\r"):
			default: // nobody reads it: keep the child from blocking
			}
		}
		close(s.stdout)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
	})
	addr := make(chan string, 1)
	metricsAddr := make(chan string, 1) // logged before "listening"
	tlsAddr := make(chan string, 1)     // logged after "listening"
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.logMu.Lock()
			s.log = append(s.log, sc.Text())
			s.logMu.Unlock()
			var rec struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				continue
			}
			switch rec.Message {
			case "listening":
				addr <- rec.Addr
			case "metrics listening":
				metricsAddr <- rec.Addr
			case "tls listening":
				tlsAddr <- rec.Addr
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case s.addr = <-addr:
		if slices.Contains(args, "-tls-addr") {
			select {
			case s.tlsAddr = <-tlsAddr:
			case <-time.After(waitLimit):
				t.Fatal("server did not log its TLS address")
			}
		}
	case s.tlsAddr = <-tlsAddr: // -addr ""
	case <-time.After(waitLimit):
		t.Fatal("server did not log its address")
	}
	select {
	case s.metricsAddr = <-metricsAddr:
	default:
	}
	return s
}

// expectStdout waits for a line of standard output containing want, and
// returns the lines before it.
func (s *server) expectStdout(t *testing.T, want string) []string {
	t.Helper()
	var seen []string
	timeout := time.After(waitLimit)
	for {
		select {
		case l, ok := <-s.stdout:
			if !ok {
				t.Fatalf("standard output ended waiting for %q; got %q", want, seen)
			}
			if strings.Contains(l, want) {
				return seen
			}
			seen = append(seen, l)
		case <-timeout:
			t.Fatalf("waiting for %q on standard output; got %q", want, seen)
		}
	}
}

// wait waits for the process to exit and returns its error.
func (s *server) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(waitLimit):
		t.Fatal("server did not exit")
		return nil
	}
}

// login connects and picks a nickname.
func login(t *testing.T, addr, nick string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(waitLimit))
	r := bufio.NewReader(c)
	if _, err := c.Write([]byte(nick + "\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, r, "Welcome, "+nick+"!")
	return c, r
}

func readUntil(t *testing.T, r *bufio.Reader, want string) string {
	t.Helper()
	var seen strings.Builder
	for {
		l, err := r.ReadString('\n')
		seen.WriteString(l)
		if strings.Contains(l, want) {
			return l
		}
		if err != nil {
			t.Fatalf("waiting for %q: %v; got %q", want, err, seen.String())
		}
	}
}

func TestProcessSignalsEnvAndConsole(t *testing.T) {
	bin := buildServer(t)

	t.Run("SIGTERM notifies clients and exits 0", func(t *testing.T) {
		s := startServer(t, bin, nil, "-data-dir", t.TempDir())
		c, r := login(t, s.addr, "alice")
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		readUntil(t, r, "Server shutting down")
		rest, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("after the notice: %v (%q)", err, rest)
		}
		_ = c.Close()
		if err := s.wait(t); err != nil {
			t.Fatalf("exit: %v", err)
		}
	})

	t.Run("environment twin of a flag", func(t *testing.T) {
		s := startServer(t, bin, []string{"TELCHAT_NAME=envchat"}, "-data-dir", t.TempDir())
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(waitLimit))
		readUntil(t, bufio.NewReader(c), "Welcome to envchat!")
	})

	t.Run("console commands from a pipe; end of input keeps serving; shutdown", func(t *testing.T) {
		s := startServer(t, bin, nil, "-console", "-data-dir", t.TempDir())
		_, r := login(t, s.addr, "bob")
		if _, err := io.WriteString(s.stdin, "wall hello from the console\n"); err != nil {
			t.Fatal(err)
		}
		readUntil(t, r, "NOTICE from console: hello from the console")
		_ = s.stdin.Close() // EOF on the console: the server goes on
		c2, r2 := login(t, s.addr, "carol")
		defer c2.Close()
		readUntil(t, r, "carol joined")
		if err := s.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		readUntil(t, r2, "Server shutting down")
		if err := s.wait(t); err != nil {
			t.Fatalf("exit: %v", err)
		}
	})

	t.Run("/shutdown from an admin ends the process with 0", func(t *testing.T) {
		dir := t.TempDir()
		hash, err := bcrypt.GenerateFromPassword([]byte("sesame"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		pwFile := filepath.Join(dir, "admin.hash")
		if err := os.WriteFile(pwFile, hash, 0o600); err != nil {
			t.Fatal(err)
		}
		s := startServer(t, bin, nil, "-data-dir", dir, "-admin-password-file", pwFile)
		c, r := login(t, s.addr, "ada")
		_, _ = c.Write([]byte("/oper sesame\n"))
		readUntil(t, r, "You are now an admin")
		_, _ = c.Write([]byte("/shutdown 0 maintenance\n"))
		readUntil(t, r, "maintenance")
		if err := s.wait(t); err != nil {
			t.Fatalf("exit: %v", err)
		}
	})
}

// TestConsoleQuitSaysWhatHappened: quit on the server's own console says
// the console is closed and the server keeps running, says that standard
// input is no longer read, and then really reads no more: a command typed
// after it is not run, and the server still serves.
func TestConsoleQuitSaysWhatHappened(t *testing.T) {
	bin := buildServer(t)
	s := startServer(t, bin, nil, "-console", "-data-dir", t.TempDir())
	s.expectStdout(t, "telchat admin console")
	c, r := login(t, s.addr, "bob")
	if _, err := io.WriteString(s.stdin, "quit\n"); err != nil {
		t.Fatal(err)
	}
	s.expectStdout(t, "*** Console closed; the server keeps running; use shutdown to stop it")
	s.expectStdout(t, "*** Standard input is no longer read: Ctrl-C (or SIGTERM) stops the server")
	// Typed after quit: not read, so not run (no notice, no shutdown).
	if _, err := io.WriteString(s.stdin, "wall still there?\nshutdown\n"); err != nil {
		t.Fatal(err)
	}
	c2, r2 := login(t, s.addr, "carol")
	defer c2.Close()
	readUntil(t, r, "carol joined")
	_, _ = c2.Write([]byte("/who\n"))
	readUntil(t, r2, "2 in #lobby")
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	_ = c.Close()
	if strings.Contains(string(rest), "NOTICE") || strings.Count(string(rest), "Server shutting down") != 1 {
		t.Fatalf("after quit bob got %q", rest)
	}
	if err := s.wait(t); err != nil {
		t.Fatalf("exit: %v", err)
	}
	for l := range s.stdout {
		t.Errorf("console output after quit: %q", l)
	}
}

func TestStartupErrors(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	const durations = "want a duration: a number of seconds (30) or a number with a unit (500ms, 90s, 30m, 2h, 7d)"
	cases := []struct {
		name string
		env  []string
		args []string
		code int    // 2: a usage error (a bad flag or variable), 1: anything else
		want string // the whole message when code is 2
	}{
		{"corrupt state file", nil, []string{"-data-dir", dir}, 1, "state.json"},
		{"password file without a hash", nil, []string{"-data-dir", t.TempDir(), "-admin-password-file", filepath.Join(dir, "state.json")}, 1, "bcrypt"},
		{"unknown log level", nil, []string{"-log-level", "verbose"}, 2, `-log-level "verbose": want one of debug, info, warn, error`},
		{"unknown log format", nil, []string{"-log-format", "xml"}, 2, `-log-format "xml": want one of auto, console, json`},
		{"bad duration", nil, []string{"-idle-timeout", "30x"}, 2, `-idle-timeout "30x": ` + durations},
		{"a week is not a duration the commands take", nil, []string{"-nick-timeout", "1w"}, 2, `-nick-timeout "1w": ` + durations},
		{"not a number", nil, []string{"-max-line", "abc"}, 2, `-max-line "abc": want a whole number, like 100`},
		{"not a rate", nil, []string{"-msg-rate", "fast"}, 2, `-msg-rate "fast": want a number, like 5 or 0.5`},
		{"not a bool", nil, []string{"-console=maybe"}, 2, `-console "maybe": want true or false`},
		{"unknown flag", nil, []string{"-verbose"}, 2, "unknown flag -verbose (telchat -h lists the flags)"},
		{"flag without its value", nil, []string{"-addr"}, 2, "flag needs an argument: -addr (telchat -h lists the flags)"},
		{"stray argument", nil, []string{"2323"}, 2, `unexpected argument "2323": telchat takes only flags (telchat -h lists them)`},
		{"variable not a number", []string{"TELCHAT_MAX_LINE=abc"}, nil, 2, `TELCHAT_MAX_LINE="abc": want a whole number, like 100`},
		{"variable not a duration", []string{"TELCHAT_IDLE_TIMEOUT=soon"}, nil, 2, `TELCHAT_IDLE_TIMEOUT="soon": ` + durations},
		{"variable not a level", []string{"TELCHAT_LOG_LEVEL=loud"}, nil, 2, `TELCHAT_LOG_LEVEL="loud": want one of debug, info, warn, error`},
		{"variable out of range", []string{"TELCHAT_MAX_LINE=10"}, nil, 2, "TELCHAT_MAX_LINE=10: at least 64 bytes"},
		{"pprof off loopback", nil, []string{"-pprof", "0.0.0.0:0"}, 2, "-pprof 0.0.0.0:0: want a loopback address and port, like 127.0.0.1:6060 (the profiler must not be public)"},
		{"metrics off loopback", nil, []string{"-metrics-addr", "0.0.0.0:0"}, 2, "-metrics-addr 0.0.0.0:0: want a loopback address and port, like 127.0.0.1:9100, or add -metrics-allow-remote"},
		{"pprof and its new name", nil, []string{"-pprof", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0"}, 2, "-pprof 127.0.0.1:0: is the old name of -metrics-addr, which serves the profiler too; give only -metrics-addr"},
		{"coalesce too long", nil, []string{"-coalesce", "1s"}, 2, "-coalesce 1s: at most 100ms (it delays every line to a big room)"},
		{"max-line too small", nil, []string{"-max-line", "0"}, 2, "-max-line 0: at least 64 bytes"},
		{"negative linger", nil, []string{"-linger", "-1s"}, 2, "-linger -1s: must be positive"},
		{"burst of zero with a rate", nil, []string{"-msg-burst", "0"}, 2, "-msg-burst 0: must be at least 1 (with a -msg-rate)"},
		{"negative history", nil, []string{"-history", "-3"}, 2, "-history -3: must not be negative (0: none)"},
		{"ipv6 prefix too long", nil, []string{"-ipv6-prefix", "129"}, 2, "-ipv6-prefix 129: must be 1 to 128 (64: each IPv6 /64; 128: each address on its own)"},
		{"ipv4 prefix of zero", []string{"TELCHAT_IPV4_PREFIX=0"}, nil, 2, "TELCHAT_IPV4_PREFIX=0: must be 1 to 32 (32: each IPv4 address on its own)"},
		{"cluster name with a dot", nil, []string{"-nats", "nats://127.0.0.1:1", "-cluster-name", "a.b"}, 2, "-cluster-name a.b: want 1 to 32 letters, digits, _ or -"},
		{"nats URL with a wrong scheme", nil, []string{"-nats", "http://127.0.0.1:4222"}, 2, `-nats http://127.0.0.1:4222: want nats://HOST:PORT, tls://, ws:// or wss:// URLs, comma-separated ("http://127.0.0.1:4222" has the scheme "http")`},
		{"nats URL not a URL, its password not shown", []string{"TELCHAT_NATS=nats://u:secret@a b"}, nil, 2, `TELCHAT_NATS=nats://***@a b: want nats://HOST:PORT, tls://, ws:// or wss:// URLs, comma-separated ("nats://***@a b" is not a URL)`},
		{"server id with an escape", nil, []string{"-nats", "nats://127.0.0.1:1", "-server-id", "a\x1b[31m"}, 2, `-server-id "a\x1b[31m": want 1 to 64 printable characters without spaces`},
		{"no NATS there", nil, []string{"-nats", "nats://u:secret@127.0.0.1:1"}, 1, "-nats: cluster: connecting to NATS at nats://***@127.0.0.1:1: nats: no servers available for connection"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A -data-dir in tc.args comes later and wins.
			cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-log-format", "json", "-data-dir", t.TempDir()}, tc.args...)...)
			cmd.Env = append(os.Environ(), tc.env...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("want exit %d, got %v (%s)", tc.code, err, out)
			}
			if tc.code == 2 {
				if got, want := string(out), "telchat: "+tc.want+"\n"; got != want {
					t.Fatalf("said %q, want the one line %q", got, want)
				}
				return
			}
			if !strings.Contains(string(out), tc.want) {
				t.Fatalf("output %q does not mention %q", out, tc.want)
			}
		})
	}
}

// TestAddressGroupFlags: the per-address limits count the addresses of a
// group together. With TELCHAT_IPV4_PREFIX=24 and -max-per-ip 1, a second
// connection from 127.0.0.2 is refused while 127.0.0.1 is connected, and
// one from 127.0.1.1 (another /24) is not. (IPv6 is grouped by the same
// function, see package ipgroup and hub's TestOperBackoffIsPerAddressGroup:
// loopback has only ::1.)
func TestAddressGroupFlags(t *testing.T) {
	o, err := parseFlags([]string{"-ipv6-prefix", "48"}, io.Discard)
	if err != nil || o.ipv6Prefix != 48 || o.ipv4Prefix != 32 {
		t.Fatalf("-ipv6-prefix 48: got %+v, %v", o, err)
	}
	bin := buildServer(t)
	s := startServer(t, bin, []string{"TELCHAT_IPV4_PREFIX=24"}, "-data-dir", t.TempDir(), "-max-per-ip", "1")
	_, port, _ := net.SplitHostPort(s.addr)
	login(t, s.addr, "alice") // from 127.0.0.1
	dialFrom := func(local string) *bufio.Reader {
		d := net.Dialer{Timeout: waitLimit, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		c, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			t.Fatalf("dial from %s: %v", local, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.SetDeadline(time.Now().Add(waitLimit))
		return bufio.NewReader(c)
	}
	readUntil(t, dialFrom("127.0.0.2"), "! Connection refused: too many connections from your address")
	readUntil(t, dialFrom("127.0.1.1"), "Choose a nickname")
}

// TestDurationFlagsTakeTheCommandsForms: a bare number is seconds and "7d"
// is a week, as for /ban and /mute, on the command line and in the
// environment; 0 still means never.
func TestDurationFlagsTakeTheCommandsForms(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"30", 30 * time.Second},
		{"90s", 90 * time.Second},
		{"1h30m", 90 * time.Minute},
		{"200us", 200 * time.Microsecond},
		{"7d", 7 * 24 * time.Hour},
		{"0", 0},
		{"0s", 0},
	}
	for _, tc := range cases {
		o, err := parseFlags([]string{"-idle-timeout", tc.in}, io.Discard)
		if err != nil || o.idleTimeout != tc.want {
			t.Errorf("-idle-timeout %s: got %v, %v; want %v", tc.in, o, err, tc.want)
		}
		t.Setenv("TELCHAT_IDLE_TIMEOUT", tc.in)
		o, err = parseFlags(nil, io.Discard)
		if err != nil || o.idleTimeout != tc.want {
			t.Errorf("TELCHAT_IDLE_TIMEOUT=%s: got %v, %v; want %v", tc.in, o, err, tc.want)
		}
	}
}

// TestBareSecondsStartTheServer: "-idle-timeout 30" was refused with a bare
// "parse error" and 60 lines of usage.
func TestBareSecondsStartTheServer(t *testing.T) {
	bin := buildServer(t)
	s := startServer(t, bin, []string{"TELCHAT_SHUTDOWN_TIMEOUT=5"}, "-data-dir", t.TempDir(), "-idle-timeout", "30", "-nick-timeout", "45")
	c, r := login(t, s.addr, "ada")
	defer c.Close()
	_, _ = c.Write([]byte("/who\n"))
	readUntil(t, r, "in #lobby")
}

// TestHelpListsEveryFlagAndTheDocsDoToo: -h prints the usage on standard
// output and exits 0, and every flag it lists is in the operator guide's
// flag table.
func TestHelpListsEveryFlagAndTheDocsDoToo(t *testing.T) {
	bin := buildServer(t)
	out, err := exec.Command(bin, "-h").Output()
	if err != nil {
		t.Fatalf("-h: %v", err)
	}
	guide, err := os.ReadFile(filepath.Join("docs", "operator-guide.md"))
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	for _, line := range strings.Split(string(out), "\n") {
		name, ok := strings.CutPrefix(line, "  -")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		flags++
		if !strings.Contains(string(guide), "`-"+name+"`") {
			t.Errorf("-%s is not in docs/operator-guide.md", name)
		}
	}
	if flags < 25 {
		t.Fatalf("-h listed %d flags:\n%s", flags, out)
	}
}

func TestHashPassword(t *testing.T) {
	bin := buildServer(t)
	t.Run("from standard input", func(t *testing.T) {
		cmd := exec.Command(bin, "hash-password")
		cmd.Stdin = strings.NewReader("sesame\n")
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		hash := strings.TrimSpace(string(out))
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte("sesame")) != nil {
			t.Fatalf("%q is not a hash of the password", hash)
		}
	})
	t.Run("-h prints help, not a hash", func(t *testing.T) {
		for _, arg := range []string{"-h", "--help", "-help"} {
			cmd := exec.Command(bin, "hash-password", arg)
			cmd.Stdin = strings.NewReader("sesame\n")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", arg, err)
			}
			if !strings.HasPrefix(string(out), "Usage: telchat hash-password") || strings.Contains(string(out), "$2a$") {
				t.Fatalf("%s printed %q", arg, out)
			}
		}
	})
	t.Run("a password on the command line is refused", func(t *testing.T) {
		cmd := exec.Command(bin, "hash-password", "sesame")
		cmd.Stdin = strings.NewReader("sesame\n")
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || strings.Count(string(out), "\n") != 1 ||
			!strings.Contains(string(out), `unexpected argument "sesame"`) {
			t.Fatalf("got %v, %q", err, out)
		}
	})
}

// hashOnTerminal drives "telchat hash-password" on a terminal (expect's
// pseudo-terminal) and types the two passwords. It prints the program's
// output and exits with its status.
const hashOnTerminal = `
set timeout 30
lassign $argv bin first second
spawn $bin hash-password
expect {
	"Password: " {}
	timeout { puts "\n@@ no first prompt"; exit 98 }
}
send "$first\r"
expect {
	"Again: " {}
	timeout { puts "\n@@ no second prompt"; exit 98 }
	eof { puts "\n@@ asked only once"; exit 98 }
}
send "$second\r"
expect eof
lassign [wait] pid spawnid oserr status
exit $status
`

// TestHashPasswordOnATerminalAsksTwice: typed passwords are asked for
// twice, without echo, and two different ones are refused.
func TestHashPasswordOnATerminalAsksTwice(t *testing.T) {
	expect := servertest.RequireBinary(t, "expect")
	bin := buildServer(t)
	script := filepath.Join(t.TempDir(), "hash.exp")
	if err := os.WriteFile(script, []byte(hashOnTerminal), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(first, second string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
		defer cancel()
		out, err := exec.CommandContext(ctx, expect, "-f", script, bin, first, second).CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return string(out), 0
		case errors.As(err, &ee) && ee.ExitCode() != 98:
			return string(out), ee.ExitCode()
		}
		t.Fatalf("expect: %v\n%s", err, out)
		return "", 0
	}

	out, code := run("open sesame", "open sesame")
	hash := regexp.MustCompile(`\$2a\$\d\d\$[./A-Za-z0-9]{53}`).FindString(out)
	if code != 0 || bcrypt.CompareHashAndPassword([]byte(hash), []byte("open sesame")) != nil {
		t.Fatalf("same password twice: exit %d, hash %q, output:\n%s", code, hash, out)
	}
	if strings.Contains(out, "open sesame") {
		t.Fatalf("the password was echoed:\n%s", out)
	}

	out, code = run("open sesame", "open sesam")
	if code != 1 || !strings.Contains(out, "telchat hash-password: the two passwords differ; nothing was written, try again") || strings.Contains(out, "$2a$") {
		t.Fatalf("two different passwords: exit %d, output:\n%s", code, out)
	}
}

func TestZeroMeansNoneForHistoryAndAnnouncements(t *testing.T) {
	cases := []struct {
		flag, hub int
		fn        func(int) int
		name      string
	}{
		{0, -1, hubHistory, "history 0: none"},
		{50, 50, hubHistory, "history 50"},
		{0, 1, hubAnnounceMax, "announce-max 0: never (a room of one has nobody to tell)"},
		{-1, -1, hubAnnounceMax, "announce-max -1: always"},
		{200, 200, hubAnnounceMax, "announce-max 200"},
	}
	for _, tc := range cases {
		if got := tc.fn(tc.flag); got != tc.hub {
			t.Errorf("%s: hub gets %d, want %d", tc.name, got, tc.hub)
		}
	}
}

func TestSecondServerOnTheSameDataDirIsRefused(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	first := startServer(t, bin, nil, "-data-dir", dir)
	out, err := exec.Command(bin, "-addr", "127.0.0.1:0", "-data-dir", dir).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("second server: want exit 1, got %v (%s)", err, out)
	}
	if !strings.Contains(string(out), "another telchat process is using this data directory") {
		t.Fatalf("second server said %q", out)
	}
	if strings.Contains(string(out), "listening") {
		t.Fatalf("the refused server listened first: %q", out)
	}
	// The first one still serves.
	c, r := login(t, first.addr, "ada")
	defer c.Close()
	_, _ = c.Write([]byte("/who\n"))
	readUntil(t, r, "in #lobby")
}
