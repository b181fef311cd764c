package lineedit

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEditor types random bytes into an Editor, whole and in pieces, and
// checks the invariants: the output is well-formed VT100 for a Telnet NVT
// (no 0xFF, CR only before NUL or LF, LF only after CR), the screen always
// shows what a full redraw shows, the line never wraps, lines hold only
// printable characters within the cap, and the split does not matter.
func FuzzEditor(f *testing.F) {
	for _, s := range []string{
		"hello\r\x00", "ab\x1b[D\x1b[Dx\x7f\x7f\x01\x05\x15\x0b\x17", "日本\x1b[De\u0301\x7f\r\n",
		"\x1b[200~one\r\ntwo\x1b[201~\x03", "a\tb\t\t\x1b[A\x1b[B\x04", "\xff\xfe\x1b]0;x\x07\x1b[3~",
		strings.Repeat("0123456789", 12) + "\x01\x1b[C\x1b[1;5C",
	} {
		f.Add([]byte(s), uint8(30), uint8(5))
	}
	words := []string{"alice", "alan", "/help", "日本語", "e\u0301t\u00e9", "bad\x1b[2Jname"}
	complete := func(line string, pos int) (int, []string) {
		start := strings.LastIndexByte(line[:pos], ' ') + 1
		var out []string
		for _, w := range words {
			if strings.HasPrefix(w, line[start:pos]) {
				out = append(out, w)
			}
		}
		return start, out
	}
	f.Fuzz(func(t *testing.T, p []byte, width, step uint8) {
		cfg := Config{Prompt: "\x1b[1m>\x1b[0m ", Width: int(width), MaxLine: 64, History: 5, Complete: complete}
		whole := newSession(t, cfg)
		whole.feed(string(p))
		split := newSession(t, cfg)
		n := max(1, int(step%16))
		for i := 0; i < len(p); i += n {
			split.feed(string(p[i:min(len(p), i+n)]))
			if i%7 == 0 { // other output arrives now and then
				batch := split.e.AppendErase(nil)
				batch = append(batch, "<bob> hi\r\n"...)
				split.s.Write(split.e.AppendRedraw(batch))
				split.check()
			}
		}
		if whole.events() != split.events() || whole.e.Line() != split.e.Line() || whole.e.Cursor() != split.e.Cursor() {
			t.Fatalf("whole: %s, line %q; split by %d: %s, line %q", whole.events(), whole.e.Line(), n, split.events(), split.e.Line())
		}
		for _, ev := range whole.evs {
			if len(ev.Text) > 64 || !utf8.ValidString(ev.Text) {
				t.Fatalf("event text %q", ev.Text)
			}
			for _, r := range ev.Text {
				if !printable(r) {
					t.Fatalf("unprintable %U in %q", r, ev.Text)
				}
			}
		}
		for _, r := range whole.e.Line() {
			if !printable(r) {
				t.Fatalf("unprintable %U in the line %q", r, whole.e.Line())
			}
		}
	})
}
