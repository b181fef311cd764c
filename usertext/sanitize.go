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
	actionKeep      runeAction = iota // copy as is
	actionDrop                        // remove
	actionSpace                       // white space or blank: one ASCII space, collapsed
	actionInvisible                   // renders as nothing: keep only in context (keepInvisible)
)

// classify returns the action for the valid rune r, ignoring escape
// sequences, context and the combining-mark limit.
func classify(r rune) runeAction {
	switch {
	case r == ' ':
		return actionSpace
	case r > 0x20 && r < del:
		return actionKeep
	case r == '\t':
		return actionSpace
	case r < 0xa0: // other C0, DEL, C1
		return actionDrop
	case r < 0x300: // Latin-1 and Latin Extended: U+00A0 is a space, U+00AD is Cf
		switch r {
		case 0xa0:
			return actionSpace
		case 0xad:
			return actionDrop
		}
		return actionKeep
	case isBlank(r):
		return actionSpace
	case unicode.Is(invisible, r):
		return actionInvisible
	case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe: // noncharacters
		return actionDrop
	case r == 0x16fe4: // KHITAN SMALL SCRIPT FILLER, a mark that shows nothing
		return actionDrop
	}
	return actionKeep
}

// isCombining reports whether r is a nonspacing or enclosing mark, the kind
// that stacks on the previous character without taking a cell.
func isCombining(r rune) bool {
	return r >= 0x300 && (unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r))
}

// isCleanASCII reports whether s is printable ASCII without a run of
// spaces, which Sanitize keeps as it is.
func isCleanASCII(s string) bool {
	space := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			if space {
				return false
			}
			space = true
		case c > ' ' && c < del:
			space = false
		default:
			return false
		}
	}
	return true
}

// output builds Sanitize's result. While the result is a substring of the
// input, src[start:end], it only moves those bounds; the first change that
// makes it differ copies it into b.
type output struct {
	src        string
	start, end int
	b          strings.Builder
	copying    bool // b holds the result; start and end are unused
	empty      bool // nothing written yet
	last       rune // the last rune written
	marks      int  // combining marks written since the last other rune
}

// keep appends src[i:i+n], whose last rune is r, to the result.
func (o *output) keep(i, n int, r rune) {
	switch {
	case o.copying:
		o.b.WriteString(o.src[i : i+n])
	case o.empty:
		o.start, o.end = i, i+n
	case o.end == i:
		o.end = i + n
	default:
		o.copy()
		o.b.WriteString(o.src[i : i+n])
	}
	o.empty, o.last = false, r
}

// write appends r, which is not the next rune of src, to the result.
func (o *output) write(r rune) {
	if !o.copying {
		o.copy()
	}
	o.b.WriteRune(r)
	o.empty, o.last = false, r
}

// copy switches o to building the result in b.
func (o *output) copy() {
	o.b.Grow(len(o.src))
	if !o.empty {
		o.b.WriteString(o.src[o.start:o.end])
	}
	o.copying = true
}

// String returns the result without its trailing space.
func (o *output) String() string {
	switch {
	case o.copying:
		return strings.TrimSuffix(o.b.String(), " ")
	case o.empty:
		return ""
	}
	return strings.TrimSuffix(o.src[o.start:o.end], " ")
}

// Sanitize returns s made safe to show on another user's terminal as part of
// one line; see the package documentation for the exact rules. The result is
// valid UTF-8 without control characters, escape sequences, bidi controls,
// invisible characters outside emoji and script sequences, or runs of white
// space, trimmed of white space at both ends. Sanitize is idempotent. If s is
// already clean it returns s (or a trimmed substring of it) without
// allocating.
func Sanitize(s string) string {
	if t := strings.Trim(s, " "); isCleanASCII(t) {
		return t
	}
	o := output{src: s, empty: true}
	for i := 0; i < len(s); {
		c := s[i]
		if c == esc {
			i = skipEscape(s, i+1)
			continue
		}
		if c > ' ' && c < del { // fast path: printable ASCII
			o.keep(i, 1, rune(c))
			o.marks = 0
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if r == utf8.RuneError && size == 1 {
			// An invalid byte: write U+FFFD in its place.
			o.write(r)
			o.marks = 0
			i++
			continue
		}
		switch r {
		case c1CSI:
			i = skipControlSequence(s, i+size)
			continue
		case c1OSC, c1DCS, c1SOS, c1PM, c1APC:
			i = skipControlString(s, i+size)
			continue
		case c1SS2, c1SS3:
			i = skipSingleShift(s, i+size)
			continue
		}
		switch classify(r) {
		case actionDrop:
		case actionSpace:
			if !o.empty && o.last != ' ' { // leading spaces and runs go
				if r == ' ' {
					o.keep(i, 1, ' ')
				} else {
					o.write(' ')
				}
				o.marks = 0
			}
		case actionInvisible:
			// Kept invisibles leave the mark count alone, so that
			// they cannot restart a stack of marks.
			n, keep := keepInvisible(r, s[i:], o.last)
			if keep {
				last, _ := utf8.DecodeLastRuneInString(s[i : i+n])
				o.keep(i, n, last)
			}
			size = n
		case actionKeep:
			if isCombining(r) {
				if o.marks >= MaxCombiningRun {
					break
				}
				o.marks++
			} else {
				o.marks = 0
			}
			o.keep(i, size, r)
		}
		i += size
	}
	return o.String()
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
