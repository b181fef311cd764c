package usertext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxCombiningRun is the longest run of consecutive nonspacing or enclosing
// marks that [Sanitize] keeps; longer runs are cut. Real scripts stay well
// below it, "zalgo" text does not.
const MaxCombiningRun = 8

// Control characters that the sanitizer treats specially.
const (
	esc = 0x1b // ESC, introduces 7-bit escape sequences
	bel = 0x07 // BEL, terminates OSC strings (xterm)
	can = 0x18 // CAN, aborts a control string
	sub = 0x1a // SUB, aborts a control string
	del = 0x7f // DEL

	c1SS2 = 0x8e // SINGLE SHIFT TWO
	c1SS3 = 0x8f // SINGLE SHIFT THREE
	c1DCS = 0x90 // DEVICE CONTROL STRING
	c1SOS = 0x98 // START OF STRING
	c1CSI = 0x9b // CONTROL SEQUENCE INTRODUCER
	c1ST  = 0x9c // STRING TERMINATOR
	c1OSC = 0x9d // OPERATING SYSTEM COMMAND
	c1PM  = 0x9e // PRIVACY MESSAGE
	c1APC = 0x9f // APPLICATION PROGRAM COMMAND
)

// runeAction says what Sanitize does with a rune outside escape sequences.
type runeAction uint8

const (
	actionKeep  runeAction = iota // copy as is
	actionDrop                    // remove
	actionSpace                   // replace with one ASCII space
)

// classify returns the action for the valid rune r, ignoring escape
// sequences and the combining-mark limit.
func classify(r rune) runeAction {
	switch {
	case r >= 0x20 && r < del:
		return actionKeep
	case r == '\t', r == 0x2028, r == 0x2029:
		return actionSpace
	case r < 0xa0: // other C0, DEL, C1
		return actionDrop
	case r < 0x300: // Latin-1 and Latin Extended: only U+00AD is Cf
		if r == 0xad {
			return actionDrop
		}
		return actionKeep
	case unicode.Is(unicode.Cf, r): // bidi controls, zero-width, BOM, tags, ...
		return actionDrop
	case r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0: // blank Hangul fillers
		return actionDrop
	case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe: // noncharacters
		return actionDrop
	}
	return actionKeep
}

// isCombining reports whether r is a nonspacing or enclosing mark, the kind
// that stacks on the previous character without taking a cell.
func isCombining(r rune) bool {
	return r >= 0x300 && (unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r))
}

// isClean reports whether Sanitize would keep every rune of s as is, so that
// at most white space has to be trimmed at the ends.
func isClean(s string) bool {
	marks := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == del {
				return false
			}
			marks = 0
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		if classify(r) != actionKeep {
			return false
		}
		if isCombining(r) {
			marks++
			if marks > MaxCombiningRun {
				return false
			}
		} else {
			marks = 0
		}
		i += size
	}
	return true
}

// Sanitize returns s made safe to show on another user's terminal as part of
// one line; see the package documentation for the exact rules. The result is
// valid UTF-8 without control characters, escape sequences, bidi controls or
// zero-width characters, trimmed of white space at both ends. Sanitize is
// idempotent. If s is already clean it returns s (or a trimmed substring of
// it) without allocating.
func Sanitize(s string) string {
	if isClean(s) {
		return strings.TrimFunc(s, unicode.IsSpace)
	}
	var b strings.Builder
	b.Grow(len(s))
	marks := 0 // combining marks written since the last other rune
	for i := 0; i < len(s); {
		c := s[i]
		if c == esc {
			i = skipEscape(s, i+1)
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		switch r {
		case c1CSI:
			i = skipControlSequence(s, i)
			continue
		case c1OSC, c1DCS, c1SOS, c1PM, c1APC:
			i = skipControlString(s, i)
			continue
		case c1SS2, c1SS3:
			i = skipSingleShift(s, i)
			continue
		}
		// An invalid byte decodes to U+FFFD with size 1: keep the U+FFFD.
		switch classify(r) {
		case actionDrop:
			continue
		case actionSpace:
			r = ' '
		}
		if isCombining(r) {
			if marks >= MaxCombiningRun {
				continue
			}
			marks++
		} else {
			if b.Len() == 0 && unicode.IsSpace(r) {
				continue // leading white space
			}
			marks = 0
		}
		b.WriteRune(r)
	}
	return strings.TrimRightFunc(b.String(), unicode.IsSpace)
}

// skipEscape returns the index just past the escape sequence whose ESC ends
// just before s[i]. A lone ESC, or one followed by a byte that cannot
// continue a sequence, is skipped alone.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipControlSequence(s, i+1)
	case c == ']', c == 'P', c == 'X', c == '^', c == '_':
		return skipControlString(s, i+1)
	case c == 'N', c == 'O':
		return skipSingleShift(s, i+1)
	case c >= 0x20 && c <= 0x2f: // nF: intermediates, then a final byte
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] < del {
			i++
		}
		return i
	case c >= 0x30 && c < del: // two-byte ESC x (Fp, Fe, Fs)
		return i + 1
	}
	return i
}

// skipControlSequence returns the index just past the body of a CSI
// sequence starting at s[i]: parameter and intermediate bytes (0x20-0x3F)
// and one final byte (0x40-0x7E). It stops early at anything else, which is
// then processed as ordinary text.
func skipControlSequence(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] < del {
		i++
	}
	return i
}

// skipControlString returns the index just past the body of an OSC, DCS,
// SOS, PM or APC string starting at s[i]. The string ends with BEL, ST
// (ESC \ or U+009C), CAN or SUB, which are consumed, or before an ESC that
// starts another sequence, or at the end of s.
func skipControlString(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case bel, can, sub:
			return i + 1
		case esc:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i
		case 0xc2: // first byte of U+0080-U+00BF
			if i+1 < len(s) && s[i+1] == c1ST {
				return i + 2
			}
		}
	}
	return i
}

// skipSingleShift returns the index just past the one printable ASCII
// character that follows SS2 or SS3 at s[i], if there is one.
func skipSingleShift(s string, i int) int {
	if i < len(s) && s[i] >= 0x20 && s[i] < del {
		return i + 1
	}
	return i
}

// Truncate returns the longest prefix of s that has at most n bytes and does
// not end inside a UTF-8 encoded rune. It returns "" when n <= 0.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	// s[n] is the first byte cut off; if it continues a rune, cut before
	// that rune's first byte (at most UTFMax-1 bytes back).
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	if !utf8.RuneStart(s[i]) {
		return s[:n] // s is not valid UTF-8 here: no rune to protect
	}
	if _, size := utf8.DecodeRuneInString(s[i:]); i+size <= n {
		return s[:n] // stray continuation bytes, not a rune cut in two
	}
	return s[:i]
}
