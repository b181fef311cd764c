package lineedit

import (
	"strings"
	"unicode/utf8"
)

// tab completes the word before the cursor (see [Completer]).
func (e *Editor) tab(out []byte) []byte {
	if e.complete == nil || e.secret {
		return out
	}
	b := &e.buf
	line, pos := b.String(), b.bytePos(b.pos)
	start, choices := e.complete(line, pos)
	if start < 0 || start > pos || start < len(line) && !utf8.RuneStart(line[start]) {
		return out
	}
	clean := make([]string, 0, len(choices))
	for _, c := range choices {
		if c = sanitizeText(c); c != "" {
			clean = append(clean, c)
		}
	}
	word := line[start:pos]
	switch {
	case len(clean) == 0:
		e.tabbed = false
		return append(out, '\a')
	case len(clean) == 1:
		e.tabbed = false
		rep := clean[0]
		if !strings.HasSuffix(rep, " ") {
			rep += " "
		}
		return e.replaceWord(out, start, rep)
	case e.tabbed:
		e.tabbed = false
		return e.list(out, clean)
	}
	e.tabbed = true
	prefix := commonPrefix(clean)
	if utf8.RuneCountInString(prefix) <= utf8.RuneCountInString(word) {
		return append(out, '\a')
	}
	return e.replaceWord(out, start, prefix)
}

// replaceWord replaces the text from byte offset start to the cursor with
// rep, when the line's cap allows, and shows the line.
func (e *Editor) replaceWord(out []byte, start int, rep string) []byte {
	b := &e.buf
	from := utf8.RuneCountInString(b.String()[:start])
	rs := []rune(rep)
	size := len(rep)
	for _, r := range b.r[from:b.pos] {
		size -= utf8.RuneLen(r)
	}
	if b.bytes+size > b.max {
		return append(out, '\a')
	}
	b.remove(from, b.pos)
	b.insert(rs)
	return e.AppendRedraw(out)
}

// commonPrefix returns the longest common prefix of words, whole runes only.
func commonPrefix(words []string) string {
	p := words[0]
	for _, w := range words[1:] {
		n := 0
		for n < len(p) && n < len(w) && p[n] == w[n] {
			n++
		}
		p = p[:n]
	}
	for len(p) > 0 && !utf8.ValidString(p) {
		p = p[:len(p)-1] // cut a rune the words share only in part
	}
	return p
}

// list shows the choices in columns below the line, then the line again.
func (e *Editor) list(out []byte, choices []string) []byte {
	more := 0
	if len(choices) > maxListed {
		more = len(choices) - maxListed
		choices = choices[:maxListed]
	}
	colW := 0
	for _, c := range choices {
		colW = max(colW, displayWidth(c)+2)
	}
	perRow := max(1, (e.width+1)/colW) // the last column needs no gap
	out = append(out, eraseLine...)
	for i, c := range choices {
		out = append(out, c...)
		if (i+1)%perRow == 0 || i == len(choices)-1 {
			out = append(out, crlf...)
			continue
		}
		for range colW - displayWidth(c) {
			out = append(out, ' ')
		}
	}
	if more > 0 {
		out = append(out, "(and "...)
		out = appendInt(out, more)
		out = append(out, " more)\r\n"...)
	}
	return e.AppendRedraw(out)
}
