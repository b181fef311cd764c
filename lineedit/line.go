package lineedit

import "unicode/utf8"

// buffer is the line being typed and the cursor in it. It knows nothing of
// the screen. The cursor always sits on a cluster boundary: a character and
// the zero-width characters after it (combining marks, ZWJ) move and are
// erased together.
type buffer struct {
	r     []rune
	pos   int // cursor, an index into r
	bytes int // len(string(r))
	max   int // the most bytes r may hold
}

// String returns the line.
func (b *buffer) String() string { return string(b.r) }

// set replaces the line with s, cut to the cap, and puts the cursor at its end.
func (b *buffer) set(s string) {
	b.r, b.bytes = b.r[:0], 0
	for _, r := range s {
		n := utf8.RuneLen(r)
		if b.bytes+n > b.max {
			break
		}
		b.r = append(b.r, r)
		b.bytes += n
	}
	b.pos = len(b.r)
}

// insert inserts the printable runes of s at the cursor, as many as fit in
// the cap, and moves the cursor after them. It reports whether all fit.
func (b *buffer) insert(s []rune) bool {
	n, size := 0, 0
	for _, r := range s {
		l := utf8.RuneLen(r)
		if b.bytes+size+l > b.max {
			break
		}
		n++
		size += l
	}
	b.r = append(b.r, s[:n]...) // grow, then shift the tail right
	copy(b.r[b.pos+n:], b.r[b.pos:len(b.r)-n])
	copy(b.r[b.pos:], s[:n])
	b.pos += n
	b.bytes += size
	return n == len(s)
}

// remove deletes r[from:to].
func (b *buffer) remove(from, to int) {
	for _, r := range b.r[from:to] {
		b.bytes -= utf8.RuneLen(r)
	}
	b.r = append(b.r[:from], b.r[to:]...)
	switch {
	case b.pos >= to:
		b.pos -= to - from
	case b.pos > from:
		b.pos = from
	}
}

// prev returns the start of the cluster before index i.
func (b *buffer) prev(i int) int {
	for i > 0 {
		i--
		if runeWidth(b.r[i]) > 0 {
			break
		}
	}
	return i
}

// next returns the end of the cluster that starts at index i.
func (b *buffer) next(i int) int {
	if i < len(b.r) {
		i++
	}
	for i < len(b.r) && runeWidth(b.r[i]) == 0 {
		i++
	}
	return i
}

// wordStart returns the start of the word before index i: spaces are
// skipped, then everything up to the next space.
func (b *buffer) wordStart(i int) int {
	for i > 0 && b.r[i-1] == ' ' {
		i--
	}
	for i > 0 && b.r[i-1] != ' ' {
		i--
	}
	return i
}

// wordEnd returns the end of the word after index i.
func (b *buffer) wordEnd(i int) int {
	for i < len(b.r) && b.r[i] == ' ' {
		i++
	}
	for i < len(b.r) && b.r[i] != ' ' {
		i++
	}
	return i
}

// bytePos returns the byte offset of rune index i.
func (b *buffer) bytePos(i int) int {
	n := 0
	for _, r := range b.r[:i] {
		n += utf8.RuneLen(r)
	}
	return n
}
