package lineedit

import (
	"unicode"
	"unicode/utf8"
)

// A Decoder turns the bytes a terminal sends into keys. It keeps its state
// between calls, so a key may arrive split across reads, down to one byte
// per read: a UTF-8 sequence, an escape sequence, the LF or NUL after a CR,
// and the markers of a bracketed paste. The zero value is ready to use.
//
// Line ends: CR, CR LF, CR NUL and LF are each one KeyEnter; the LF or NUL
// right after a CR is swallowed even when it comes in a later call. NUL is
// dropped everywhere.
//
// Escape sequences: CSI (ESC [ ... final) and SS3 (ESC O x) sequences for
// the arrows, Home, End and Delete become keys (see [Code]); every other
// CSI or SS3 sequence is dropped whole. ESC b, ESC f and ESC DEL (Alt-B,
// Alt-F, Alt-Backspace) are word keys. ESC followed by anything else is
// KeyEscape and the byte is decoded afresh, so a user who presses Escape
// by habit loses no character (Alt-X arrives as Escape and X). An
// ESC at the end of the input stays pending until the next byte decides
// what it is ([Decoder.Flush] settles it as KeyEscape).
//
// Bracketed paste: the text between ESC [ 200 ~ and ESC [ 201 ~ comes as
// KeyPaste keys, never as key presses: a pasted Ctrl-C, Tab or CR cannot
// act as a key. Pasted text is delivered at the end of each Decode call (or
// every 4 KiB), so memory stays bounded however long the paste.
//
// Control characters other than those mapped to keys are dropped; invalid
// UTF-8 becomes U+FFFD, one per byte, as with [utf8.DecodeRune].
type Decoder struct {
	state  decodeState
	cr     bool // the last byte was a CR: a following LF or NUL is swallowed
	paste  bool // inside a bracketed paste
	utf    [utf8.UTFMax]byte
	nutf   int // bytes of an incomplete UTF-8 sequence in utf
	seq    [maxSeq]byte
	nseq   int  // parameter and intermediate bytes of the CSI in seq
	seqBad bool // the CSI's parameters did not fit in seq: it is unknown
	text   []byte
}

type decodeState uint8

const (
	stateGround decodeState = iota
	stateEsc                // after ESC
	stateCSI                // after ESC [
	stateSS3                // after ESC O
)

// maxSeq bounds the parameter bytes of a CSI sequence that are kept; longer
// sequences are read to their end and dropped.
const maxSeq = 16

// maxPasteChunk is the most pasted text a Decoder holds before delivering it.
const maxPasteChunk = 4096

// Decode appends to dst the keys in p and returns the extended slice.
func (d *Decoder) Decode(dst []Key, p []byte) []Key {
	for _, b := range p {
		dst = d.byte(dst, b)
	}
	return d.flushText(dst)
}

// Pending reports whether the Decoder holds the start of a key that more
// bytes will complete: an ESC, an escape sequence or a UTF-8 sequence.
func (d *Decoder) Pending() bool {
	return d.state != stateGround || d.nutf > 0
}

// InPaste reports whether the Decoder is inside a bracketed paste.
func (d *Decoder) InPaste() bool { return d.paste }

// Flush settles whatever is pending as if the input had paused: a lone
// ESC becomes KeyEscape, an incomplete escape sequence is dropped and an
// incomplete UTF-8 sequence becomes U+FFFD per byte. It appends the keys
// to dst. A caller may call it when no byte has come for a while; it is
// never required.
func (d *Decoder) Flush(dst []Key) []Key {
	if d.state == stateEsc {
		dst = d.emit(dst, Key{Code: KeyEscape})
	}
	d.state = stateGround
	dst = d.flushUTF8(dst)
	return d.flushText(dst)
}

// byte decodes one byte.
func (d *Decoder) byte(dst []Key, b byte) []Key {
	if d.cr {
		d.cr = false
		if b == '\n' || b == 0 {
			return dst
		}
	}
	switch d.state {
	case stateEsc:
		return d.escByte(dst, b)
	case stateCSI:
		return d.csiByte(dst, b)
	case stateSS3:
		return d.ss3Byte(dst, b)
	}
	if b >= utf8.RuneSelf {
		return d.utf8Byte(dst, b)
	}
	dst = d.flushUTF8(dst) // an ASCII byte ends an incomplete sequence
	if b >= ' ' && b != 0x7f {
		return d.emitRune(dst, rune(b))
	}
	return d.control(dst, b)
}

// control decodes a C0 control byte or DEL in the ground state.
func (d *Decoder) control(dst []Key, b byte) []Key {
	switch b {
	case '\r':
		d.cr = true
		return d.emit(dst, Key{Code: KeyEnter})
	case '\n':
		return d.emit(dst, Key{Code: KeyEnter})
	case 0x1b:
		d.state = stateEsc
		return dst
	case '\t':
		return d.emit(dst, Key{Code: KeyTab})
	}
	if int(b) < len(controlKeys) && controlKeys[b] != 0 {
		return d.emit(dst, Key{Code: controlKeys[b]})
	}
	if b == 0x7f {
		return d.emit(dst, Key{Code: KeyBackspace})
	}
	return dst // NUL, BEL and the other controls are dropped
}

// controlKeys maps the C0 control bytes that are keys.
var controlKeys = [...]Code{
	0x01: KeyHome, 0x02: KeyLeft, 0x03: KeyInterrupt, 0x04: KeyCtrlD, 0x05: KeyEnd,
	0x06: KeyRight, 0x08: KeyBackspace, 0x0b: KeyKillEnd, 0x0c: KeyRedraw, 0x0e: KeyDown,
	0x10: KeyUp, 0x15: KeyKillStart, 0x17: KeyKillWord,
}

// escByte decodes the byte after an ESC.
func (d *Decoder) escByte(dst []Key, b byte) []Key {
	switch {
	case b == '[':
		d.state, d.nseq, d.seqBad = stateCSI, 0, false
		return dst
	case b == 'O':
		d.state = stateSS3
		return dst
	case b == 0x1b: // the first ESC was alone; the second starts afresh
		return d.emit(dst, Key{Code: KeyEscape})
	case b == 0x7f || b == 0x08:
		d.state = stateGround
		return d.emit(dst, Key{Code: KeyKillWord})
	case b == 'b':
		d.state = stateGround
		return d.emit(dst, Key{Code: KeyWordLeft})
	case b == 'f':
		d.state = stateGround
		return d.emit(dst, Key{Code: KeyWordRight})
	}
	d.state = stateGround
	dst = d.emit(dst, Key{Code: KeyEscape})
	return d.byte(dst, b)
}

// csiByte decodes a byte of a CSI sequence.
func (d *Decoder) csiByte(dst []Key, b byte) []Key {
	switch {
	case b >= 0x20 && b <= 0x3f: // parameter and intermediate bytes
		if d.nseq < len(d.seq) {
			d.seq[d.nseq] = b
			d.nseq++
		} else {
			d.seqBad = true
		}
		return dst
	case b >= 0x40 && b <= 0x7e: // final byte
		d.state = stateGround
		if d.seqBad {
			return dst
		}
		return d.csiKey(dst, string(d.seq[:d.nseq]), b)
	}
	// A control or non-ASCII byte cannot be in a sequence: drop the
	// sequence and decode the byte afresh.
	d.state = stateGround
	return d.byte(dst, b)
}

// csiKey decodes a complete CSI sequence with parameters params and final byte final.
func (d *Decoder) csiKey(dst []Key, params string, final byte) []Key {
	switch final {
	case 'A', 'B', 'C', 'D':
		code := arrowKeys[final-'A']
		// ESC [ 1 ; m C: modifier m-1 has bit 2 for Alt and bit 4 for Ctrl.
		if len(params) == 3 && params[:2] == "1;" && params[2] >= '2' && params[2] <= '9' {
			if mod := params[2] - '1'; mod&(2|4) != 0 {
				switch final {
				case 'C':
					code = KeyWordRight
				case 'D':
					code = KeyWordLeft
				}
			}
		}
		return d.emit(dst, Key{Code: code})
	case 'H':
		return d.emit(dst, Key{Code: KeyHome})
	case 'F':
		return d.emit(dst, Key{Code: KeyEnd})
	case '~':
		n := params
		for i := 0; i < len(n); i++ {
			if n[i] == ';' {
				n = n[:i]
				break
			}
		}
		switch n {
		case "1", "7":
			return d.emit(dst, Key{Code: KeyHome})
		case "4", "8":
			return d.emit(dst, Key{Code: KeyEnd})
		case "3":
			return d.emit(dst, Key{Code: KeyDelete})
		case "200":
			d.paste = true
		case "201":
			dst = d.flushText(dst)
			d.paste = false
		}
	}
	return dst // unknown keys (F1, PageUp, Insert, ...) are dropped
}

// arrowKeys maps the final bytes A to D of arrow sequences.
var arrowKeys = [4]Code{KeyUp, KeyDown, KeyRight, KeyLeft}

// ss3Byte decodes the byte after ESC O.
func (d *Decoder) ss3Byte(dst []Key, b byte) []Key {
	d.state = stateGround
	switch b {
	case 'A', 'B', 'C', 'D':
		return d.emit(dst, Key{Code: arrowKeys[b-'A']})
	case 'H':
		return d.emit(dst, Key{Code: KeyHome})
	case 'F':
		return d.emit(dst, Key{Code: KeyEnd})
	}
	if b >= 0x20 && b < 0x7f {
		return dst // F1 to F4 and keypad keys are dropped
	}
	return d.byte(dst, b)
}

// utf8Byte adds a byte of a multi-byte UTF-8 sequence.
func (d *Decoder) utf8Byte(dst []Key, b byte) []Key {
	d.utf[d.nutf] = b
	d.nutf++
	for d.nutf > 0 && utf8.FullRune(d.utf[:d.nutf]) {
		r, size := utf8.DecodeRune(d.utf[:d.nutf])
		dst = d.emitRune(dst, r)
		d.nutf = copy(d.utf[:], d.utf[size:d.nutf])
	}
	return dst
}

// flushUTF8 turns an incomplete UTF-8 sequence into U+FFFD, one per byte.
func (d *Decoder) flushUTF8(dst []Key) []Key {
	for ; d.nutf > 0; d.nutf-- {
		dst = d.emitRune(dst, utf8.RuneError)
	}
	return dst
}

// emitRune emits r if it is printable.
func (d *Decoder) emitRune(dst []Key, r rune) []Key {
	if !printable(r) {
		return dst
	}
	if d.paste {
		d.text = utf8.AppendRune(d.text, r)
		if len(d.text) >= maxPasteChunk {
			dst = d.flushText(dst)
		}
		return dst
	}
	return append(dst, Key{Code: KeyRune, Rune: r})
}

// emit emits k, or inside a paste what k stands for in text.
func (d *Decoder) emit(dst []Key, k Key) []Key {
	if !d.paste {
		return append(dst, k)
	}
	switch k.Code {
	case KeyEnter:
		d.text = append(d.text, '\n')
	case KeyTab:
		d.text = append(d.text, ' ')
	default:
		return dst // keys inside a paste are not keys
	}
	if len(d.text) >= maxPasteChunk {
		dst = d.flushText(dst)
	}
	return dst
}

// flushText delivers the pasted text collected so far.
func (d *Decoder) flushText(dst []Key) []Key {
	if len(d.text) == 0 {
		return dst
	}
	dst = append(dst, Key{Code: KeyPaste, Text: string(d.text)})
	d.text = d.text[:0]
	return dst
}

// printable reports whether r may be part of a line: not a C0 or C1
// control, DEL, a line or paragraph separator, or a format character
// (bidi controls, soft hyphen, BOM) other than ZWJ and ZWNJ, which emoji
// and some scripts need.
func printable(r rune) bool {
	switch {
	case r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0:
		return false
	case r < 0xa0:
		return true
	case r == 0x200c || r == 0x200d:
		return true
	case r == 0x2028 || r == 0x2029:
		return false
	}
	return !unicode.Is(unicode.Cf, r)
}
