package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"telchat/internal/servertest"
)

// notifySocket listens like systemd's notification socket and returns its
// path and the datagrams received, in order.
func notifySocket(t *testing.T) (string, <-chan string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	notes := make(chan string, 16)
	go func() {
		defer close(notes)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			notes <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { _ = conn.Close() })
	return path, notes
}

// expectNote waits for the next notification and checks that it starts
// with want.
func expectNote(t *testing.T, notes <-chan string, want string) string {
	t.Helper()
	select {
	case n := <-notes:
		if !strings.HasPrefix(n, want) {
			t.Fatalf("notification %q, want %q...", n, want)
		}
		return n
	case <-time.After(waitLimit):
		t.Fatalf("no %q notification", want)
		return ""
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
}

// startActivated runs the server under systemd-socket-activate, which
// opens the listening socket itself and starts the server, handing it the
// socket, on the first connection (as systemd does for telchat.socket).
func startActivated(t *testing.T, bin, fdname string, env []string, args ...string) (*servertest.Process, string) {
	t.Helper()
	sa := servertest.RequireBinary(t, "systemd-socket-activate")
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		cmdline := []string{"-l", "127.0.0.1:" + port, "--fdname=" + fdname}
		for _, e := range env {
			cmdline = append(cmdline, "-E", e)
		}
		cmdline = append(cmdline, bin, "-data-dir", t.TempDir(), "-log-format", "json", "-addr", "127.0.0.1:1")
		p := servertest.StartProcess(t, nil, sa, append(cmdline, args...)...)
		// Another program may take the port between freePort and here.
		if _, got := p.Out.WaitForAny(t, 0, "Listening on", "Failed"); got == "Listening on" {
			return p, "127.0.0.1:" + port
		}
		if attempt == 4 {
			t.Fatalf("systemd-socket-activate could not listen:\n%s", p.Out)
		}
	}
}

func TestSocketActivationAndNotify(t *testing.T) {
	bin := buildServer(t)
	notify, notes := notifySocket(t)
	// -addr 127.0.0.1:1 (set by startActivated) would fail to listen: the
	// passed socket is used instead.
	p, addr := startActivated(t, bin, "chat", []string{"NOTIFY_SOCKET=" + notify})

	// The first connection starts the server.
	_, ar := login(t, addr, "ann")
	expectNote(t, notes, "READY=1")
	bob, br := login(t, addr, "bob")
	readUntil(t, ar, "bob joined #lobby")
	if _, err := bob.Write([]byte("hello through the passed socket\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ar, "<bob> hello through the passed socket")
	p.Out.WaitFor(t, 0, `"systemd":true`)

	// systemd stops a service with SIGTERM.
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expectNote(t, notes, "STOPPING=1")
	readUntil(t, br, "Server shutting down")
	if err := p.Wait(t); err != nil {
		t.Fatalf("exit: %v\n%s", err, p.Out)
	}
}

func TestSocketActivationRefusesUnknownSocketNames(t *testing.T) {
	bin := buildServer(t)
	p, addr := startActivated(t, bin, "gopher", nil)
	if c, err := net.DialTimeout("tcp", addr, waitLimit); err == nil {
		// The connection that starts the server is closed when it exits.
		_ = c.SetDeadline(time.Now().Add(waitLimit))
		_, _ = bufio.NewReader(c).ReadString('\n')
		_ = c.Close()
	}
	if err := p.Wait(t); err == nil {
		t.Fatalf("the server accepted a socket named gopher:\n%s", p.Out)
	}
	p.Out.WaitFor(t, 0, `a socket is named "gopher"`)
}

// TestUnitFilesVerify checks contrib/systemd with systemd's own parser
// (systemd-analyze verify: unknown keys, bad values, a missing binary).
func TestUnitFilesVerify(t *testing.T) {
	analyze := servertest.RequireBinary(t, "systemd-analyze")
	bin := buildServer(t)
	dir := t.TempDir()
	for _, name := range []string{"telchat.service", "telchat.socket", "telchat-tls.socket"} {
		b, err := os.ReadFile(filepath.Join("contrib", "systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		unit := strings.ReplaceAll(string(b), "/usr/local/bin/telchat", bin)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(analyze, "verify", "telchat.socket", "telchat-tls.socket", "telchat.service")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
