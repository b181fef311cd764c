package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const waitLimit = 20 * time.Second

// buildServer builds the telchat binary once per test run.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "telchat")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// server is a running telchat process.
type server struct {
	cmd   *exec.Cmd
	addr  string
	stdin io.WriteCloser
	done  chan error
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
	s := &server{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Message == "listening" {
				addr <- rec.Addr
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case s.addr = <-addr:
	case <-time.After(waitLimit):
		t.Fatal("server did not log its address")
	}
	return s
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

func TestStartupErrors(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"corrupt state file", []string{"-data-dir", dir}, "state.json"},
		{"bad log level", []string{"-log-level", "loud"}, "-log-level"},
		{"password file without a hash", []string{"-data-dir", t.TempDir(), "-admin-password-file", filepath.Join(dir, "state.json")}, "bcrypt"},
		{"pprof off loopback", []string{"-data-dir", t.TempDir(), "-addr", "127.0.0.1:0", "-pprof", "0.0.0.0:0"}, "loopback"},
		{"coalesce too long", []string{"-data-dir", t.TempDir(), "-addr", "127.0.0.1:0", "-coalesce", "1s"}, "-coalesce 1s: at most 100ms"},
		{"max-line too small", []string{"-data-dir", t.TempDir(), "-addr", "127.0.0.1:0", "-max-line", "0"}, "-max-line 0: at least 64 bytes"},
		{"negative linger", []string{"-data-dir", t.TempDir(), "-addr", "127.0.0.1:0", "-linger", "-1s"}, "-linger must be positive"},
		{"burst of zero with a rate", []string{"-data-dir", t.TempDir(), "-addr", "127.0.0.1:0", "-msg-burst", "0"}, "-msg-burst must be at least 1"},
		{"negative history", []string{"-data-dir", t.TempDir(), "-addr", "127.0.0.1:0", "-history", "-3"}, "-history must not be negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(bin, tc.args...).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("want exit 1, got %v (%s)", err, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Fatalf("output %q does not mention %q", out, tc.want)
			}
		})
	}
}

func TestHashPassword(t *testing.T) {
	bin := buildServer(t)
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
