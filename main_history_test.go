package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"telchat/store"
	"telchat/store/boltstore"
)

// stopServer ends s with SIGTERM and waits for a clean exit.
func stopServer(t *testing.T, s *server) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

// readHistory sends /history args and returns the lines between its header
// and footer, without their "[HH:MM] " stamps.
func readHistory(t *testing.T, c net.Conn, r *bufio.Reader, args string) []string {
	lines, _ := readHistoryPage(t, c, r, args)
	return lines
}

// readHistoryPage is readHistory that also returns the footer's time to
// page back from.
func readHistoryPage(t *testing.T, c net.Conn, r *bufio.Reader, args string) (lines []string, older string) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "/history %s\n", args); err != nil {
		t.Fatal(err)
	}
	head := readUntil(t, r, "*** ")
	if strings.Contains(head, "No messages") {
		return nil, ""
	}
	if !strings.Contains(head, "in #") {
		t.Fatalf("/history %s: header %q", args, head)
	}
	var out []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("/history %s: %v after %q", args, err, out)
		}
		l = strings.TrimRight(l, "\r\n")
		if strings.HasPrefix(l, "*** End of history") {
			_, after, _ := strings.Cut(l, "/history before ")
			older, _, _ = strings.Cut(after, " for older")
			return out, older
		}
		if _, rest, ok := strings.Cut(l, "] "); ok && strings.HasPrefix(l, "[") {
			out = append(out, rest)
		}
	}
}

// TestHistorySurvivesRestart: lines said before a restart are shown to a
// joiner after it and by /history, which pages back with "before".
func TestHistorySurvivesRestart(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	args := []string{"-data-dir", dir, "-msg-rate", "0", "-history", "3"}
	s := startServer(t, bin, nil, args...)
	alice, _ := login(t, s.addr, "alice")
	bob, bobR := login(t, s.addr, "bob")
	for i := range 8 {
		fmt.Fprintf(alice, "line %d\n", i)
	}
	readUntil(t, bobR, "<alice> line 7")
	_ = bob
	stopServer(t, s)

	s = startServer(t, bin, nil, args...)
	c, r := login(t, s.addr, "carol")
	readUntil(t, r, "*** Last 3 messages in #lobby:")
	for i := 5; i < 8; i++ {
		readUntil(t, r, fmt.Sprintf("[history] <alice> line %d", i))
	}
	readUntil(t, r, "*** End of history")
	got, older := readHistoryPage(t, c, r, "5")
	if want := "[<alice> line 3 <alice> line 4 <alice> line 5 <alice> line 6 <alice> line 7]"; fmt.Sprint(got) != want {
		t.Fatalf("/history 5 = %q, want %s", got, want)
	}
	got, older = readHistoryPage(t, c, r, "before "+older+" 2")
	if fmt.Sprint(got) != "[<alice> line 1 <alice> line 2]" {
		t.Fatalf("/history before %s 2 = %q", older, got)
	}
	if got = readHistory(t, c, r, "before "+older); fmt.Sprint(got) != "[<alice> line 0]" {
		t.Fatalf("/history before %s = %q", older, got)
	}
	past := time.Now().UTC().Add(-30 * time.Minute)
	if got := readHistory(t, c, r, "before "+past.Format(time.DateOnly+" 15:04")); len(got) != 0 {
		t.Fatalf("/history before 30 minutes ago = %q, want nothing", got)
	}
	fmt.Fprintf(c, "/history 501\n")
	readUntil(t, r, "not a number of lines from 1 to 500")
	fmt.Fprintf(c, "/history before 25:99\n")
	readUntil(t, r, "HH:MM")
}

// TestKillLosesOnlyTheLastSyncInterval: the server is killed (SIGKILL)
// during a burst of chat; after a restart, every line a member saw more
// than the sync interval (plus two seconds for the write itself on a
// loaded machine) before the
// kill is in the history, once and in order.
func TestKillLosesOnlyTheLastSyncInterval(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	const interval = 100 * time.Millisecond
	const slack = 2 * time.Second // the commit's own time (fsync) on a loaded CI machine
	args := []string{"-data-dir", dir, "-msg-rate", "0", "-sync-interval", interval.String()}
	s := startServer(t, bin, nil, args...)
	alice, _ := login(t, s.addr, "alice")
	_, bobR := login(t, s.addr, "bob")

	stopSending := make(chan struct{})
	sent := make(chan int, 1)
	// One line every 10ms: the whole burst fits in one /history page.
	go func() {
		i := 0
		defer func() { sent <- i }()
		pace := time.NewTicker(10 * time.Millisecond)
		defer pace.Stop()
		for ; i < 2000; i++ {
			select {
			case <-stopSending:
				return
			case <-pace.C:
			}
			if _, err := fmt.Fprintf(alice, "burst %d\n", i); err != nil {
				return
			}
		}
	}()
	seenAt := map[string]time.Time{}
	var order []string
	var first time.Time
	for {
		l, err := bobR.ReadString('\n')
		if err != nil {
			t.Fatalf("bob: %v after %d lines", err, len(order))
		}
		l = strings.TrimRight(l, "\r\n")
		if !strings.HasPrefix(l, "<alice> burst ") {
			continue
		}
		now := time.Now()
		if first.IsZero() {
			first = now
		}
		seenAt[l] = now
		order = append(order, l)
		if now.Sub(first) > slack+1500*time.Millisecond && len(order) > 100 {
			break
		}
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = s.wait(t)
	close(stopSending)
	<-sent

	s = startServer(t, bin, nil, args...)
	c, r := login(t, s.addr, "carol")
	readUntil(t, r, "*** End of history") // the joiner's
	stored := readHistory(t, c, r, "500")
	if len(stored) >= 500 {
		t.Fatalf("%d lines stored: the burst was meant to fit in one page", len(stored))
	}
	have := map[string]int{}
	for i, l := range stored {
		if _, dup := have[l]; dup {
			t.Fatalf("%q stored twice", l)
		}
		have[l] = i
	}
	must := 0
	last := -1
	for _, l := range order {
		if killed.Sub(seenAt[l]) < interval+slack {
			continue
		}
		must++
		i, ok := have[l]
		if !ok {
			t.Fatalf("%q was seen %v before the kill but is not in the history (%d lines stored)", l, killed.Sub(seenAt[l]), len(stored))
		}
		if ok && i < last {
			t.Fatalf("%q is out of order", l)
		}
		if ok {
			last = i
		}
	}
	if must == 0 {
		t.Fatal("no line was old enough to check")
	}
	t.Logf("%d lines seen, %d older than %v at the kill, %d in the last page of history", len(order), must, interval+slack, len(stored))
}

// TestCorruptStoreStopsTheStart: a store file that is not a bbolt file
// stops the start with an error naming the file, before listening.
func TestCorruptStoreStopsTheStart(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	if err := os.WriteFile(boltstore.Path(dir), []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-addr", "127.0.0.1:0", "-data-dir", dir).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("want exit 1, got %v (%s)", err, out)
	}
	if !strings.Contains(string(out), boltstore.Path(dir)) || strings.Contains(string(out), "listening") {
		t.Fatalf("output %q: want an error naming %s, before listening", out, boltstore.Path(dir))
	}
}

// TestBackupWhileRunning: telchat backup through the admin socket writes a
// copy that a server can start from; without the socket a running server's
// directory is refused with a hint.
func TestBackupWhileRunning(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	sock := filepath.Join(t.TempDir(), "a.sock")
	s := startServer(t, bin, nil, "-data-dir", dir, "-admin-socket", sock)
	alice, _ := login(t, s.addr, "alice")
	_, bobR := login(t, s.addr, "bob")
	fmt.Fprintf(alice, "before the backup\n")
	readUntil(t, bobR, "<alice> before the backup")

	// The line may still wait for its commit (at most the sync interval):
	// the backup holds what is committed when it starts, so back up again
	// until the copy has it.
	var copyDir, file string
	for attempt := 0; ; attempt++ {
		copyDir = t.TempDir()
		file = boltstore.Path(copyDir)
		out, err := exec.Command(bin, "backup", "-admin-socket", sock, file).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Backup written to "+file) {
			t.Fatalf("backup: %v: %s", err, out)
		}
		if copyHas(t, copyDir, "before the backup") {
			break
		}
		if attempt == 50 {
			t.Fatal("50 backups, none with the line")
		}
	}
	out, err := exec.Command(bin, "backup", "-data-dir", dir, filepath.Join(copyDir, "x.db")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "-admin-socket") {
		t.Fatalf("backup of a running server's directory without the socket: %v: %s", err, out)
	}
	out, err = exec.Command(bin, "backup", "-admin-socket", sock, file).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "exists") {
		t.Fatalf("backup over an existing file: %v: %s", err, out)
	}
	stopServer(t, s)

	s = startServer(t, bin, nil, "-data-dir", copyDir)
	_, r := login(t, s.addr, "carol")
	readUntil(t, r, "*** Last ")
	readUntil(t, r, "<alice> before the backup")
}

// copyHas reports whether the store in dir holds text in its lobby history.
func copyHas(t *testing.T, dir, line string) bool {
	t.Helper()
	db, err := boltstore.Open(dir, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	found := make(chan bool, 1)
	db.History("lobby", time.Time{}, 10, func(ms []store.Message, err error) {
		ok := false
		for _, m := range ms {
			ok = ok || m.Text == line
		}
		found <- ok && err == nil
	})
	select {
	case ok := <-found:
		return ok
	case <-time.After(waitLimit):
		t.Fatal("no answer from the copy")
		return false
	}
}

// TestRoomHistoryLoadedOnFirstJoin: a room that does not exist after a
// restart (no topic, no members) gets its lines from disk when someone
// joins it, ahead of what is said since.
func TestRoomHistoryLoadedOnFirstJoin(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	args := []string{"-data-dir", dir, "-msg-rate", "0"}
	s := startServer(t, bin, nil, args...)
	alice, aliceR := login(t, s.addr, "alice")
	fmt.Fprintf(alice, "/join den\n")
	readUntil(t, aliceR, "You are now in #den")
	fmt.Fprintf(alice, "in the den 1\nin the den 2\n/history 2\n")
	readUntil(t, aliceR, "<alice> in the den 2")
	stopServer(t, s)

	s = startServer(t, bin, nil, args...)
	bob, bobR := login(t, s.addr, "bob")
	fmt.Fprintf(bob, "/join den\n")
	readUntil(t, bobR, "You are now in #den")
	readUntil(t, bobR, "[history] <alice> in the den 1")
	readUntil(t, bobR, "[history] <alice> in the den 2")
	readUntil(t, bobR, "*** End of history")
	fmt.Fprintf(bob, "now\n")
	got := readHistory(t, bob, bobR, "3")
	if fmt.Sprint(got) != "[<alice> in the den 1 <alice> in the den 2 <bob> now]" {
		t.Fatalf("/history 3 after the join: %q", got)
	}
}
