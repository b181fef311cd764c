package render

import (
	"strings"
	"unicode/utf8"

	"telchat/lineedit"
)

// hangingIndent is the indent of a line's continuation rows on a terminal
// width columns wide when its text starts at column col: col itself (the
// text lines up under its first row) unless that is more than half the
// width, then two columns. It is at least two, so that a continuation
// never starts at the first column, and at most half the width.
func hangingIndent(col, width int) int {
	if col > width/2 || col < 2 {
		col = 2
	}
	return min(col, width/2)
}

// appendWrapped appends text, starting at column col of a terminal width
// columns wide, in rows of at most width columns: each row after the
// first starts on a new line, indent spaces in. Rows are broken at the
// last space that fits (the space itself is dropped), or, in a word
// longer than a row, where the row is full. Wide characters count two
// columns and combining marks none (lineedit.RuneWidth).
func appendWrapped(dst []byte, text, mention string, width, col, indent int) []byte {
	room := width - col
	if room < 1 {
		dst = appendRowBreak(dst, indent)
		room = width - indent
	}
	rowStart, used := 0, 0 // text[rowStart:i] is on the current row, used columns wide
	space, before := -1, 0 // the last space on the row and the columns before it
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		w := lineedit.RuneWidth(r)
		consumed := false
		// Twice at most: the rest of a row broken at a space may not fit
		// a continuation row, which can be narrower than the first.
		for used+w > room && i > rowStart && !consumed {
			end, next := i, i
			switch {
			case r == ' ':
				next, consumed = i+size, true
			case space > rowStart:
				end, next = space, space+1
			}
			dst = appendText(dst, text[rowStart:end], mention)
			dst = appendRowBreak(dst, indent)
			room = width - indent
			if end == space {
				used -= before + 1
			} else {
				used = 0
			}
			rowStart, space = next, -1
		}
		if consumed {
			i += size
			continue
		}
		if r == ' ' {
			space, before = i, used
		}
		used += w
		i += size
	}
	return appendText(dst, text[rowStart:], mention)
}

// appendRowBreak ends a row and indents the next.
func appendRowBreak(dst []byte, indent int) []byte {
	dst = append(dst, '\r', '\n')
	for range indent {
		dst = append(dst, ' ')
	}
	return dst
}

// appendReplyWrapped appends a Reply's lines wrapped for a terminal width
// columns wide, each with its own hanging indent (replyIndent).
func appendReplyWrapped(dst []byte, text string, width int) []byte {
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		dst = appendWrapped(dst, line, "", width, 0, replyIndent(line, width))
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// replyIndent is the hanging indent of a line of a command's answer: under
// the text after a leading "*** ", under the second column of a table row
// ("  /who [ROOM]   list the users..."), under the text of a line
// indented four columns or more, or two columns past the line's own
// indent; as hangingIndent bounds it.
func replyIndent(line string, width int) int {
	body := strings.TrimLeft(line, " ")
	lead := len(line) - len(body)
	col := lead + 2
	if lead >= 4 {
		col = lead
	}
	switch {
	case strings.HasPrefix(body, "*** "):
		col = lead + 4
	case lead > 0:
		if j := strings.Index(body, "  "); j > 0 {
			k := j + len(body[j:]) - len(strings.TrimLeft(body[j:], " "))
			if k < len(body) {
				col = lineedit.Width(line[:lead+k])
			}
		}
	}
	if col > width/2 {
		col = lead + 2
	}
	return hangingIndent(col, width)
}
