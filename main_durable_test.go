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
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"telchat/store"
	"telchat/store/boltstore"
)

// dialAdmin connects to an admin socket and reads its greeting.
func dialAdmin(t *testing.T, path string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("unix", path, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(waitLimit))
	r := bufio.NewReader(c)
	readUntil(t, r, "telchat admin console")
	return c, r
}

// storeBans writes n old bans to dir's state file, so that every save has
// a few hundred kilobytes to write.
func storeBans(t *testing.T, dir string, n int) {
	t.Helper()
	st := store.State{}
	for i := range n {
		st.Bans = append(st.Bans, store.Ban{Mask: fmt.Sprintf("old%d", i), Reason: "from an earlier run", By: "console",
			Created: time.Now().Add(-time.Duration(n-i) * time.Second)})
	}
	if err := store.Save(dir, st); err != nil {
		t.Fatal(err)
	}
}

// TestConfirmedBansSurviveKill: a burst of bans over the admin socket, the
// process killed (SIGKILL) right after a confirmation: after a restart
// every confirmed ban is there. Each round kills at another point of the
// burst.
func TestConfirmedBansSurviveKill(t *testing.T) {
	bin := buildServer(t)
	const burst = 40
	for round, killAfter := range []int{burst, 1, burst / 2, 3} {
		t.Run(fmt.Sprintf("kill after %d confirmations", killAfter), func(t *testing.T) {
			dir := t.TempDir()
			storeBans(t, dir, 3000)
			sock := filepath.Join(t.TempDir(), "a.sock")
			s := startServer(t, bin, nil, "-data-dir", dir, "-admin-socket", sock)
			c, r := dialAdmin(t, sock)
			var b strings.Builder
			for i := range burst {
				fmt.Fprintf(&b, "ban new%d-%d\n", round, i)
			}
			if _, err := c.Write([]byte(b.String())); err != nil {
				t.Fatal(err)
			}
			var confirmed []string
			for len(confirmed) < killAfter {
				l, err := r.ReadString('\n')
				if err != nil {
					t.Fatalf("after %d confirmations: %v", len(confirmed), err)
				}
				if f := strings.Fields(l); len(f) > 2 && f[0] == "***" && f[1] == "Banned" {
					confirmed = append(confirmed, f[2])
				}
			}
			if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = s.wait(t)
			st := storedState(t, dir)
			have := map[string]bool{}
			for _, b := range st.Bans {
				have[b.Mask] = true
			}
			for _, m := range confirmed {
				if !have[m] {
					t.Errorf("ban %s was confirmed but is not in the file after the kill", m)
				}
			}
			if len(st.Bans) < 3000+len(confirmed) {
				t.Errorf("%d bans in the file; want at least the 3000 old ones and %d confirmed", len(st.Bans), len(confirmed))
			}
		})
	}
}

// storedState reads the operator state from the store in dir (the server
// is not running).
func storedState(t *testing.T, dir string) store.State {
	t.Helper()
	db, err := boltstore.Open(dir, boltstore.Options{OperatorState: true})
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	defer db.Close(context.Background())
	return db.State()
}

// breakSaves makes every write of the running server s to its store fail,
// even for root: its file size limit (RLIMIT_FSIZE) drops to the store's
// two meta pages, so that writing any other page fails with EFBIG (Go
// ignores SIGXFSZ), as on a full disk. The returned function restores the
// limit.
func breakSaves(t *testing.T, s *server) (repair func()) {
	t.Helper()
	pid := s.cmd.Process.Pid
	var old unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, nil, &old); err != nil {
		t.Fatal(err)
	}
	low := unix.Rlimit{Cur: uint64(2 * os.Getpagesize()), Max: old.Max}
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &low, nil); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &old, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFailedSaves: while saves fail, the admin socket is told, a ban is
// answered as pending, and it is confirmed once saving works again; a
// shutdown while saving still fails exits non-zero and says so.
func TestFailedSaves(t *testing.T) {
	bin := buildServer(t)

	t.Run("retried until it works, then confirmed", func(t *testing.T) {
		dir := t.TempDir()
		sock := filepath.Join(t.TempDir(), "a.sock")
		s := startServer(t, bin, nil, "-data-dir", dir, "-admin-socket", sock)
		c, r := dialAdmin(t, sock)
		repair := breakSaves(t, s)
		_, _ = c.Write([]byte("ban mallory\n"))
		readUntil(t, r, "! Cannot save bans, MOTD and topics to disk")
		readUntil(t, r, "! The ban on mallory is in force but not yet on disk")
		repair()
		readUntil(t, r, "*** Bans, MOTD and topics are saved to disk again")
		readUntil(t, r, "*** Banned mallory")
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := s.wait(t); err != nil {
			t.Fatalf("exit: %v", err)
		}
		st := storedState(t, dir)
		if len(st.Bans) != 1 || st.Bans[0].Mask != "mallory" {
			t.Fatalf("after the restart: %+v", st.Bans)
		}
	})

	t.Run("still failing at shutdown: exit 1", func(t *testing.T) {
		dir := t.TempDir()
		sock := filepath.Join(t.TempDir(), "a.sock")
		s := startServer(t, bin, nil, "-data-dir", dir, "-admin-socket", sock, "-shutdown-timeout", "1s")
		c, r := dialAdmin(t, sock)
		breakSaves(t, s)
		_, _ = c.Write([]byte("motd set lost\n"))
		readUntil(t, r, "! The new message of the day is in force but not yet on disk")
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		err := s.wait(t)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("exit: %v; want status 1", err)
		}
		if !slices.ContainsFunc(s.logged(), func(l string) bool { return strings.Contains(l, "exiting with state not on disk") }) {
			t.Fatalf("standard error does not say the state is lost: %q", s.logged())
		}
	})
}

// TestStartCleansAndChecksState: temporary files of an interrupted save are
// removed; a dangling state.json symlink stops the start, naming the file;
// more bans than the cap keep the newest; a MOTD with escape codes is
// sanitized.
func TestStartCleansAndChecksState(t *testing.T) {
	bin := buildServer(t)

	t.Run("stale temporary files removed", func(t *testing.T) {
		dir := t.TempDir()
		stale := filepath.Join(dir, ".state.json.tmp-12345")
		if err := os.WriteFile(stale, []byte(`{"version":1}`), 0o600); err != nil {
			t.Fatal(err)
		}
		startServer(t, bin, nil, "-data-dir", dir)
		if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s is still there (%v)", stale, err)
		}
	})

	t.Run("dangling symlink refused", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Symlink(filepath.Join(dir, "elsewhere.json"), store.Path(dir)); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "-addr", "127.0.0.1:0", "-data-dir", dir).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("want exit 1, got %v (%s)", err, out)
		}
		if !strings.Contains(string(out), store.Path(dir)) || strings.Contains(string(out), "listening") {
			t.Fatalf("output %q: want an error naming %s, before listening", out, store.Path(dir))
		}
	})

	t.Run("ban cap applied on load, escape codes removed", func(t *testing.T) {
		dir := t.TempDir()
		storeBans(t, dir, store.MaxBans+25) // old0 .. old24 are the oldest
		st, err := store.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		st.MOTD = "\x1b[2J\x1b]0;owned\x07Welcome"
		if err := store.Save(dir, st); err != nil {
			t.Fatal(err)
		}
		sock := filepath.Join(t.TempDir(), "a.sock")
		s := startServer(t, bin, nil, "-data-dir", dir, "-admin-socket", sock)
		if !slices.ContainsFunc(s.logged(), func(l string) bool {
			return strings.Contains(l, "more bans than the cap") && strings.Contains(l, `"dropped":25`) && strings.Contains(l, "old0 old1 ")
		}) {
			t.Fatalf("the log does not name the dropped bans: %q", s.logged())
		}
		c, r := dialAdmin(t, sock)
		_, _ = c.Write([]byte("stats\n"))
		readUntil(t, r, fmt.Sprintf("bans %d", store.MaxBans))
		_, raw := login(t, s.addr, "alice")
		l := readUntil(t, raw, "Welcome")
		if strings.ContainsAny(l, "\x1b\x07") {
			t.Fatalf("MOTD reached the terminal raw: %q", l)
		}
	})
}

// TestStateJSONImportedOnce: on its first start the server imports
// state.json into its store and never writes or reads the file again: it
// stays as it was, a backup, and changes live in the store across
// restarts.
func TestStateJSONImportedOnce(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	storeBans(t, dir, 2)
	st, err := store.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.MOTD = "the old motd"
	if err := store.Save(dir, st); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(store.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "a.sock")
	s := startServer(t, bin, nil, "-data-dir", dir, "-admin-socket", sock)
	if !slices.ContainsFunc(s.logged(), func(l string) bool { return strings.Contains(l, "imported bans, MOTD and topics") }) {
		t.Fatalf("the log does not tell of the import: %q", s.logged())
	}
	c, r := dialAdmin(t, sock)
	_, _ = c.Write([]byte("bans\n"))
	readUntil(t, r, "old1")
	_, _ = c.Write([]byte("motd set the new motd\n"))
	readUntil(t, r, "*** Message of the day set")
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.wait(t); err != nil {
		t.Fatalf("exit: %v", err)
	}
	after, err := os.ReadFile(store.Path(dir))
	if err != nil || string(after) != string(before) {
		t.Fatalf("state.json changed (or is gone: %v)", err)
	}
	s = startServer(t, bin, nil, "-data-dir", dir)
	_, raw := login(t, s.addr, "alice")
	readUntil(t, raw, "the new motd")
}
