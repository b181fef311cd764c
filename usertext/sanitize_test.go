package usertext

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
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

		// Blank and invisible padding cannot push text to the wrap point.
		{"run of spaces", "a     b", "a b"},
		{"spaces to the wrap point", "nods" + strings.Repeat(" ", 75) + "<alice> I trust mallory", "nods <alice> I trust mallory"},
		{"braille blanks to the wrap point", "bye" + strings.Repeat("\u2800", 77) + "*** NOTICE from console: x", "bye *** NOTICE from console: x"},
		{"hangul fillers to the wrap point", "bye" + strings.Repeat("\u3164", 40) + "<bob> hi", "bye<bob> hi"},
		{"mixed blanks collapse", "a \u3000\u2800\t\u00a0\u2003\u202f\u205f\u1680\U0001D159 b", "a b"},
		{"blanks around dropped invisibles", "a \u200b \u3164 \ufeff b", "a b"},
		{"only blanks", "\u2800\u3164 \u00a0", ""},
		{"hangul fillers", "a\u115fb\u1160c\u3164d\uffa0e", "abcde"},
		{"combining grapheme joiner", "a\u034fb", "ab"},
		{"mongolian vowel separator", "a\u180eb", "ab"},
		{"zero width and directional marks", "a\u200bb\u200cc\u200dd\u200ee\u200ff", "abcdef"},
		{"invisible operators", "a\u2060b\u2061c\u2062d\u2063e\u2064f", "abcdef"},
		{"reserved default ignorable", "a\u2065b\ufff0c\U000E0002d", "abcd"},
		{"deprecated format characters", "a\u206ab\u206fc", "abc"},
		{"khmer inherent vowels", "a\u17b4b\u17b5c", "abc"},
		{"khitan filler", "a\U00016FE4b", "ab"},
		{"variation selectors after latin", "a\ufe00b\ufe0fc\U000E0100d", "abcd"},
		{"variation selector after space", "a \ufe0fb", "a b"},
		{"variation selector first", "\ufe0f\U000E0100hi", "hi"},
		{"mongolian selector outside mongolian", "a\u180bb", "ab"},
		{"tag smuggling", "hi\U000E0069\U000E0067\U000E006E\U000E006F\U000E0072\U000E0065", "hi"},
		{"joiner runs", "\u200d\u200d😀\u200d\u200d😀\u200d", "😀\u200d😀"},
		{"joiner before non-emoji", "😀\u200dx", "😀x"},

		// Legitimate text stays intact.
		{"emoji zwj family", "👨\u200d👩\u200d👧\u200d👦", "👨\u200d👩\u200d👧\u200d👦"},
		{"emoji vs16", "I \u2764\ufe0f it", "I \u2764\ufe0f it"},
		{"emoji vs15", "\u2764\ufe0e", "\u2764\ufe0e"},
		{"keycap", "#\ufe0f\u20e31\ufe0f\u20e3", "#\ufe0f\u20e31\ufe0f\u20e3"},
		{"rainbow flag", "🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"},
		{"skin tone zwj", "🧑🏽\u200d💻", "🧑🏽\u200d💻"},
		{"eye in speech bubble", "👁\ufe0f\u200d🗨\ufe0f", "👁\ufe0f\u200d🗨\ufe0f"},
		{"copyright vs16", "\u00a9\ufe0f", "\u00a9\ufe0f"},
		{"england flag", "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F"},
		{"flag tags too long", "🏴" + strings.Repeat("\U000E0061", 8) + "\U000E007F", "🏴"},
		{"flag tags unterminated", "🏴\U000E0067\U000E0062 x", "🏴 x"},
		{"flag tags upper case", "🏴\U000E0047\U000E0042\U000E007F", "🏴"},
		{"second selector dropped", "\u2764\ufe0f\ufe0f", "\u2764\ufe0f"},
		{"ideographic variation sequence", "葛\U000E0100城", "葛\U000E0100城"},
		{"cjk", "日本語のテキスト、한국어", "日本語のテキスト、한국어"},
		{"combining accents", "cafe\u0301 nin\u0303o", "cafe\u0301 nin\u0303o"},
		{"persian non-joiner", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"},
		{"devanagari joiner", "\u0915\u094d\u200d\u0937", "\u0915\u094d\u200d\u0937"},
		{"joiner across scripts", "\u0915\u200d\u0645", "\u0915\u0645"},
		{"mongolian free variation selector", "\u1820\u180b", "\u1820\u180b"},
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
	runes := []rune(out)
	for i, r := range runes {
		var prev, next rune
		if i > 0 {
			prev = runes[i-1]
		}
		if i+1 < len(runes) {
			next = runes[i+1]
		}
		switch {
		case r >= 0x80 && r <= 0x9f:
			t.Fatalf("Sanitize(%q) = %q: C1 control %U at %d", in, out, r, i)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			t.Fatalf("Sanitize(%q) = %q: bidi control %U at %d", in, out, r, i)
		case r == 0x200b, r == 0x2060, r == 0xfeff, r >= 0xe0000 && r < 0xe0020:
			t.Fatalf("Sanitize(%q) = %q: zero-width %U at %d", in, out, r, i)
		case r == ' ':
			if next == ' ' {
				t.Fatalf("Sanitize(%q) = %q: run of spaces at rune %d", in, out, i)
			}
		case unicode.IsSpace(r), r == 0x2800, r == 0x3164, r == 0x115f, r == 0x1160, r == 0xffa0, r == 0x1d159:
			t.Fatalf("Sanitize(%q) = %q: blank %U at rune %d", in, out, r, i)
		case r == 0x200c, r == 0x200d:
			// A joiner sits between two visible characters.
			if prev == 0 || next == 0 || isInvisibleForTest(next) || unicode.IsSpace(prev) || unicode.IsSpace(next) ||
				(isInvisibleForTest(prev) && prev != 0xfe0f && prev != 0xe007f) {
				t.Fatalf("Sanitize(%q) = %q: stray joiner %U at rune %d", in, out, r, i)
			}
		case unicode.Is(unicode.Variation_Selector, r):
			// A selector follows a visible character that is not a space.
			if prev == 0 || unicode.IsSpace(prev) || isInvisibleForTest(prev) {
				t.Fatalf("Sanitize(%q) = %q: stray variation selector %U at rune %d", in, out, r, i)
			}
		case r >= 0xe0020 && r <= 0xe007f:
			// Tags only in a flag: black flag, 2 to 6 tags, cancel tag.
			j := i
			for j > 0 && runes[j-1] >= 0xe0020 && runes[j-1] <= 0xe007f {
				j--
			}
			k := i
			for k < len(runes) && runes[k] >= 0xe0020 && runes[k] < 0xe007f {
				k++
			}
			if j == 0 || runes[j-1] != 0x1f3f4 || k == len(runes) || runes[k] != 0xe007f || k-j < 2 || k-j > 6 {
				t.Fatalf("Sanitize(%q) = %q: stray tag %U at rune %d", in, out, r, i)
			}
		case isInvisibleForTest(r):
			t.Fatalf("Sanitize(%q) = %q: invisible %U at rune %d", in, out, r, i)
		}
	}
	if strings.TrimSpace(out) != out {
		t.Fatalf("Sanitize(%q) = %q: not trimmed", in, out)
	}
}

// isInvisibleForTest reports whether r is a default-ignorable code point,
// from the unicode tables directly rather than the package's own table.
func isInvisibleForTest(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
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

// TestSanitizeInvisibleMix checks idempotence and the output invariants on
// random strings over an alphabet of emoji, joiners, selectors, tags, blanks,
// marks and letters of several scripts: the contexts where an invisible
// character is kept are the ones a byte-level fuzzer rarely builds.
func TestSanitizeInvisibleMix(t *testing.T) {
	alphabet := []rune{
		'a', '1', '#', ' ', '\t', 0xa0, 0x3000, 0x2800, 0x3164, 0x115f, 0x034f,
		0x200b, 0x200c, 0x200d, 0xfe00, 0xfe0e, 0xfe0f, 0xe0100, 0x180b, 0x1820,
		0x20e3, 0x0301, 0x094d, 0x0915, 0x0645, 0x06cc, 0x845b, 0x3042,
		0x1f600, 0x1f3f4, 0x1f3fd, 0x2764, 0xa9, 0xe0061, 0xe0067, 0xe0041, 0xe007f,
		0xfffe, 0x1b,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		rs := make([]rune, rng.IntN(12))
		for i := range rs {
			rs[i] = alphabet[rng.IntN(len(alphabet))]
		}
		in := string(rs)
		out := Sanitize(in)
		checkSanitized(t, in, out)
		if again := Sanitize(out); again != out {
			t.Fatalf("not idempotent: Sanitize(%q) = %q, Sanitize(that) = %q", in, out, again)
		}
	}
}
