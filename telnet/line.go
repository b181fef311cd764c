package telnet

import (
	"unicode/utf8"
)

// Control bytes with an editing meaning.
const (
	ctrlC = 0x03 // interrupt: discard the line
	ctrlD = 0x04 // dropped
	ctrlU = 0x15 // kill the line
	bs    = 0x08 // erase the last rune
	del   = 0x7f // erase the last rune
)

// textRun returns the end of the run starting at p[i] of bytes that are plain text: printable
// ASCII and complete, valid UTF-8 sequences. Such a run goes to the line unchanged.
func textRun(p []byte, i int) int {
	for i < len(p) {
		c := p[i]
		if c >= 0x20 && c < del {
			i++
			continue
		}
		if c < utf8.RuneSelf || c == IAC {
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

// data handles one data byte: line ends, editing keys, then text.
func (d *Decoder) data(b byte) {
	if d.crPending {
		d.crPending = false
		if b == '\n' || b == 0 {
			return // second half of CR LF or CR NUL
		}
	}
	switch b {
	case '\r':
		d.endLine()
		d.crPending = true
	case '\n':
		d.endLine()
	case 0, ctrlD:
		// NUL is a no-op on the NVT printer; ^D has no meaning inside a chat line.
	case bs, del:
		d.eraseRune()
	case ctrlU:
		d.eraseLine()
	case ctrlC:
		d.interrupt()
	default:
		d.text(b)
	}
}

// text adds one byte of text to the line, assembling UTF-8. Invalid sequences become
// U+FFFD, one per byte, exactly as utf8.DecodeRune would split them.
func (d *Decoder) text(b byte) {
	if d.npend == 0 && b < utf8.RuneSelf {
		d.appendText([]byte{b})
		return
	}
	d.pend[d.npend] = b
	d.npend++
	for d.npend > 0 && utf8.FullRune(d.pend[:d.npend]) {
		d.takeRune()
	}
}

// takeRune moves the first rune (or one invalid byte, as U+FFFD) from pend to the line.
func (d *Decoder) takeRune() {
	r, size := utf8.DecodeRune(d.pend[:d.npend])
	if r == utf8.RuneError && size <= 1 {
		size = 1
		d.appendRuneError()
	} else {
		d.appendText(d.pend[:size])
	}
	d.npend = copy(d.pend[:], d.pend[size:d.npend])
}

// appendText appends valid UTF-8 to the line unless that would make it longer than maxLine.
func (d *Decoder) appendText(s []byte) {
	if d.reserve(len(s)) {
		d.line = append(d.line, s...)
	}
}

// appendRun appends valid UTF-8 text to the line, as many whole runes as fit in maxLine.
func (d *Decoder) appendRun(s []byte) {
	if room := d.maxLine - len(d.line); len(s) > room && !d.truncated {
		cut := room
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		d.appendText(s[:cut])
		d.truncated = true
		return
	}
	d.appendText(s)
}

// appendRuneError appends U+FFFD to the line unless that would make it longer than maxLine.
func (d *Decoder) appendRuneError() {
	if d.reserve(utf8.RuneLen(utf8.RuneError)) {
		d.line = utf8.AppendRune(d.line, utf8.RuneError)
	}
}

// reserve reports whether n more bytes fit in the line, and makes room for them. When they
// do not fit, the line is marked truncated and all further text up to the line end is
// dropped. The buffer grows in steps but never beyond maxLine.
func (d *Decoder) reserve(n int) bool {
	if d.truncated {
		return false
	}
	need := len(d.line) + n
	if need > d.maxLine {
		d.truncated = true
		return false
	}
	if need > cap(d.line) {
		c := max(2*cap(d.line), need, 64)
		c = min(c, d.maxLine)
		grown := make([]byte, len(d.line), c)
		copy(grown, d.line)
		d.line = grown
	}
	return true
}

// eraseRune removes the last rune of the line (BS, DEL, IAC EC). An incomplete UTF-8
// sequence counts as the last rune. Once the line is truncated, erasing is ignored.
func (d *Decoder) eraseRune() {
	switch {
	case d.truncated:
	case d.npend > 0:
		d.npend = 0
	case len(d.line) > 0:
		_, size := utf8.DecodeLastRune(d.line)
		d.line = d.line[:len(d.line)-size]
	}
}

// eraseLine discards the line being assembled (^U, IAC EL, and the interrupts).
func (d *Decoder) eraseLine() {
	d.line = d.line[:0]
	d.npend = 0
	d.truncated = false
}

// interrupt discards the line and reports it (^C, IAC IP, IAC ABORT, IAC BRK).
func (d *Decoder) interrupt() {
	d.eraseLine()
	d.events = append(d.events, Event{Kind: EventInterrupt})
}

// endLine emits the line being assembled, if it is not empty, and starts a new one.
func (d *Decoder) endLine() {
	for d.npend > 0 {
		d.takeRune() // an incomplete sequence at the line end is invalid
	}
	if len(d.line) > 0 || d.truncated {
		d.events = append(d.events, Event{Kind: EventLine, Line: string(d.line), Truncated: d.truncated})
	}
	d.line = d.line[:0]
	d.truncated = false
}
