package main

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeFile writes a test file, failing the test on error.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// dialGreeting connects and returns the first line the server sends.
func dialGreeting(t *testing.T, addr string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(waitLimit))
	r := bufio.NewReader(c)
	l, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the greeting: %v", err)
	}
	return c, r, l
}

// TestReload changes the -config file and the -motd-file of a running
// server and reloads with SIGHUP and with rehash on the console: the live
// settings change, the others are reported as needing a restart, nobody
// is dropped, and a reload that fails changes nothing and says why.
func TestReload(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	conf, motd := filepath.Join(dir, "telchat.conf"), filepath.Join(dir, "motd")
	writeFile(t, conf, "# test\nmax-per-ip = 2\nmotd-file = "+motd+"\n")
	writeFile(t, motd, "Hello v1\nsecond \x1b[31mline\n\n")
	notify, notes := notifySocket(t)
	s := startServer(t, bin, []string{"NOTIFY_SOCKET=" + notify}, "-console", "-data-dir", filepath.Join(dir, "data"), "-config", conf, "-connect-rate", "0")
	expectNote(t, notes, "READY=1")

	ann, ar := login(t, s.addr, "ann")
	readUntil(t, ar, "*** Hello v1")
	if l := readUntil(t, ar, "*** second"); !strings.Contains(l, "*** second line") {
		t.Errorf("second MOTD line %q: the escape sequence should be gone", l)
	}
	_, _ = login(t, s.addr, "bob")
	if _, _, l := dialGreeting(t, s.addr); !strings.Contains(l, "too many connections from your address") {
		t.Fatalf("a third connection with max-per-ip 2: %q", l)
	}

	// SIGHUP with new settings: two live ones and one that needs a restart.
	writeFile(t, conf, "max-per-ip = 3\nidle-timeout = 1h\nname = renamed\nmotd-file = "+motd+"\n")
	writeFile(t, motd, "Hello v2\n")
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	expectNote(t, notes, "RELOADING=1\nMONOTONIC_USEC=")
	expectNote(t, notes, "READY=1")
	s.expectStdout(t, "*** Reloaded (SIGHUP)")
	for _, want := range []string{
		"*** Now -max-per-ip 3 (was -max-per-ip 2)",
		"*** Now -idle-timeout 1h0m0s (was -idle-timeout 0s)",
		"*** Read the MOTD file",
		"! Not applied, these need a restart: -name renamed",
	} {
		s.expectStdout(t, want)
	}
	_, cr := login(t, s.addr, "cat") // the third connection is let in now
	readUntil(t, cr, "*** Hello v2")
	if _, err := ann.Write([]byte("still here\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, cr, "<ann> still here")

	// A reload that fails keeps everything as it was.
	writeFile(t, conf, "max-per-ip = lots\n")
	if _, err := s.stdin.Write([]byte("rehash\n")); err != nil {
		t.Fatal(err)
	}
	s.expectStdout(t, `! Reload failed, nothing was changed: -max-per-ip "lots": want a whole number`)
	if _, _, l := dialGreeting(t, s.addr); !strings.Contains(l, "too many connections from your address") {
		t.Fatalf("a fourth connection after a failed reload (max-per-ip still 3): %q", l)
	}
	writeFile(t, conf, "max-per-ip = 3\nmotd-file = "+filepath.Join(dir, "missing")+"\n")
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s.expectStdout(t, "! Reload (SIGHUP) failed, nothing was changed: -motd-file: open ")
	if _, err := ann.Write([]byte("/motd\n")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ar, "*** Hello v2")

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t); err != nil {
		t.Fatalf("exit: %v", err)
	}
}
