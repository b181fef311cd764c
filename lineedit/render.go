package lineedit

import (
	"strconv"
	"unicode/utf8"
)

// The screen model: the prompt and the visible part of the line take one
// row, and never its last column, so the terminal never wraps them. A line
// wider than that scrolls horizontally: e.scroll is the first character
// shown, chosen so that the cursor is on screen. Every redraw starts with
// CR NUL (a carriage return on a Telnet NVT), so the bytes are right
// wherever the cursor was on the row.

// minText is the fewest columns left for the line after the prompt; a
// prompt that leaves fewer is not shown while the line is edited.
const minText = 8

// EraseLine is what AppendErase appends: CR NUL (to column 0 on a Telnet
// NVT) and ESC [ K (clear the row). It is the same for every Editor, so a
// writer may keep one copy and share it between sessions.
const EraseLine = "\r\x00\x1b[K"

const (
	eraseLine = EraseLine
	clearEOL  = "\x1b[K"
	crlf      = "\r\n"
)

// AppendErase appends the bytes that erase the input line and leave the
// cursor at the start of its row, ready for output: [EraseLine], whatever
// the state.
//
// A writer brackets a batch of output with AppendErase and AppendRedraw.
// The output in between must end with CR LF, or the redraw overwrites its
// last row.
func (e *Editor) AppendErase(dst []byte) []byte {
	return append(dst, eraseLine...)
}

// AppendRedraw appends the bytes that draw the prompt and the visible part
// of the line on the cursor's row, clear the rest of the row and put the
// cursor where it is in the line.
func (e *Editor) AppendRedraw(dst []byte) []byte {
	e.fixScroll()
	dst = append(dst, '\r', 0)
	if e.showPrompt() {
		dst = append(dst, e.prompt...)
	}
	b := &e.buf
	avail, used, cur := e.avail(), 0, -1
	for i := e.scroll; i < len(b.r); i++ {
		if i == b.pos {
			cur = used
		}
		w := e.cellWidth(i)
		if used+w > avail {
			break
		}
		dst = e.appendCell(dst, i)
		used += w
	}
	if cur < 0 {
		cur = used // the cursor is at the end of the line
	}
	dst = append(dst, clearEOL...)
	return appendMove(dst, used-cur, 'D')
}

// finishLine shows the whole line, unscrolled, followed by mark and CR LF,
// as it stays above the next prompt.
func (e *Editor) finishLine(out []byte, mark string) []byte {
	b := &e.buf
	if e.scroll == 0 && (e.showPrompt() || e.promptW == 0) && e.cols(0, len(b.r)) <= e.avail() {
		out = appendMove(out, e.cols(b.pos, len(b.r)), 'C') // all on screen already
	} else {
		out = append(out, eraseLine...)
		out = append(out, e.prompt...)
		for i := range b.r {
			out = e.appendCell(out, i)
		}
	}
	out = append(out, mark...)
	return append(out, crlf...)
}

// appendPrompt shows the prompt of a new, empty line, the cursor being at
// the start of a row.
func (e *Editor) appendPrompt(out []byte) []byte {
	if e.showPrompt() {
		out = append(out, e.prompt...)
	}
	return out
}

// showPrompt reports whether the prompt fits beside the line.
func (e *Editor) showPrompt() bool {
	return e.width-1-e.promptW >= minText
}

// avail returns the columns the line may take on the screen.
func (e *Editor) avail() int {
	if e.showPrompt() {
		return e.width - 1 - e.promptW
	}
	return e.width - 1
}

// cellWidth returns the columns the character at index i takes on the screen.
func (e *Editor) cellWidth(i int) int {
	switch {
	case !e.secret:
		return runeWidth(e.buf.r[i])
	case e.mask == 0:
		return 0
	}
	return 1
}

// appendCell appends what shows the character at index i.
func (e *Editor) appendCell(out []byte, i int) []byte {
	switch {
	case !e.secret:
		return utf8.AppendRune(out, e.buf.r[i])
	case e.mask == 0:
		return out
	}
	return utf8.AppendRune(out, e.mask)
}

// cols returns the columns the characters from index from to to take.
func (e *Editor) cols(from, to int) int {
	n := 0
	for i := from; i < to; i++ {
		n += e.cellWidth(i)
	}
	return n
}

// fixScroll chooses e.scroll so that the cursor and the character under it
// are on screen, with some of the line before it when the line scrolls
// back, and as much of the line as fits. It returns the new value.
func (e *Editor) fixScroll() int {
	b := &e.buf
	avail := e.avail()
	if e.scroll > len(b.r) {
		e.scroll = len(b.r)
	}
	if e.scroll > b.pos { // scroll back, keeping a third of the row before the cursor
		e.scroll = b.pos
		c := 0
		for e.scroll > 0 {
			p := b.prev(e.scroll)
			if c+e.cols(p, e.scroll) > avail/3 {
				break
			}
			c += e.cols(p, e.scroll)
			e.scroll = p
		}
	}
	for e.scroll > 0 && e.scroll < len(b.r) && runeWidth(b.r[e.scroll]) == 0 {
		e.scroll-- // start at a cluster's first character
	}
	// Scroll forward until the cursor's cell fits.
	need := max(1, e.cols(b.pos, b.next(b.pos)))
	c := e.cols(e.scroll, b.pos)
	for e.scroll < b.pos && c+need > avail {
		n := b.next(e.scroll)
		c -= e.cols(e.scroll, n)
		e.scroll = n
	}
	// Scroll back while the rest of the line and the cursor fit.
	c = e.cols(e.scroll, len(b.r))
	for e.scroll > 0 {
		p := b.prev(e.scroll)
		w := e.cols(p, e.scroll)
		if c+w+1 > avail {
			break
		}
		c += w
		e.scroll = p
	}
	return e.scroll
}

// appendMove appends the bytes that move the cursor n columns: dir is 'D'
// for left, 'C' for right.
func appendMove(out []byte, n int, dir byte) []byte {
	switch {
	case n <= 0:
		return out
	case n == 1 && dir == 'D':
		return append(out, '\b')
	}
	out = append(out, 0x1b, '[')
	if n > 1 {
		out = strconv.AppendInt(out, int64(n), 10)
	}
	return append(out, dir)
}

// appendInt appends n in decimal.
func appendInt(out []byte, n int) []byte { return strconv.AppendInt(out, int64(n), 10) }
