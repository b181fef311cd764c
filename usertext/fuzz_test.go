package usertext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// sanitizeSeeds are the inputs of TestSanitize's interesting cases, also
// stored under testdata/fuzz/FuzzSanitize.
var sanitizeSeeds = []string{
	"",
	"hello world",
	"a\x1b[2Jb",
	"\x1b]0;pwned\x07hi",
	"before\x1b]52;c;ZWNobyBwd25lZA==\x07after",
	"a\xc2\x9b2Jb",
	"a\x9b2Jb",
	"abc\u202Egnp.exe",
	"a\u200Db",
	"a\x00b\x07c\td",
	"\x1bP\x1b\\\x1b_\x1b^\x1bX\x1bO\x1bN\x1b(\x1b",
	"\u009d\u0090\u0098\u009e\u009f\u008e\u008f\u009b",
	"z" + strings.Repeat("\u0301", 20),
	"  \u3000 trim \u00a0 ",
	"nods" + strings.Repeat(" ", 75) + "<alice> hi",
	"bye" + strings.Repeat("\u2800", 77) + "*** NOTICE",
	"a\u3164\u115f\u1160\uffa0\u034f\u180e\u2064\ufe0f\U000E0100b",
	"👨\u200d👩\u200d👧 \u2764\ufe0f 1\ufe0f\u20e3 葛\U000E0100",
	"🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F",
	"\u0645\u06cc\u200c\u062e \u0915\u094d\u200d\u0937",
}

func FuzzSanitize(f *testing.F) {
	for _, s := range sanitizeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Sanitize(in)
		checkSanitized(t, in, out)
		if again := Sanitize(out); again != out {
			t.Fatalf("not idempotent: Sanitize(%q) = %q, Sanitize(that) = %q", in, out, again)
		}
		if strings.ContainsRune(out, 0x1b) {
			t.Fatalf("Sanitize(%q) = %q contains ESC", in, out)
		}
		if len(out) > 3*len(in) { // each input byte yields at most one U+FFFD
			t.Fatalf("Sanitize(%q) = %q grew too much", in, out)
		}
	})
}

func FuzzCheckNick(f *testing.F) {
	for _, s := range []string{"Alice", "admin", "\u0430dmin", "r00t", "Дмитрий", "たなか田中", "José", "ｂｏｂ", "bo\u200Bb", "a b", strings.Repeat("x", 30), "aIice", "the-admin", "Server_", "alic\u00e9", "\u0185ob"} {
		f.Add(s, false, uint8(0))
		f.Add(s, true, uint8(0))
	}
	f.Add("abcdef", true, uint8(5))
	f.Fuzz(func(t *testing.T, in string, unicodeNicks bool, maxLen uint8) {
		rules := NickRules{MaxLen: int(maxLen), Unicode: unicodeNicks}
		display, key, err := rules.CheckNick(in)
		if err != nil {
			if display != "" || key != "" {
				t.Fatalf("CheckNick(%q) returned %q, %q with error %v", in, display, key, err)
			}
			if msg := err.Error(); msg == "" || !utf8.ValidString(msg) || Sanitize(msg) != msg {
				t.Fatalf("CheckNick(%q) error message %q is not clean", in, msg)
			}
			return
		}
		if display == "" || key == "" {
			t.Fatalf("CheckNick(%q) = %q, %q: empty result", in, display, key)
		}
		if Sanitize(display) != display {
			t.Fatalf("CheckNick(%q) display %q is not sanitized (%q)", in, display, Sanitize(display))
		}
		if n := utf8.RuneCountInString(display); n > rules.maxLen() {
			t.Fatalf("CheckNick(%q) display %q has %d runes, max %d", in, display, n, rules.maxLen())
		}
		display2, key2, err := rules.CheckNick(display)
		if err != nil || display2 != display || key2 != key {
			t.Fatalf("CheckNick(%q) = %q, %q; CheckNick(display) = %q, %q, %v", in, display, key, display2, key2, err)
		}
		if !unicodeNicks && key != strings.ToLower(display) {
			t.Fatalf("ASCII CheckNick(%q) key %q is not lower-case display %q", in, key, display)
		}
		loose := rules.Lookalike(display)
		if loose == "" {
			t.Fatalf("Lookalike(%q) is empty", display)
		}
		if !unicodeNicks {
			// The look-alike key ignores case, as names do.
			for _, v := range []string{strings.ToUpper(display), strings.ToLower(display)} {
				if l := rules.Lookalike(v); l != loose {
					t.Fatalf("Lookalike(%q) = %q but Lookalike(%q) = %q", display, loose, v, l)
				}
			}
		}
	})
}
