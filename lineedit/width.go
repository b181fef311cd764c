package lineedit

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// RuneWidth returns the number of terminal columns r takes: 2 for wide
// characters, 0 for those that join the character before them and for
// controls, 1 for the rest (see Width).
func RuneWidth(r rune) int {
	if !printable(r) {
		return 0
	}
	return runeWidth(r)
}

// Width returns the columns s takes on a terminal: wide characters (CJK,
// most emoji) count two, combining marks none; SGR escape sequences (ESC [
// ... m) and control characters are skipped.
func Width(s string) int { return displayWidth(s) }

// runeWidth returns the number of terminal columns r takes: 2 for East
// Asian wide and fullwidth characters (CJK, most emoji), 0 for combining
// marks, zero-width joiners and Hangul medial vowels and final consonants, which
// join the character before them, and 1 for the rest. r must be printable.
func runeWidth(r rune) int {
	if r < 0x300 { // ASCII, Latin-1 and Latin Extended: never wide or combining
		return 1
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	if r == 0x200b || r == 0x200c || r == 0x200d || r >= 0x1160 && r <= 0x11ff ||
		unicode.In(r, unicode.Mn, unicode.Me) {
		return 0
	}
	return 1
}

// displayWidth returns the columns s takes on the screen. It skips SGR
// escape sequences (ESC [ ... m) and control characters, as prompts may
// hold colours.
func displayWidth(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			i = skipEscape(s, i)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if printable(r) {
			n += runeWidth(r)
		}
	}
	return n
}

// skipEscape returns the index after the escape sequence at s[i], which is ESC.
func skipEscape(s string, i int) int {
	i++
	if i < len(s) && s[i] == '[' {
		for i++; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
		}
		return i
	}
	if i < len(s) {
		i++
	}
	return i
}

// sanitizePrompt returns p with only what a prompt may hold: printable
// characters (invalid UTF-8 becomes U+FFFD) and SGR sequences (colours,
// ESC [ digits and semicolons m). Everything else is removed, so the
// prompt cannot move the cursor or hold a 0xFF byte.
func sanitizePrompt(p string) string { return sanitize(p, true) }

// sanitizeText returns s with only printable characters (invalid UTF-8
// becomes U+FFFD): no controls, no escape sequences.
func sanitizeText(s string) string { return sanitize(s, false) }

// sanitize keeps s's printable characters (invalid UTF-8 becomes U+FFFD),
// and its SGR sequences if keepSGR; it returns s itself when s is clean.
func sanitize(s string, keepSGR bool) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !printable(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			j := skipEscape(s, i)
			if keepSGR && isSGR(s[i:j]) {
				out = append(out, s[i:j]...)
			}
			i = j
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if printable(r) {
			out = utf8.AppendRune(out, r)
		}
	}
	return string(out)
}

// isSGR reports whether seq is ESC [ followed by digits and semicolons and m.
func isSGR(seq string) bool {
	if len(seq) < 3 || seq[1] != '[' || seq[len(seq)-1] != 'm' {
		return false
	}
	for i := 2; i < len(seq)-1; i++ {
		if c := seq[i]; (c < '0' || c > '9') && c != ';' {
			return false
		}
	}
	return true
}
