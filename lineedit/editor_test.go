package lineedit

import (
	"fmt"
	"strings"
	"testing"
)

// session drives an Editor and shows its output on a screen model.
type session struct {
	t   *testing.T
	e   *Editor
	s   *screen
	evs []Event
}

func newSession(t *testing.T, cfg Config) *session {
	t.Helper()
	e := New(cfg)
	ss := &session{t: t, e: e, s: newScreen(e.width)}
	ss.s.Write(ss.e.AppendRedraw(nil))
	return ss
}

// feed types in and returns the bytes the Editor wrote.
func (ss *session) feed(in string) string {
	ss.t.Helper()
	out, evs := ss.e.Feed(nil, nil, []byte(in))
	ss.s.Write(out)
	ss.evs = append(ss.evs, evs...)
	ss.check()
	return string(out)
}

// check asserts that the screen shows what a full redraw would show, in
// the same place, and that the output was well formed.
func (ss *session) check() {
	ss.t.Helper()
	if len(ss.s.errs) > 0 {
		ss.t.Fatalf("bad output: %v", ss.s.errs)
	}
	fresh := newScreen(ss.s.width)
	fresh.Write(ss.e.AppendRedraw(nil))
	if got, want := ss.s.current(), fresh.current(); got != want || ss.s.col != fresh.col {
		ss.t.Fatalf("screen shows %q with the cursor at %d; a redraw shows %q at %d", got, ss.s.col, want, fresh.col)
	}
	if fresh.wrapped || fresh.col >= ss.s.width {
		ss.t.Fatalf("redraw %q wrapped (cursor at %d of %d)", fresh.current(), fresh.col, ss.s.width)
	}
	if n := len(ss.e.Line()); n > ss.e.buf.max {
		ss.t.Fatalf("line of %d bytes, cap %d", n, ss.e.buf.max)
	}
}

func (ss *session) events() string {
	var parts []string
	for _, ev := range ss.evs {
		s := map[EventKind]string{EventLine: "line", EventInterrupt: "interrupt", EventEOF: "eof"}[ev.Kind]
		if ev.Kind == EventLine {
			s += fmt.Sprintf("(%q)", ev.Text)
		}
		for _, f := range []struct {
			set  bool
			name string
		}{{ev.Pasted, "pasted"}, {ev.Secret, "secret"}, {ev.Truncated, "truncated"}} {
			if f.set {
				s += "+" + f.name
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestEditing(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		line   string // the line after in
		cursor int    // in bytes
		row    string // the screen's cursor row
		col    int
		events string
	}{
		{"typing", "hello", "hello", 5, "> hello", 7, ""},
		{"backspace", "abc\x7f", "ab", 2, "> ab", 4, ""},
		{"ctrl-h", "abc\x08\x08", "a", 1, "> a", 3, ""},
		{"backspace on empty", "\x7f\x7fa", "a", 1, "> a", 3, ""},
		{"insert in the middle", "ac\x1b[Db", "abc", 2, "> abc", 4, ""},
		{"backspace in the middle", "abc\x1b[D\x7f", "ac", 1, "> ac", 3, ""},
		{"left at start", "a\x1b[D\x1b[D\x1b[Dx", "xa", 1, "> xa", 3, ""},
		{"right at end", "a\x1b[C\x1b[Cb", "ab", 2, "> ab", 4, ""},
		{"home end", "bc\x01a\x05d", "abcd", 4, "> abcd", 6, ""},
		{"home end keys", "bc\x1b[Ha\x1b[Fd", "abcd", 4, "> abcd", 6, ""},
		{"ctrl-b ctrl-f", "ac\x02\x02\x06b", "abc", 2, "> abc", 4, ""},
		{"kill to start", "hello world\x1b[D\x1b[D\x15", "ld", 0, "> ld", 2, ""},
		{"kill to end", "hello world\x01\x1b[C\x0b", "h", 1, "> h", 3, ""},
		{"kill word", "say hello  \x17", "say ", 4, "> say", 6, ""},
		{"kill word twice", "say hello\x17\x17", "", 0, ">", 2, ""},
		{"alt-backspace", "a b\x1b\x7f", "a ", 2, "> a", 4, ""},
		{"delete", "abc\x01\x1b[3~", "bc", 0, "> bc", 2, ""},
		{"ctrl-d deletes", "abc\x01\x04", "bc", 0, "> bc", 2, ""},
		{"delete at end", "abc\x1b[3~", "abc", 3, "> abc", 5, ""},
		{"word moves", "one two three\x1bb\x1bbX\x1bfY", "one XtwoY three", 9, "> one XtwoY three", 11, ""},
		{"word moves ctrl arrows", "one two\x1b[1;5DX\x1b[1;5C!", "one Xtwo!", 9, "> one Xtwo!", 11, ""},
		{"enter", "hi\r\x00", "", 0, ">", 2, `line("hi")`},
		{"enter LF", "hi\n", "", 0, ">", 2, `line("hi")`},
		{"empty enter", "\r\n", "", 0, ">", 2, `line("")`},
		{"enter mid-line", "hi\x01\r", "", 0, ">", 2, `line("hi")`},
		{"ctrl-c", "abc\x03", "", 0, ">", 2, "interrupt"},
		{"ctrl-d on empty", "\x04", "", 0, ">", 2, "eof"},
		{"ctrl-d after clearing", "a\x7f\x04", "", 0, ">", 2, "eof"},
		{"controls dropped", "a\x07\x1b[5~\x1b[Zb\x1bOP", "ab", 2, "> ab", 4, ""},
		{"escape sequences never in the line", "a\x1b]0;title\x07b\x1b[31m", "a]0;titleb", 10, "> a]0;titleb", 12, ""},
		{"wide", "日本", "日本", 6, "> 日本", 6, ""},
		{"wide backspace", "日本\x7f", "日", 3, "> 日", 4, ""},
		{"wide left", "日本\x1b[Dx", "日x本", 4, "> 日x本", 5, ""},
		{"combining", "e\u0301a", "e\u0301a", 4, "> e\u0301a", 4, ""},
		{"combining backspace", "ae\u0301\x7f", "a", 1, "> a", 3, ""},
		{"combining left", "e\u0301\x1b[Dx", "xe\u0301", 1, "> xe\u0301", 3, ""},
		{"ctrl-l", "ab\x0c", "ab", 2, "> ab", 4, ""},
		{"invalid utf8", "a\xffb", "a\ufffdb", 5, "> a\ufffdb", 5, ""},
		{"tab without completer", "a\tb", "ab", 2, "> ab", 4, ""},
		{"paste", "\x1b[200~one\r\ntwo\r\nthr\x1b[201~ee", "three", 5, "> three", 7, `line("one")+pasted line("two")+pasted`},
		{"paste after typing", "/msg bob \x1b[200~hi\nyo\x1b[201~", "yo", 2, "> yo", 4, `line("/msg bob hi")+pasted`},
		{"paste drops keys", "\x1b[200~a\x03\x7f\tb\x1b[D\x1b[201~", "a b", 3, "> a b", 5, ""},
		{"a habitual escape loses nothing", "a\x1bq\x1b\x1b", "aq", 2, "> aq", 4, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ss := newSession(t, Config{Prompt: "> "})
			ss.feed(tc.in)
			if got := ss.e.Line(); got != tc.line {
				t.Errorf("line %q, want %q", got, tc.line)
			}
			if got := ss.e.Cursor(); got != tc.cursor {
				t.Errorf("cursor %d, want %d", got, tc.cursor)
			}
			if got := ss.s.current(); got != tc.row || ss.s.col != tc.col {
				t.Errorf("screen %q cursor %d, want %q cursor %d", got, ss.s.col, tc.row, tc.col)
			}
			if got := ss.events(); got != tc.events {
				t.Errorf("events %s, want %s", got, tc.events)
			}
			// The same, typed one byte at a time.
			one := newSession(t, Config{Prompt: "> "})
			for i := range len(tc.in) {
				one.feed(tc.in[i : i+1])
			}
			if one.e.Line() != tc.line || one.s.current() != tc.row || one.events() != tc.events {
				t.Errorf("byte by byte: line %q, screen %q, events %s", one.e.Line(), one.s.current(), one.events())
			}
		})
	}
}

// TestBytes pins the exact bytes of the common cases.
func TestBytes(t *testing.T) {
	tests := []struct {
		name, before, in, want string
	}{
		{"echo", "", "hé", "hé"},
		{"backspace", "ab", "\x7f", "\b \b"},
		{"backspace wide", "日", "\x7f", "\b\b  \b\b"},
		{"backspace on empty", "", "\x7f", ""},
		{"left", "ab", "\x1b[D", "\b"},
		{"left wide", "日", "\x1b[D", "\x1b[2D"},
		{"home", "abc", "\x01", "\x1b[3D"},
		{"right", "ab\x01", "\x1b[C", "\x1b[C"},
		{"insert in the middle", "ac\x1b[D", "b", "\r\x00> abc\x1b[K\b"},
		{"enter", "hi", "\r\x00", "\r\n> "},
		{"enter mid-line", "hi\x1b[D", "\r", "\x1b[C\r\n> "},
		{"ctrl-c", "hi", "\x03", "^C\r\n> "},
		{"ctrl-l", "hi", "\x0c", "\r\x00> hi\x1b[K"},
		{"eof", "", "\x04", ""},
		{"bell when full", strings.Repeat("x", 64), "y", "\a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ss := newSession(t, Config{Prompt: "> ", MaxLine: 64})
			ss.feed(tc.before)
			if got := ss.feed(tc.in); got != tc.want {
				t.Errorf("after %q, %q wrote %q, want %q", tc.before, tc.in, got, tc.want)
			}
		})
	}
}

func TestOutputBetween(t *testing.T) {
	ss := newSession(t, Config{Prompt: "> "})
	ss.feed("hello wor\x1b[D\x1b[D")
	var batch []byte
	batch = ss.e.AppendErase(batch)
	batch = append(batch, "<bob> hi\r\n<eve> yo\r\n"...)
	batch = ss.e.AppendRedraw(batch)
	ss.s.Write(batch)
	ss.check()
	if got := []string{ss.s.line(0), ss.s.line(1), ss.s.line(2)}; strings.Join(got, "|") != "<bob> hi|<eve> yo|> hello wor" {
		t.Errorf("screen rows %q", got)
	}
	if ss.s.row != 2 || ss.s.col != 9 {
		t.Errorf("cursor at row %d col %d, want 2, 9", ss.s.row, ss.s.col)
	}
	if want := "\r\x00\x1b[K<bob> hi\r\n<eve> yo\r\n\r\x00> hello wor\x1b[K\x1b[2D"; string(batch) != want {
		t.Errorf("batch %q\nwant  %q", batch, want)
	}
	ss.feed("\x05ld\r")
	if ss.events() != `line("hello world")` {
		t.Errorf("events %s", ss.events())
	}
}

func TestScroll(t *testing.T) {
	ss := newSession(t, Config{Prompt: "> ", Width: 20}) // 17 columns for the line
	long := "abcdefghijklmnopqrstuvwxyz"
	ss.feed(long)
	if got := ss.s.current(); got != "> "+long[len(long)-16:] || ss.s.col != 18 {
		t.Errorf("at the end: %q cursor %d", got, ss.s.col)
	}
	ss.feed("\x01")
	if got := ss.s.current(); got != "> "+long[:17] || ss.s.col != 2 {
		t.Errorf("at home: %q cursor %d", got, ss.s.col)
	}
	for range 17 {
		ss.feed("\x1b[C")
	}
	if ss.s.col > 18 || ss.e.Cursor() != 17 {
		t.Errorf("after 17 Right: cursor %d on screen, %d in the line", ss.s.col, ss.e.Cursor())
	}
	ss.feed("\x05")
	for range 20 {
		ss.feed("\x7f")
	}
	if got := ss.s.current(); got != "> abcdef" || ss.s.col != 8 {
		t.Errorf("after erasing: %q cursor %d", got, ss.s.col)
	}
	// Submitting shows the whole line, wrapped.
	ss.feed(long[6:] + "\r")
	if got := ss.s.line(0) + ss.s.line(1); got != "> "+long {
		t.Errorf("submitted line shows as %q", got)
	}
	if ss.events() != fmt.Sprintf("line(%q)", long) {
		t.Errorf("events %s", ss.events())
	}
}

func TestScrollWide(t *testing.T) {
	ss := newSession(t, Config{Prompt: "> ", Width: 12})
	for range 30 {
		ss.feed("日")
	}
	for range 40 {
		ss.feed("\x1b[D")
	}
	for range 40 {
		ss.feed("\x1b[C")
	}
	ss.feed("\x01x\x05e\u0301\x7f")
	if got, want := ss.e.Line(), "x"+strings.Repeat("日", 30); got != want {
		t.Errorf("line %q, want %q", got, want)
	}
}

func TestNarrowAndWidthChange(t *testing.T) {
	ss := newSession(t, Config{Prompt: "a long prompt> ", Width: 20})
	ss.feed("hello")
	if got := ss.s.current(); got != "hello" {
		t.Errorf("prompt too wide: screen %q", got)
	}
	ss.e.SetWidth(40)
	ss.s.width = 40
	ss.s.Write(ss.e.AppendRedraw(ss.e.AppendErase(nil)))
	ss.check()
	if got := ss.s.current(); got != "a long prompt> hello" {
		t.Errorf("after widening: screen %q", got)
	}
	for _, w := range []int{-1, 0, 1, 3, 100000} {
		ss.e.SetWidth(w)
		if ss.e.width < MinWidth || ss.e.width > MaxWidth {
			t.Errorf("SetWidth(%d): width %d", w, ss.e.width)
		}
	}
}

func TestHistory(t *testing.T) {
	ss := newSession(t, Config{Prompt: "> "})
	ss.feed("one\rtwo\rtwo\r\rthr")
	steps := []struct{ key, line string }{
		{"\x1b[A", "two"}, {"\x1b[A", "one"}, {"\x1b[A", "one"}, // the repeated "two" and "" are not kept
		{"\x1b[B", "two"}, {"\x1b[B", "thr"}, {"\x1b[B", "thr"},
		{"\x10\x10", "one"}, {"\x0e", "two"},
	}
	for _, st := range steps {
		ss.feed(st.key)
		if got := ss.e.Line(); got != st.line {
			t.Fatalf("after %q: line %q, want %q", st.key, got, st.line)
		}
	}
	ss.feed("!\r\x1b[A")
	if got := ss.e.Line(); got != "two!" {
		t.Errorf("an edited recall submitted: Up gives %q", got)
	}

	small := newSession(t, Config{History: 3})
	for i := range 10 {
		small.feed(fmt.Sprintf("%d\r", i))
	}
	var seen []string
	for range 5 {
		small.feed("\x1b[A")
		seen = append(seen, small.e.Line())
	}
	if got := strings.Join(seen, ","); got != "9,8,7,7,7" {
		t.Errorf("history of 3: Up gives %s", got)
	}

	private := newSession(t, Config{Private: func(l string) bool { return strings.HasPrefix(l, "/oper ") }})
	private.feed("hi/oper secret\x1b[A")
	if got := private.e.Line(); got != "hi" {
		t.Errorf("a private line was kept: Up gives %q", got)
	}

	none := newSession(t, Config{History: -1})
	none.feed("a\r\x1b[A")
	if none.e.Line() != "" {
		t.Errorf("no history: Up gives %q", none.e.Line())
	}

	// The byte bound drops the oldest lines, never the newest.
	bounded := newSession(t, Config{HistoryBytes: 25, MaxLine: 40})
	for _, l := range []string{"aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", strings.Repeat("d", 40)} {
		bounded.feed(l + "\r")
	}
	seen = nil
	for range 3 {
		bounded.feed("\x1b[A")
		seen = append(seen, bounded.e.Line()[:1])
	}
	if got := strings.Join(seen, ","); got != "d,d,d" {
		t.Errorf("bounded to 25 bytes after a 40-byte line: Up gives %s", got)
	}
	bounded.feed("\r")
	for _, l := range []string{"eeeeeeeeee", "ffffffffff"} {
		bounded.feed(l + "\r")
	}
	seen = nil
	for range 3 {
		bounded.feed("\x1b[A")
		seen = append(seen, bounded.e.Line()[:1])
	}
	if got := strings.Join(seen, ","); got != "f,e,e" {
		t.Errorf("bounded to 25 bytes: Up gives %s", got)
	}

	def := newSession(t, Config{})
	for i := range 150 {
		def.feed(fmt.Sprintf("%d\r", i))
	}
	for range 200 {
		def.feed("\x1b[A")
	}
	if def.e.Line() != "50" {
		t.Errorf("default history: oldest line %q, want 50 (the last 100 of 150)", def.e.Line())
	}
}

func TestSecret(t *testing.T) {
	for _, tc := range []struct {
		mask rune
		row  string
	}{{'*', "Password: ******"}, {0, "Password:"}, {'\x1b', "Password: ******"}, {'日', "Password: ******"}} {
		ss := newSession(t, Config{Prompt: "> "})
		ss.feed("/oper\r")
		ss.e.StartSecret("Password: ", tc.mask)
		ss.s.Write(ss.e.AppendRedraw(nil))
		out := ss.feed("s3cr\x7fret")
		if strings.Contains(out, "s3") || strings.Contains(out, "ret") {
			t.Errorf("mask %q: the secret was echoed: %q", tc.mask, out)
		}
		if got := ss.s.current(); got != tc.row {
			t.Errorf("mask %q: screen %q, want %q", tc.mask, got, tc.row)
		}
		ss.feed("\t\x1b[A\r")
		if got := ss.events(); got != `line("/oper") line("s3cret")+secret` {
			t.Errorf("mask %q: events %s", tc.mask, got)
		}
		if ss.e.Secret() || ss.s.current() != ">" {
			t.Errorf("mask %q: after the line: secret %v, screen %q", tc.mask, ss.e.Secret(), ss.s.current())
		}
		ss.feed("\x1b[A")
		if got := ss.e.Line(); got != "/oper" {
			t.Errorf("mask %q: Up after a secret line gives %q, want /oper", tc.mask, got)
		}
	}
	ss := newSession(t, Config{Prompt: "> "})
	ss.e.StartSecret("pw: ", '*')
	ss.e.SetPrompt("new> ")
	ss.feed("x\x03")
	if ss.e.Secret() || ss.s.current() != "new>" || ss.events() != "interrupt+secret" {
		t.Errorf("after ^C: secret %v, screen %q, events %s", ss.e.Secret(), ss.s.current(), ss.events())
	}
}

func TestMaxLine(t *testing.T) {
	ss := newSession(t, Config{MaxLine: 10})
	ss.feed("0123456789abc")
	if ss.e.Line() != "0123456789" || ss.s.bells != 3 {
		t.Errorf("line %q with %d bells", ss.e.Line(), ss.s.bells)
	}
	ss.feed("\x7fé\r")
	if got := ss.events(); got != `line("012345678")+truncated` {
		t.Errorf("events %s", got)
	}
	ss.evs = nil
	ss.feed("\x1b[200~" + strings.Repeat("x", 30) + "\nshort\n" + strings.Repeat("y", 30) + "\x1b[201~")
	if got := ss.events(); got != `line("xxxxxxxxxx")+pasted+truncated line("short")+pasted` || ss.e.Line() != "yyyyyyyyyy" {
		t.Errorf("paste: events %s, line %q", got, ss.e.Line())
	}
}

func TestComplete(t *testing.T) {
	words := []string{"alice", "alan", "bob", "/help", "/hello", "日本語"}
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
	tests := []struct {
		in, line string
		bells    int
		listed   bool
	}{
		{"b\t", "bob ", 0, false},
		{"hi b\t", "hi bob ", 0, false},
		{"a\t", "al", 0, false},
		{"a\t\t", "al", 0, true},
		{"al\t", "al", 1, false},
		{"al\t\t", "al", 1, true},
		{"ali\t", "alice ", 0, false},
		{"z\t", "z", 1, false},
		{"/he\t", "/hel", 0, false},
		{"/he\tx\t", "/helx", 1, false}, // another key between the Tabs
		{"日\t", "日本語 ", 0, false},
		{"b\x01\t", "b", 1, false}, // every word is a choice and they share no prefix
	}
	for _, tc := range tests {
		ss := newSession(t, Config{Prompt: "> ", Complete: complete})
		ss.feed(tc.in)
		if got := ss.e.Line(); got != tc.line {
			t.Errorf("%q: line %q, want %q", tc.in, got, tc.line)
		}
		if ss.s.bells != tc.bells {
			t.Errorf("%q: %d bells, want %d", tc.in, ss.s.bells, tc.bells)
		}
		if listed := ss.s.row > 0; listed != tc.listed {
			t.Errorf("%q: listed %v, want %v", tc.in, listed, tc.listed)
		}
	}
}

func TestCompleteList(t *testing.T) {
	var choices []string
	complete := func(line string, pos int) (int, []string) { return 0, choices }

	choices = []string{"ann", "bob", "carol", "x\x1b[2J", "\x1b[H", "dave"}
	ss := newSession(t, Config{Prompt: "> ", Width: 20, Complete: complete})
	ss.feed("\t\t")
	rows := []string{ss.s.line(0), ss.s.line(1), ss.s.line(2)}
	if want := []string{"ann    bob    carol", "x      dave", ">"}; strings.Join(rows, "|") != strings.Join(want, "|") {
		t.Errorf("listing rows %q, want %q", rows, want)
	}

	choices = nil
	for i := range 150 {
		choices = append(choices, fmt.Sprintf("n%03d", i))
	}
	ss = newSession(t, Config{Prompt: "> ", Width: 80, Complete: complete})
	ss.feed("\t\t")
	if got := ss.s.line(ss.s.row - 1); got != "(and 50 more)" {
		t.Errorf("last row before the prompt %q", got)
	}
	if ss.s.row != 9 { // 100 choices of 6 columns, 13 a row
		t.Errorf("listing took %d rows", ss.s.row)
	}

	// A completer's answer that breaks the rules is ignored.
	for _, start := range []int{-1, 5, 2} {
		complete := func(line string, pos int) (int, []string) { return start, []string{"zzz"} }
		ss := newSession(t, Config{Complete: complete})
		ss.feed("é\t")
		if start == 2 && ss.e.Line() != "ézzz " || start != 2 && ss.e.Line() != "é" {
			t.Errorf("start %d: line %q", start, ss.e.Line())
		}
	}
	complete = func(line string, pos int) (int, []string) { return 1, []string{"é"} }
	ss = newSession(t, Config{Complete: complete})
	ss.feed("é\t")
	if ss.e.Line() != "é" {
		t.Errorf("start inside a rune: line %q", ss.e.Line())
	}

	// A completion that does not fit the cap rings.
	complete = func(line string, pos int) (int, []string) { return 0, []string{strings.Repeat("w", 20)} }
	ss = newSession(t, Config{Complete: complete, MaxLine: 16})
	ss.feed("w\t")
	if ss.e.Line() != "w" || ss.s.bells != 1 {
		t.Errorf("too long: line %q, %d bells", ss.e.Line(), ss.s.bells)
	}
}

func TestReset(t *testing.T) {
	ss := newSession(t, Config{Prompt: "> "})
	ss.feed("abc")
	ss.e.StartSecret("pw: ", '*')
	ss.e.Reset()
	ss.s.Write(ss.e.AppendRedraw(nil))
	ss.check()
	if ss.e.Line() != "" || ss.e.Secret() || ss.s.current() != ">" {
		t.Errorf("after Reset: line %q, secret %v, screen %q", ss.e.Line(), ss.e.Secret(), ss.s.current())
	}
}

func TestSetLine(t *testing.T) {
	ss := newSession(t, Config{Prompt: "> ", MaxLine: 8})
	ss.e.SetLine("a\x1b[2Jb日本語")
	ss.s.Write(ss.e.AppendRedraw(nil))
	ss.check()
	if ss.e.Line() != "ab日本" || ss.e.Cursor() != 8 || ss.s.current() != "> ab日本" {
		t.Errorf("line %q cursor %d screen %q", ss.e.Line(), ss.e.Cursor(), ss.s.current())
	}
	ss.feed("\r")
	if ss.events() != `line("ab日本")+truncated` {
		t.Errorf("events %s", ss.events())
	}
}
