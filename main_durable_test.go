package main

import (
	"bufio"
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

	"telchat/store"
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
			st, err := store.Load(dir)
			if err != nil {
				t.Fatalf("after the kill: %v", err)
			}
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

// breakSaves makes every save in dir fail, even for root: state.json
// becomes a non-empty directory, so renaming a file over it fails. The
// returned function undoes it.
func breakSaves(t *testing.T, dir string) (repair func()) {
	t.Helper()
	path := store.Path(dir)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "blocker"), 0o700); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.RemoveAll(path); err != nil {
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
		repair := breakSaves(t, dir)
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
		st, err := store.Load(dir)
		if err != nil || len(st.Bans) != 1 || st.Bans[0].Mask != "mallory" {
			t.Fatalf("after the restart: %+v, %v", st.Bans, err)
		}
	})

	t.Run("still failing at shutdown: exit 1", func(t *testing.T) {
		dir := t.TempDir()
		sock := filepath.Join(t.TempDir(), "a.sock")
		s := startServer(t, bin, nil, "-data-dir", dir, "-admin-socket", sock, "-shutdown-timeout", "1s")
		c, r := dialAdmin(t, sock)
		breakSaves(t, dir)
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
