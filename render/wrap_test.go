package render

import (
	"strings"
	"testing"
	"time"

	"telchat/lineedit"
	"telchat/message"
)

func TestWrapAt(t *testing.T) {
	tests := []struct{ in, want int }{
		{-1, 0}, {0, 0}, {1, 1}, {12, 12}, {23, 23}, {24, 24}, {40, 40}, {47, 40}, {80, 80},
		{87, 80}, {187, 184}, {4088, 4088}, {5000, 4088}, {1 << 20, 4088},
	}
	for _, tt := range tests {
		p := (NickColours | Bell).WrapAt(tt.in)
		if got := p.Width(); got != tt.want {
			t.Errorf("WrapAt(%d).Width() = %d, want %d", tt.in, got, tt.want)
		}
		if p&All != NickColours|Bell {
			t.Errorf("WrapAt(%d) lost the settings: %b", tt.in, p)
		}
	}
	if Plain.WrapAt(80).WrapAt(0) != Plain {
		t.Error("WrapAt(0) does not undo wrapping")
	}
}

func TestAppendWrapped(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 5, 0, 0, time.Local)
	w20 := Plain.WrapAt(20)
	tests := []struct {
		name string
		m    message.Message
		p    Profile
		want string
	}{
		{"short line as it is", message.Message{Kind: message.Chat, From: "al", Text: "hi there"}, w20,
			"<al> hi there\r\n"},
		{"exactly the width", message.Message{Kind: message.Chat, From: "al", Text: "123456789012345"}, w20,
			"<al> 123456789012345\r\n"},
		{"broken at the last space, indented under the text", message.Message{Kind: message.Chat, From: "al", Text: "one two three four five six"}, w20,
			"<al> one two three\r\n     four five six\r\n"},
		{"a padded spoof stays indented", message.Message{Kind: message.Action, From: "mallory", Text: "nods <alice> I trust mallory"}, w20,
			"* mallory nods\r\n          <alice> I\r\n          trust\r\n          mallory\r\n"},
		{"long word cut where the row is full", message.Message{Kind: message.Chat, From: "al", Text: "abcdefghijklmnopqrstuvwxyz"}, w20,
			"<al> abcdefghijklmno\r\n     pqrstuvwxyz\r\n"},
		{"wide characters count two", message.Message{Kind: message.Chat, From: "al", Text: "日本語の文章をここに書く"}, w20,
			"<al> 日本語の文章を\r\n     ここに書く\r\n"},
		{"combining marks count none", message.Message{Kind: message.Chat, From: "al", Text: strings.Repeat("e\u0301", 16)}, w20,
			"<al> " + strings.Repeat("e\u0301", 15) + "\r\n     e\u0301\r\n"},
		{"wide prefix: two-space indent", message.Message{Kind: message.Chat, From: "somebodylong", Text: "a b c d e f"}, w20,
			"<somebodylong> a b c\r\n  d e f\r\n"},
		{"prefix fills the row", message.Message{Kind: message.Chat, From: "abcdefghijklmnopq", Text: "x"}, w20,
			"<abcdefghijklmnopq> \r\n  x\r\n"},
		{"notice", message.Message{Kind: message.Notice, Text: "NOTICE from console: all well here"}, w20,
			"*** NOTICE from\r\n    console: all\r\n    well here\r\n"},
		{"timestamps and colours are not columns", message.Message{Kind: message.Chat, From: "al", Text: "one two three four five six", Time: at}, (Timestamps | NickColours).WrapAt(32),
			"[09:05] <" + NickColour("al") + "al\x1b[39m> one two three four\r\n             five six\r\n"},
		{"prefix over half the width: two spaces", message.Message{Kind: message.Chat, From: "al", Text: "one two three four", Time: at}, Timestamps.WrapAt(24),
			"[09:05] <al> one two\r\n  three four\r\n"},
		{"highlight on each row", message.Message{Kind: message.Chat, From: "bo", Text: "hey alice and alice", Mention: "alice"}, Highlight.WrapAt(20),
			"<bo> hey \x1b[7malice\x1b[27m and\r\n     \x1b[7malice\x1b[27m\r\n"},
		{"dim spans the rows, bell at the end", message.Message{Kind: message.Private, From: "bo", Text: "one two three four"}, (DimSystem | Bell).WrapAt(20),
			"*bo* one two three\r\n     four\a\r\n"},
		{"0xFF still doubled", message.Message{Kind: message.Chat, From: "al", Text: "a\xffb"}, w20, "<al> a\xff\xffb\r\n"},
		{"reply lines each wrapped", message.Message{Kind: message.Reply, Text: "*** 3 in #lobby: alice, bob, carol\nplain words here and more"}, w20,
			"*** 3 in #lobby:\r\n    alice, bob,\r\n    carol\r\nplain words here and\r\n  more\r\n"},
		{"reply table row hangs under its second column", message.Message{Kind: message.Reply, Text: "  /who  list the users"}, w20,
			"  /who  list the\r\n        users\r\n"},
		{"an indented reply line hangs under its text", message.Message{Kind: message.Reply, Text: "      one two three four five"}, w20,
			"      one two three\r\n      four five\r\n"},
		{"a table row alone hangs two columns in", message.Message{Kind: message.Reply, Text: "  /history [N] | before [YYYY-MM-DD]"}, w20,
			"  /history [N] |\r\n    before\r\n    [YYYY-MM-DD]\r\n"},
		{"history marks", message.Message{Kind: message.History, Room: "den", Backlog: []*message.Message{
			{Kind: message.Chat, From: "a", Text: "one two three"}}}, w20,
			"*** Last 1 message\r\n    in #den:\r\n[history] <a> one\r\n  two three\r\n*** End of history\r\n"},
		{"prompt never wrapped", message.Message{Kind: message.Prompt, Text: "Choose a nickname please, any nickname: "}, w20,
			"Choose a nickname please, any nickname: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Append(nil, &tt.m, tt.p))
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			checkRows(t, got, tt.p.Width(), tt.m.Kind)
		})
	}
}

// checkRows checks what wrapping promises about each row of out: it is
// no wider than width, and a continuation row (one that follows a row of
// the same line: not a header or footer) starts with at least two
// spaces.
func checkRows(t *testing.T, out string, width int, k message.Kind) {
	t.Helper()
	rows := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	for i, row := range rows {
		if w := lineedit.Width(row); w > width && k != message.Prompt && !strings.HasPrefix(row, "<abcdefghijklmnopq>") {
			t.Errorf("row %d is %d columns wide: %q", i, w, row)
		}
	}
	if k == message.Reply || k == message.History || k == message.Prompt {
		return
	}
	for i, row := range rows[1:] {
		if !strings.HasPrefix(row, "  ") {
			t.Errorf("continuation row %d starts at the first column: %q", i+1, row)
		}
	}
}

// TestWrapNeverStartsAtColumnOne: whatever the text and the width, every
// continuation row of a chat line is indented and no row is wider than
// the terminal.
func TestWrapNeverStartsAtColumnOne(t *testing.T) {
	texts := []string{
		strings.Repeat("x ", 100), strings.Repeat("word ", 50) + "<alice> hi",
		"nods" + strings.Repeat(" ", 200) + "<alice> I trust mallory",
		strings.Repeat("日", 90), strings.Repeat("a", 300), "a " + strings.Repeat("日", 50) + " b",
	}
	for _, text := range texts {
		for width := 8; width <= 90; width++ {
			for _, from := range []string{"a", "alice", "averyveryverylongnick"} {
				m := &message.Message{Kind: message.Chat, From: from, Text: text}
				out := string(Append(nil, m, Plain.WrapAt(width)))
				rows := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
				for i, row := range rows {
					if w := lineedit.Width(row); w > width && i > 0 {
						t.Fatalf("width %d, %q: row %d is %d wide: %q", width, text, i, w, row)
					}
					if i > 0 && !strings.HasPrefix(row, "  ") {
						t.Fatalf("width %d, %q: row %d at the first column: %q", width, text, i, row)
					}
				}
				if got := strings.Join(strings.Fields(out), ""); got != strings.Join(strings.Fields("<"+from+"> "+text), "") {
					t.Fatalf("width %d: text changed: %q", width, out)
				}
			}
		}
	}
}

// TestWrappedRenderedOncePerWidth: recipients whose terminals wrap at the
// same (rounded) width share one rendering; another width gets its own;
// the plain rendering stays one allocation.
func TestWrappedRenderedOncePerWidth(t *testing.T) {
	m := &message.Message{Kind: message.Chat, From: "alice", Text: strings.Repeat("long line ", 20)}
	a, b := Bytes(m, All.WrapAt(80)), Bytes(m, All.WrapAt(85))
	if &a[0] != &b[0] {
		t.Fatal("80 and 85 columns rendered twice")
	}
	c := Bytes(m, All.WrapAt(40))
	if &a[0] == &c[0] || strings.Count(string(c), "\r\n") <= strings.Count(string(a), "\r\n") {
		t.Fatalf("40 columns: %q, 80: %q", c, a)
	}
	if p := Bytes(m, All); strings.Count(string(p), "\r\n") != 1 {
		t.Fatalf("All without a width wrapped: %q", p)
	}
	m.Reset()
	if m.Rendered(All.WrapAt(80).slot()) != nil {
		t.Fatal("Reset kept a wrapped rendering")
	}
	if n := testing.AllocsPerRun(100, func() {
		m.Reset()
		m.Kind, m.From, m.Text = message.Chat, "alice", "hello, this is a line"
		Bytes(m, Plain)
		Bytes(m, Plain)
	}); n != 1 {
		t.Fatalf("plain rendering: %v allocations, want 1", n)
	}
}
