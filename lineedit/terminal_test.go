package lineedit

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRealTerminal shows an editing session's bytes in a real terminal
// (tmux) and checks that it shows what the screen model used by the other
// tests shows: the rows and the cursor.
func TestRealTerminal(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed; .ci/run installs it")
		}
		t.Skip("tmux is not installed")
	}
	const width, height = 40, 16
	ss := newSession(t, Config{Prompt: "\x1b[1m>\x1b[0m ", Width: width})
	var all bytes.Buffer
	all.Write(ss.e.AppendRedraw(nil))
	type step struct {
		keys  string
		batch string // output that arrives after keys
	}
	steps := []step{
		{keys: "hello 日本語 wörld\x1b[D\x1b[D\x1b[DX"},
		{batch: "<bob> 你好\r\n<eve> cafe\u0301!\r\n"},
		{keys: "\x1b[D\x7f\x01\x1b[C\x1b[CY"},
		{keys: "\r\x00" + strings.Repeat("abcdefghij", 4) + "日本" + strings.Repeat("klmnopqrst", 2)},
		{batch: "<bob> a line that is wider than the terminal, so it wraps\r\n"},
		{keys: "\x01\x1b[C\x1b[C\x1b[C\x1b[C\x1b[CZ"},
		{keys: "\x05\x7f\x7f\x7f\x1b[1;5D"},
		{keys: "\r\ne\u0301\u0301x\x1b[D\x1b[D\x03"},
		{keys: "pass\r"},
		{keys: strings.Repeat("0123456789", 6) + "日本" + strings.Repeat("\x1b[D", 12)}, // left scrolled
		{batch: "<eve> bye\r\n"},
	}
	for _, st := range steps {
		if st.keys != "" {
			out, evs := ss.e.Feed(nil, nil, []byte(st.keys))
			ss.s.Write(out)
			ss.evs = append(ss.evs, evs...)
			all.Write(out)
		}
		if st.batch != "" {
			b := ss.e.AppendErase(nil)
			b = append(b, st.batch...)
			b = ss.e.AppendRedraw(b)
			ss.s.Write(b)
			all.Write(b)
		}
		ss.check()
	}
	if ss.s.row >= height {
		t.Fatalf("the session takes %d rows; the terminal has %d", ss.s.row+1, height)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "out"), all.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(tmux, append([]string{"-S", sock, "-f", "/dev/null"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("new-session", "-d", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height),
		"stty raw -echo; cat out; touch done; exec sleep 600")
	t.Cleanup(func() { exec.Command(tmux, "-S", sock, "kill-server").Run() })

	var want []string
	for r := range height {
		want = append(want, ss.s.line(r))
	}
	wantCursor := fmt.Sprintf("%d,%d", ss.s.col, ss.s.row)
	var got []string
	var cursor string
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err := os.Stat(filepath.Join(dir, "done"))
		got = strings.Split(strings.TrimSuffix(run("capture-pane", "-p"), "\n"), "\n")
		for i := range got {
			got[i] = strings.TrimRight(got[i], " ")
		}
		for len(got) < height {
			got = append(got, "")
		}
		cursor = strings.TrimSpace(run("display-message", "-p", "#{cursor_x},#{cursor_y}"))
		if err == nil && strings.Join(got, "\n") == strings.Join(want, "\n") && cursor == wantCursor {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tmux shows (cursor %s):\n%s\nthe model (cursor %s):\n%s",
				cursor, strings.Join(got, "\n"), wantCursor, strings.Join(want, "\n"))
		}
		time.Sleep(20 * time.Millisecond) // polling tmux for the condition, bounded by the deadline
	}
	if got := ss.events(); got != `line("heYllo 日本語 wXrld") line("abcdeZfghijabcdefghijabcdefghijabcdefghij日本klmnopqrstklmnopq") interrupt line("pass")` {
		t.Errorf("events %s", got)
	}
}
