// Package linemode assembles the lines of line mode, where the user's
// terminal edits the line and sends it: from the data bytes a client sends
// (after Telnet framing, package telnet), complete lines of valid UTF-8.
//
// Line ends: CR LF, CR NUL, a bare LF and a bare CR each end a line, at
// once (the byte after a CR is never waited for); one LF or NUL right
// after a CR is swallowed, even when it comes in a later call. An empty
// line is not reported.
//
// Editing: BS (0x08) and DEL (0x7F) erase the last rune (an incomplete
// UTF-8 sequence counts as one), ^U (0x15) erases the line, ^C (0x03)
// discards it and is reported as an interrupt; NUL and ^D (0x04) are
// dropped. Every other control byte stays in the line, for the caller to
// sanitize. Invalid UTF-8 becomes U+FFFD, one per byte, as
// unicode/utf8.DecodeRune splits it.
//
// Length: a line holds at most the assembler's maximum of bytes; text
// beyond it is dropped, together with erase keys, until the line ends, and
// the line is reported truncated, cut at a rune boundary. ^U or ^C start
// afresh. The buffer never grows beyond the maximum.
package linemode

import "unicode/utf8"

// Control bytes with an editing meaning.
const (
	ctrlC = 0x03 // interrupt: discard the line
	ctrlD = 0x04 // dropped
	ctrlU = 0x15 // kill the line
	bs    = 0x08 // erase the last rune
	del   = 0x7f // erase the last rune
)

// Kind says what a byte completed.
type Kind uint8

// The kinds of Result.
const (
	// None: the byte completed nothing.
	None Kind = iota
	// Line: the byte ended a line, in Result.Line.
	Line
	// Interrupt: the byte (^C) discarded the line.
	Interrupt
)

// Result is what a byte (or the end of input) completed.
type Result struct {
	Kind Kind
	// Line is the line's text without its end: valid UTF-8 (Kind Line).
	Line string
	// Truncated reports that the line was longer than the maximum: Line
	// holds its first bytes, cut at a rune boundary (Kind Line).
	Truncated bool
}

// Assembler assembles lines from data bytes. Make one with New; it is not
// safe for concurrent use.
type Assembler struct {
	max       int               // the line cap in bytes
	crPending bool              // a CR ended the last line; swallow one LF or NUL right after it
	line      []byte            // the line being assembled: valid UTF-8, never longer than max
	pend      [utf8.UTFMax]byte // an incomplete UTF-8 sequence not yet in line
	npend     int               // used bytes of pend
	truncated bool              // the line overflowed; discard text until the line ends
}

// New returns an Assembler of lines of at most n bytes (at least 1).
func New(n int) Assembler { return Assembler{max: max(n, 1)} }

// Text takes the longest run at the start of p of plain text (printable
// ASCII and complete, valid UTF-8 sequences) and returns its length: 0
// when p starts with anything else or a UTF-8 sequence is pending. It is
// the fast path; Byte takes the rest.
func (a *Assembler) Text(p []byte) int {
	if a.npend != 0 {
		return 0
	}
	j := textRun(p)
	if j > 0 {
		a.crPending = false
		a.appendRun(p[:j])
	}
	return j
}

// Byte takes one data byte: a line end, an editing key or text.
func (a *Assembler) Byte(b byte) Result {
	if a.crPending {
		a.crPending = false
		if b == '\n' || b == 0 {
			return Result{} // second half of CR LF or CR NUL
		}
	}
	switch b {
	case '\r':
		r := a.End()
		a.crPending = true
		return r
	case '\n':
		return a.End()
	case 0, ctrlD:
		// NUL is a no-op on the NVT printer; ^D has no meaning inside a chat line.
	case bs, del:
		a.EraseRune()
	case ctrlU:
		a.EraseLine()
	case ctrlC:
		a.EraseLine()
		return Result{Kind: Interrupt}
	default:
		a.text(b)
	}
	return Result{}
}

// textRun returns the end of the run at the start of p of bytes that are
// plain text: printable ASCII and complete, valid UTF-8 sequences.
func textRun(p []byte) int {
	i := 0
	for i < len(p) {
		c := p[i]
		if c >= 0x20 && c < del {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			break
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size <= 1 {
			break // invalid or incomplete: the byte path handles it
		}
		i += size
	}
	return i
}

// text adds one byte of text to the line, assembling UTF-8.
func (a *Assembler) text(b byte) {
	if a.npend == 0 && b < utf8.RuneSelf {
		a.appendText([]byte{b})
		return
	}
	a.pend[a.npend] = b
	a.npend++
	for a.npend > 0 && utf8.FullRune(a.pend[:a.npend]) {
		a.takeRune()
	}
}

// takeRune moves the first rune (or one invalid byte, as U+FFFD) from pend to the line.
func (a *Assembler) takeRune() {
	r, size := utf8.DecodeRune(a.pend[:a.npend])
	if r == utf8.RuneError && size <= 1 {
		size = 1
		if a.reserve(utf8.RuneLen(utf8.RuneError)) {
			a.line = utf8.AppendRune(a.line, utf8.RuneError)
		}
	} else {
		a.appendText(a.pend[:size])
	}
	a.npend = copy(a.pend[:], a.pend[size:a.npend])
}

// appendText appends valid UTF-8 to the line unless that would make it longer than max.
func (a *Assembler) appendText(s []byte) {
	if a.reserve(len(s)) {
		a.line = append(a.line, s...)
	}
}

// appendRun appends valid UTF-8 text to the line, as many whole runes as fit in max.
func (a *Assembler) appendRun(s []byte) {
	if room := a.max - len(a.line); len(s) > room && !a.truncated {
		cut := room
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		a.appendText(s[:cut])
		a.truncated = true
		return
	}
	a.appendText(s)
}

// reserve reports whether n more bytes fit in the line, and makes room for them. When they
// do not fit, the line is marked truncated and all further text up to the line end is
// dropped. The buffer grows in steps but never beyond max.
func (a *Assembler) reserve(n int) bool {
	if a.truncated {
		return false
	}
	need := len(a.line) + n
	if need > a.max {
		a.truncated = true
		return false
	}
	if need > cap(a.line) {
		c := min(max(2*cap(a.line), need, 64), a.max)
		grown := make([]byte, len(a.line), c)
		copy(grown, a.line)
		a.line = grown
	}
	return true
}

// EraseRune removes the last rune of the line (BS, DEL, Telnet's IAC EC). An incomplete
// UTF-8 sequence counts as the last rune. Once the line is truncated, erasing is ignored.
func (a *Assembler) EraseRune() {
	switch {
	case a.truncated:
	case a.npend > 0:
		a.npend = 0
	case len(a.line) > 0:
		_, size := utf8.DecodeLastRune(a.line)
		a.line = a.line[:len(a.line)-size]
	}
}

// EraseLine discards the line being assembled (^U, Telnet's IAC EL and the interrupts).
func (a *Assembler) EraseLine() {
	a.line = a.line[:0]
	a.npend = 0
	a.truncated = false
}

// End ends the line being assembled: it is returned unless it is empty
// (an incomplete UTF-8 sequence at its end is invalid), and a new one
// starts.
func (a *Assembler) End() Result {
	for a.npend > 0 {
		a.takeRune()
	}
	var r Result
	if len(a.line) > 0 || a.truncated {
		r = Result{Kind: Line, Line: string(a.line), Truncated: a.truncated}
	}
	a.line = a.line[:0]
	a.truncated = false
	return r
}

// Finish ends input: the final unterminated line, if any, is returned
// (as End), and no CR is pending any more.
func (a *Assembler) Finish() Result {
	a.crPending = false
	return a.End()
}

// Take returns the line typed so far and forgets it, with any pending CR
// (for a line editor that takes over the line).
func (a *Assembler) Take() string {
	for a.npend > 0 {
		a.takeRune()
	}
	s := string(a.line)
	a.line = a.line[:0]
	a.truncated, a.crPending = false, false
	return s
}

// Idle reports whether the Assembler is at rest: no partial line, no
// pending UTF-8 sequence, no CR waiting for its LF.
func (a *Assembler) Idle() bool {
	return !a.crPending && a.npend == 0 && len(a.line) == 0 && !a.truncated
}

// Cap returns the capacity of the line buffer, which never exceeds the
// maximum line length.
func (a *Assembler) Cap() int { return cap(a.line) }
