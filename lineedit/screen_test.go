package lineedit

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// screen is a small VT100 model for tests: it understands exactly the
// bytes the Editor may send (printable UTF-8, CR, NUL, LF, BS, BEL, ESC [ K,
// ESC [ n C, ESC [ n D, SGR and ESC [ ? 2004 h/l) and records anything else
// as an error.
type screen struct {
	width   int
	rows    [][]string // cells; a wide character's second cell is ""
	row     int
	col     int
	bells   int
	wrapped bool // a character was written past the last column
	errs    []string
	pending []byte // an incomplete escape sequence or UTF-8 sequence
}

func newScreen(width int) *screen {
	return &screen{width: width, rows: [][]string{nil}}
}

func (s *screen) errorf(format string, args ...any) {
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

// cells returns row r, padded to the width.
func (s *screen) cells(r int) []string {
	for len(s.rows[r]) < s.width {
		s.rows[r] = append(s.rows[r], " ")
	}
	return s.rows[r]
}

// Write interprets p.
func (s *screen) Write(p []byte) {
	p = append(s.pending, p...)
	s.pending = nil
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == 0x1b:
			n := s.escape(p[i:])
			if n == 0 {
				s.pending = append([]byte(nil), p[i:]...)
				return
			}
			i += n
			continue
		case c == '\r':
			s.col = 0
			if i+1 < len(p) && p[i+1] != 0 && p[i+1] != '\n' {
				s.errorf("CR followed by %q at %d, not NUL or LF", p[i+1], i)
			}
		case c == 0:
		case c == '\n':
			if i == 0 || p[i-1] != '\r' {
				s.errorf("LF without CR at %d", i)
			}
			s.row++
			if s.row == len(s.rows) {
				s.rows = append(s.rows, nil)
			}
		case c == '\b':
			if s.col > 0 {
				s.col--
			}
		case c == '\a':
			s.bells++
		case c == 0xff:
			s.errorf("byte 0xFF at %d", i)
		case c < ' ' || c == 0x7f:
			s.errorf("control byte %#x at %d", c, i)
		default:
			if !utf8.FullRune(p[i:]) {
				s.pending = append([]byte(nil), p[i:]...)
				return
			}
			r, size := utf8.DecodeRune(p[i:])
			if r == utf8.RuneError && size == 1 {
				s.errorf("invalid UTF-8 %#x at %d", c, i)
			}
			s.put(r)
			i += size
			continue
		}
		i++
	}
}

// put writes r at the cursor.
func (s *screen) put(r rune) {
	w := runeWidth(r)
	if w == 0 { // combining: joins the cell before
		row := s.cells(s.row)
		if s.col > 0 {
			row[s.col-1] += string(r)
		}
		return
	}
	if s.col+w > s.width {
		s.wrapped = true
		s.col = 0
		s.row++
		if s.row == len(s.rows) {
			s.rows = append(s.rows, nil)
		}
	}
	row := s.cells(s.row)
	row[s.col] = string(r)
	if w == 2 {
		row[s.col+1] = ""
	}
	s.col += w
}

// escape interprets the escape sequence at the start of p and returns its
// length, or 0 when p ends before it does.
func (s *screen) escape(p []byte) int {
	if len(p) < 2 {
		return 0
	}
	if p[1] != '[' {
		s.errorf("escape %q", p[:2])
		return 2
	}
	i := 2
	for i < len(p) && (p[i] >= '0' && p[i] <= '9' || p[i] == ';' || p[i] == '?') {
		i++
	}
	if i == len(p) {
		return 0
	}
	params, final := string(p[2:i]), p[i]
	n := 1
	if params != "" && params[0] != '?' && !strings.Contains(params, ";") {
		n, _ = strconv.Atoi(params)
	}
	switch {
	case final == 'm':
	case final == 'K' && params == "":
		row := s.cells(s.row)
		for c := s.col; c < s.width; c++ {
			row[c] = " "
		}
	case final == 'C' && params[:min(1, len(params))] != "?":
		s.col = min(s.width-1, s.col+n)
	case final == 'D' && params[:min(1, len(params))] != "?":
		s.col = max(0, s.col-n)
	case (final == 'h' || final == 'l') && params == "?2004":
	default:
		s.errorf("unknown sequence %q", p[:i+1])
	}
	return i + 1
}

// line returns row r as text, trailing spaces removed.
func (s *screen) line(r int) string {
	if r >= len(s.rows) {
		return ""
	}
	return strings.TrimRight(strings.Join(s.cells(r), ""), " ")
}

// current returns the cursor's row as text.
func (s *screen) current() string { return s.line(s.row) }
