package usertext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"clean ascii", "hello world", "hello world"},
		{"clean unicode", "héllo wörld € 日本語 😀", "héllo wörld € 日本語 😀"},
		{"clear screen", "a\x1b[2Jb", "ab"},
		{"csi with params and intermediates", "x\x1b[38;5;196mred\x1b[0m", "xred"},
		{"csi private", "\x1b[?1049hhidden", "hidden"},
		{"csi unterminated at end", "abc\x1b[12;3", "abc"},
		{"csi broken by non-ascii", "a\x1b[1é", "aé"},
		{"set title with BEL", "\x1b]0;pwned\x07hi", "hi"},
		{"set title with ST", "\x1b]2;pwned\x1b\\hi", "hi"},
		{"osc 52 clipboard", "before\x1b]52;c;ZWNobyBwd25lZA==\x07after", "beforeafter"},
		{"osc hyperlink", "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"osc unterminated eats rest", "hi \x1b]0;title", "hi"},
		{"osc ended by CAN", "\x1b]0;t\x18ok", "ok"},
		{"osc ended by new escape", "\x1b]0;t\x1b[2Jok", "ok"},
		{"dcs", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"apc pm sos", "a\x1b_x\x1b\\b\x1b^y\x1b\\c\x1bXz\x1b\\d", "abcd"},
		{"8-bit csi as utf-8", "a\xc2\x9b2Jb", "ab"},
		{"8-bit osc as utf-8 with 8-bit ST", "a\xc2\x9d0;pwned\xc2\x9cb", "ab"},
		{"8-bit osc with BEL", "a\u009d0;pwned\x07b", "ab"},
		{"8-bit dcs", "a\u0090stuff\u009cb", "ab"},
		{"8-bit ss3", "a\u008fAb", "ab"},
		{"raw 0x9b byte", "a\x9b2Jb", "a\uFFFD2Jb"},
		{"invalid utf-8", "a\xff\xfeb", "a\uFFFD\uFFFDb"},
		{"truncated utf-8", "a\xe2\x82", "a\uFFFD\uFFFD"},
		{"ss3 arrow key", "a\x1bOAb", "ab"},
		{"csi arrow key", "a\x1b[Ab", "ab"},
		{"two-byte escapes", "a\x1bcb\x1b7c\x1bMd", "abcd"},
		{"charset designation", "a\x1b(Bb\x1b#8c", "abc"},
		{"lone trailing esc", "abc\x1b", "abc"},
		{"esc before non-ascii", "a\x1béb", "aéb"},
		{"double esc", "a\x1b\x1b[2Jb", "ab"},
		{"bidi override", "abc\u202Egnp.exe", "abcgnp.exe"},
		{"bidi isolates and marks", "\u2066a\u2067b\u2068c\u2069\u200Ed\u200Fe\u061Cf\u202Ag\u202Bh\u202Ci\u202Dj", "abcdefghij"},
		{"zero width", "a\u200Bb\u200Cc\u200Dd\u2060e\uFEFFf", "abcdef"},
		{"soft hyphen and tags", "a\u00ADb\U000E0041c", "abc"},
		{"hangul filler", "\u3164\u3164hi", "hi"},
		{"noncharacter", "a\uFFFEb\uFDD0c", "abc"},
		{"replacement char kept", "a\uFFFDb", "a\uFFFDb"},
		{"NUL", "a\x00b", "ab"},
		{"bell", "ding\x07dong", "dingdong"},
		{"backspace and CR LF", "ab\bc\r\nd", "abcd"},
		{"DEL and C1 NEL", "a\x7fb\u0085c", "abc"},
		{"tab", "a\tb", "a b"},
		{"line separator", "a\u2028b", "a b"},
		{"trim", "  \t hi there \t ", "hi there"},
		{"trim unicode spaces", "\u00A0\u3000hi\u2003", "hi"},
		{"trim after removal", "\x1b[0m  hi \x1b[0m", "hi"},
		{"only junk", "\x1b[2J\x07\u202E", ""},
		{"combining kept", "e\u0301 n\u0303", "e\u0301 n\u0303"},
		{"zalgo cut", "z" + strings.Repeat("\u0301", 20) + "!", "z" + strings.Repeat("\u0301", MaxCombiningRun) + "!"},
		{"mixed", "\x1b]0;x\x07\x00hey\t\u202Eyou\x1b[31m\xc2\x9b1m!\x9b ", "hey you!\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sanitize(tt.in)
			if got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := Sanitize(got); again != got {
				t.Errorf("not idempotent: Sanitize(%q) = %q", got, again)
			}
			checkSanitized(t, tt.in, got)
		})
	}
}

// checkSanitized fails t if out, the result of Sanitize(in), breaks one of
// the output invariants.
func checkSanitized(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("Sanitize(%q) = %q: invalid UTF-8", in, out)
	}
	for i := 0; i < len(out); i++ {
		if c := out[i]; c < 0x20 || c == 0x7f {
			t.Fatalf("Sanitize(%q) = %q: control byte %#x at %d", in, out, c, i)
		}
	}
	for i, r := range out {
		switch {
		case r >= 0x80 && r <= 0x9f:
			t.Fatalf("Sanitize(%q) = %q: C1 control %U at %d", in, out, r, i)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			t.Fatalf("Sanitize(%q) = %q: bidi control %U at %d", in, out, r, i)
		case r >= 0x200b && r <= 0x200d, r == 0x2060, r == 0xfeff:
			t.Fatalf("Sanitize(%q) = %q: zero-width %U at %d", in, out, r, i)
		}
	}
	if strings.TrimSpace(out) != out {
		t.Fatalf("Sanitize(%q) = %q: not trimmed", in, out)
	}
}

func TestSanitizeCleanInputIsNotCopied(t *testing.T) {
	for _, in := range []string{"hello", "héllo 😀", "  padded  "} {
		out := Sanitize(in)
		if len(out) == 0 || !strings.Contains(in, out) {
			t.Fatalf("Sanitize(%q) = %q", in, out)
		}
		if allocs := testing.AllocsPerRun(100, func() { Sanitize(in) }); allocs != 0 {
			t.Errorf("Sanitize(%q) allocates %v times, want 0", in, allocs)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello", 3, "hel"},
		{"hello", 0, ""},
		{"hello", -1, ""},
		{"", 3, ""},
		{"a€b", 1, "a"},
		{"a€b", 2, "a"},
		{"a€b", 3, "a"},
		{"a€b", 4, "a€"},
		{"😀😀", 5, "😀"},
		{"😀😀", 7, "😀"},
		{"😀😀", 8, "😀😀"},
		{"a\x80\x80\x80\x80", 3, "a\x80\x80"}, // stray continuation bytes: cut at n
		{"\x80\x80\x80\x80\x80", 2, "\x80\x80"},
	}
	for _, tt := range tests {
		got := Truncate(tt.in, tt.n)
		if got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
		if utf8.ValidString(tt.in) && !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q: split a rune", tt.in, tt.n, got)
		}
	}
}

func BenchmarkSanitize(b *testing.B) {
	clean := "the quick brown fox jumps over the lazy dog, again and again!!!!"
	if len(clean) != 64 {
		b.Fatalf("clean line is %d bytes, want 64", len(clean))
	}
	cases := []struct {
		name string
		in   string
	}{
		{"clean-ascii-64", clean},
		{"clean-unicode", "héllo wörld, ça va? 日本語のテキスト 😀 ok"},
		{"dirty", "\x1b]0;pwned\x07hey\t\x1b[31mred\x1b[0m \u202Eevil\u200B \xc2\x9b2J\x9b bye\x00 "},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				Sanitize(c.in)
			}
		})
	}
}
