package lineedit

import (
	"strings"
	"unicode/utf8"
)

// An Editor is the line a user types in character mode: it decodes the
// client's bytes into keys, edits the line, and produces the bytes that
// show it. It does no I/O and is not safe for concurrent use.
type Editor struct {
	dec  Decoder
	keys []Key // scratch for Feed

	buf        buffer
	hist       history
	histAt     int    // the history line shown, -1 for the line being typed
	histSaved  string // the line being typed while the history is shown
	complete   Completer
	private    func(string) bool // Config.Private
	tabbed     bool              // the last key was a Tab that left several choices
	truncated  bool              // the line lost input to the cap
	prompt     string
	promptW    int
	width      int
	scroll     int // index in buf.r of the first character shown
	secret     bool
	mask       rune
	userPrompt string // the prompt to go back to after a secret line
	userW      int
}

// New returns an Editor set up by cfg.
func New(cfg Config) *Editor {
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = DefaultMaxLine
	}
	switch {
	case cfg.History == 0:
		cfg.History = DefaultHistory
	case cfg.History < 0:
		cfg.History = 0
	}
	if cfg.HistoryBytes <= 0 {
		cfg.HistoryBytes = DefaultHistoryBytes
	}
	e := &Editor{
		buf:      buffer{max: cfg.MaxLine},
		hist:     newHistory(cfg.History, cfg.HistoryBytes),
		histAt:   -1,
		complete: cfg.Complete,
		private:  cfg.Private,
	}
	e.SetPrompt(cfg.Prompt)
	e.SetWidth(cfg.Width)
	return e
}

// Feed handles bytes the client sent (after Telnet decoding: data bytes
// only). It appends to out the bytes that show the result (echo, cursor
// moves, redraws) and to evs what the caller must act on, in order, and
// returns both. The bytes in out must reach the terminal before any later
// output of the Editor, and after all its earlier output.
func (e *Editor) Feed(out []byte, evs []Event, p []byte) ([]byte, []Event) {
	e.keys = e.dec.Decode(e.keys[:0], p)
	for _, k := range e.keys {
		out, evs = e.HandleKey(out, evs, k)
	}
	clear(e.keys) // drop pasted text
	return out, evs
}

// HandleKey handles one key, as Feed does for each key it decodes.
func (e *Editor) HandleKey(out []byte, evs []Event, k Key) ([]byte, []Event) {
	b := &e.buf
	if k.Code != KeyTab {
		e.tabbed = false
	}
	switch k.Code {
	case KeyRune:
		return e.insert(out, []rune{k.Rune}), evs
	case KeyPaste:
		return e.paste(out, evs, k.Text)
	case KeyEnter:
		return e.submit(out, evs, false)
	case KeyInterrupt:
		out = e.finishLine(out, "^C")
		evs = append(evs, Event{Kind: EventInterrupt, Secret: e.secret})
		e.newLine()
		return e.appendPrompt(out), evs
	case KeyCtrlD:
		if len(b.r) == 0 {
			return out, append(evs, Event{Kind: EventEOF})
		}
		return e.deleteForward(out), evs
	case KeyDelete:
		return e.deleteForward(out), evs
	case KeyBackspace:
		if b.pos == 0 {
			return out, evs
		}
		if b.pos == len(b.r) {
			from := b.prev(b.pos)
			w := e.cols(from, b.pos)
			b.remove(from, b.pos)
			return e.erasedAtEnd(out, w), evs
		}
		b.remove(b.prev(b.pos), b.pos)
	case KeyLeft:
		return e.moveTo(out, b.prev(b.pos)), evs
	case KeyRight:
		return e.moveTo(out, b.next(b.pos)), evs
	case KeyHome:
		return e.moveTo(out, 0), evs
	case KeyEnd:
		return e.moveTo(out, len(b.r)), evs
	case KeyWordLeft:
		return e.moveTo(out, b.wordStart(b.pos)), evs
	case KeyWordRight:
		return e.moveTo(out, b.wordEnd(b.pos)), evs
	case KeyKillStart:
		b.remove(0, b.pos)
	case KeyKillEnd:
		b.remove(b.pos, len(b.r))
	case KeyKillWord:
		b.remove(b.wordStart(b.pos), b.pos)
	case KeyUp:
		if e.secret || e.histAt+1 >= e.hist.len() {
			return out, evs
		}
		if e.histAt < 0 {
			e.histSaved = b.String()
		}
		e.histAt++
		b.set(e.hist.at(e.histAt))
	case KeyDown:
		if e.secret || e.histAt < 0 {
			return out, evs
		}
		e.histAt--
		if e.histAt < 0 {
			b.set(e.histSaved)
			e.histSaved = ""
		} else {
			b.set(e.hist.at(e.histAt))
		}
	case KeyTab:
		return e.tab(out), evs
	case KeyRedraw:
	default: // KeyEscape: nothing to do
		return out, evs
	}
	return e.AppendRedraw(out), evs
}

// insert inserts rs at the cursor and shows it.
func (e *Editor) insert(out []byte, rs []rune) []byte {
	b := &e.buf
	atEnd := b.pos == len(b.r)
	from := b.pos
	if !b.insert(rs) {
		e.truncated = true
		out = append(out, '\a')
	}
	if b.pos == from {
		return out
	}
	if old := e.scroll; atEnd && e.fixScroll() == old {
		for i := from; i < b.pos; i++ {
			out = e.appendCell(out, i)
		}
		return out
	}
	return e.AppendRedraw(out)
}

// erasedAtEnd shows that w columns were erased at the end of the line.
func (e *Editor) erasedAtEnd(out []byte, w int) []byte {
	// A zero-width character (a combining mark with no character before
	// it in the line) showed on a cell of the prompt: redraw.
	if old := e.scroll; e.fixScroll() != old || w == 0 && !(e.secret && e.mask == 0) {
		return e.AppendRedraw(out)
	}
	for range w {
		out = append(out, '\b')
	}
	for range w {
		out = append(out, ' ')
	}
	for range w {
		out = append(out, '\b')
	}
	return out
}

// deleteForward deletes the character under the cursor.
func (e *Editor) deleteForward(out []byte) []byte {
	b := &e.buf
	if b.pos == len(b.r) {
		return out
	}
	b.remove(b.pos, b.next(b.pos))
	return e.AppendRedraw(out)
}

// moveTo moves the cursor to index i and shows it.
func (e *Editor) moveTo(out []byte, i int) []byte {
	b := &e.buf
	from := b.pos
	if i == from {
		return out
	}
	oldScroll := e.scroll
	b.pos = i
	if e.fixScroll() != oldScroll {
		return e.AppendRedraw(out)
	}
	if i < from {
		return appendMove(out, e.cols(i, from), 'D')
	}
	return appendMove(out, e.cols(from, i), 'C')
}

// paste inserts pasted text; each line end in it submits the line.
func (e *Editor) paste(out []byte, evs []Event, text string) ([]byte, []Event) {
	for text != "" {
		seg, rest, nl := strings.Cut(text, "\n")
		if seg != "" {
			rs := make([]rune, 0, utf8.RuneCountInString(seg))
			for _, r := range seg {
				rs = append(rs, r)
			}
			if !e.buf.insert(rs) {
				if !e.truncated {
					out = append(out, '\a')
				}
				e.truncated = true
			}
		}
		if !nl {
			break
		}
		out = e.AppendRedraw(out) // the line as it is submitted
		out, evs = e.submit(out, evs, true)
		text = rest
	}
	return e.AppendRedraw(out), evs
}

// submit ends the line: it shows it whole, reports it and starts a new one.
func (e *Editor) submit(out []byte, evs []Event, pasted bool) ([]byte, []Event) {
	out = e.finishLine(out, "")
	text := e.buf.String()
	evs = append(evs, Event{Kind: EventLine, Text: text, Pasted: pasted, Secret: e.secret, Truncated: e.truncated})
	if !e.secret && text != "" && (e.private == nil || !e.private(text)) {
		e.hist.add(text)
	}
	e.newLine()
	return e.appendPrompt(out), evs
}

// newLine empties the line and leaves secret mode and the history.
func (e *Editor) newLine() {
	e.buf.set("")
	e.scroll, e.truncated, e.tabbed = 0, false, false
	e.histAt, e.histSaved = -1, ""
	if e.secret {
		e.secret, e.mask = false, 0
		e.prompt, e.promptW = e.userPrompt, e.userW
	}
}

// Line returns the line being typed.
func (e *Editor) Line() string { return e.buf.String() }

// Cursor returns the cursor's position in Line, in bytes.
func (e *Editor) Cursor() int { return e.buf.bytePos(e.buf.pos) }

// SetLine replaces the line being typed with s and puts the cursor at its
// end, for example to carry over what a user had typed in line mode. s is
// sanitized like typed text and cut to MaxLine bytes. It writes nothing:
// call AppendRedraw.
func (e *Editor) SetLine(s string) {
	s = sanitizeText(s)
	e.buf.set(s)
	e.truncated = len(e.buf.String()) < len(s)
	e.tabbed = false
	e.fixScroll()
}

// Reset empties the line being typed and leaves secret mode, without
// output; the history stays. A caller that redraws the line afterwards
// calls AppendRedraw.
func (e *Editor) Reset() { e.newLine() }

// SetPrompt sets the prompt shown before the line (see Config.Prompt). It
// writes nothing: call AppendRedraw to show it. In secret mode it sets the
// prompt that comes back after the secret line.
func (e *Editor) SetPrompt(p string) {
	p = sanitizePrompt(p)
	e.userPrompt, e.userW = p, displayWidth(p)
	if !e.secret {
		e.prompt, e.promptW = e.userPrompt, e.userW
	}
	e.fixScroll()
}

// SetWidth sets the terminal's width in columns, as a window size (NAWS)
// report gives it: 0 or less means 80, and it is kept within MinWidth and
// MaxWidth. It writes nothing: call AppendErase and AppendRedraw to show
// the line again.
func (e *Editor) SetWidth(cols int) {
	switch {
	case cols <= 0:
		cols = DefaultWidth
	case cols < MinWidth:
		cols = MinWidth
	case cols > MaxWidth:
		cols = MaxWidth
	}
	e.width = cols
	e.fixScroll()
}

// StartSecret puts the line being typed in secret mode, for a password:
// prompt replaces the prompt, each character shows as mask (0: nothing is
// shown at all), Up, Down and Tab do nothing, and the line never enters the
// history. Secret mode ends with the line (Enter, Ctrl-C or Reset), and the
// prompt set by SetPrompt comes back. A mask that is not a printable
// single-column character is shown as '*'. It writes nothing: call
// AppendRedraw.
func (e *Editor) StartSecret(prompt string, mask rune) {
	if mask != 0 && (!printable(mask) || runeWidth(mask) != 1) {
		mask = '*'
	}
	e.secret, e.mask = true, mask
	e.prompt = sanitizePrompt(prompt)
	e.promptW = displayWidth(e.prompt)
	e.tabbed = false
	if e.histAt >= 0 {
		e.histAt, e.histSaved = -1, ""
	}
	e.fixScroll()
}

// Secret reports whether the line being typed is in secret mode.
func (e *Editor) Secret() bool { return e.secret }
