// Package render turns messages (package message) into the bytes a
// terminal is sent, per display profile: plain lines for nc and line-mode
// telnet, or with nickname colours, a highlighted mention, a bell,
// [HH:MM] timestamps and dimmed server lines for those who ask for them.
//
// A message is rendered at most once per profile: Bytes keeps each
// rendering in the message, and every recipient with the same profile
// gets the same bytes. The bytes are already encoded for the wire (Telnet
// line ends, 0xFF doubled). Colours and other escape sequences come only
// from here; the text of a message is sanitized before it is a message.
package render

import (
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"telchat/lineedit"
	"telchat/message"
	"telchat/telnet"
)

// Profile is a set of display settings and, for a terminal whose width
// is known, the width lines are wrapped at (see WrapAt). The zero
// Profile, Plain, renders exactly the lines telchat has always sent.
type Profile uint32

// The settings a profile combines.
const (
	// NickColours gives every nickname a stable colour of its own.
	NickColours Profile = 1 << iota
	// Highlight shows the recipient's own nickname in reverse video where
	// a message mentions it.
	Highlight
	// Bell rings the terminal's bell (BEL) on a mention or a private
	// message.
	Bell
	// Timestamps starts each line with the time it was handled, [HH:MM].
	Timestamps
	// DimSystem dims the server's lines (joins, leaves, notices).
	DimSystem

	// Plain is no setting at all.
	Plain Profile = 0
	// All is every setting.
	All = NickColours | Highlight | Bell | Timestamps | DimSystem
)

// The width a profile wraps at is kept in its bits from widthShift up.
const (
	widthShift = 8
	maxWrap    = 1<<12 - 8
	widthMask  = Profile(1<<12-1) << widthShift
)

// WrapAt returns p wrapping lines for a terminal width columns wide (0:
// no wrapping). A line longer than the width is broken by the server, at
// a space where there is one, and its continuation rows are indented (by
// the width of the line's "<nick> " prefix, or two spaces when that is
// more than half the width), so that no text of the line can start at
// the first column of a row and pass for a line of its own.
//
// Widths from 24 up are rounded down to a multiple of 8 (and at most
// 4088), so that terminals of about the same width share one rendering;
// a line is never wider than the terminal.
func (p Profile) WrapAt(width int) Profile {
	switch {
	case width <= 0:
		width = 0
	case width >= 24:
		width = min(width&^7, maxWrap)
	}
	return p&^widthMask | Profile(width)<<widthShift&widthMask
}

// Width returns the width p wraps lines at, 0 for none.
func (p Profile) Width() int { return int(p&widthMask) >> widthShift }

// slot is the profile's index in a message's rendering cache: below
// message.Slots without a width, above with one.
func (p Profile) slot() int { return int(p & (All | widthMask)) }

// Bytes returns m rendered for p: the bytes m keeps for p, or a new
// rendering that m then keeps. Its result is shared: it must not be
// modified.
func Bytes(m *message.Message, p Profile) []byte {
	if b := m.Rendered(p.slot()); b != nil {
		return b
	}
	return m.KeepRendered(p.slot(), Append(make([]byte, 0, size(m, p)), m, p))
}

// size is room enough for m rendered for p in most cases, so that a
// rendering is one allocation.
func size(m *message.Message, p Profile) int {
	n := len(m.From) + len(m.To) + len(m.Text) + 16
	if p != Plain {
		n += 40
	}
	if w := p.Width(); w > 0 {
		n += len(m.Text) + w // the line ends and indents of the rows
	}
	for _, b := range m.Backlog {
		n += size(b, p) + 10
	}
	if m.Kind == message.History {
		n += len(m.Room) + 64
	}
	return n
}

// Append appends m rendered for p to dst.
func Append(dst []byte, m *message.Message, p Profile) []byte {
	switch m.Kind {
	case message.Prompt:
		return telnet.AppendText(dst, m.Text)
	case message.Reply:
		if p.Width() > 0 {
			return appendReplyWrapped(dst, m.Text, p.Width())
		}
		dst = telnet.AppendText(dst, m.Text)
		return append(dst, '\r', '\n')
	case message.History:
		return appendHistory(dst, m, p)
	}
	return appendLine(dst, m, p, "")
}

// appendHistory appends a History message: a header, each message of its
// Backlog marked, a footer.
func appendHistory(dst []byte, m *message.Message, p Profile) []byte {
	n := len(m.Backlog)
	if n == 0 {
		return dst
	}
	head := "Last " + strconv.Itoa(n) + " messages in #" + m.Room + ":"
	if n == 1 {
		head = "Last 1 message in #" + m.Room + ":"
	}
	dst = appendLine(dst, &message.Message{Kind: message.System, Text: head}, p&^Timestamps, "")
	for _, b := range m.Backlog {
		dst = appendLine(dst, b, p, "[history] ")
	}
	return appendLine(dst, &message.Message{Kind: message.System, Text: "End of history"}, p&^Timestamps, "")
}

// The escape sequences the renderer uses.
const (
	dimOn      = "\x1b[2m"
	dimOff     = "\x1b[22m"
	reverseOn  = "\x1b[7m"
	reverseOff = "\x1b[27m"
	colourOff  = "\x1b[39m"
)

// palette are the foreground colours nicknames get: the normal and bright
// colours that read on both dark and light backgrounds (no black, white
// or dark blue).
var palette = [...]string{"\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[35m", "\x1b[36m",
	"\x1b[91m", "\x1b[92m", "\x1b[93m", "\x1b[94m", "\x1b[95m", "\x1b[96m"}

// appendLine appends a one-line message with its line end, after mark.
func appendLine(dst []byte, m *message.Message, p Profile, mark string) []byte {
	start := len(dst)
	dst = append(dst, mark...)
	if p&Timestamps != 0 && !m.Time.IsZero() {
		dst = appendClock(dst, m.Time)
	}
	dim := p&DimSystem != 0 && isServerLine(m.Kind)
	if dim {
		dst = append(dst, dimOn...)
	}
	switch m.Kind {
	case message.Chat:
		dst = append(dst, '<')
		dst = appendNick(dst, m.From, p)
		dst = append(dst, "> "...)
	case message.Action:
		dst = append(dst, "* "...)
		dst = appendNick(dst, m.From, p)
		dst = append(dst, ' ')
	case message.Private:
		dst = append(dst, '*')
		dst = appendNick(dst, m.From, p)
		dst = append(dst, "* "...)
	case message.PrivateSent:
		dst = append(dst, "-> *"...)
		dst = appendNick(dst, m.To, p)
		dst = append(dst, "* "...)
	case message.Error:
		dst = append(dst, "! "...)
	case message.Reply, message.Prompt, message.History:
	default: // Join, Leave, Notice, System
		dst = append(dst, "*** "...)
	}
	mention := ""
	if p&Highlight != 0 {
		mention = m.Mention
	}
	if w := p.Width(); w > 0 {
		col := lineedit.Width(string(dst[start:]))
		dst = appendWrapped(dst, m.Text, mention, w, col, hangingIndent(col, w))
	} else {
		dst = appendText(dst, m.Text, mention)
	}
	if dim {
		dst = append(dst, dimOff...)
	}
	if p&Bell != 0 && (m.Kind == message.Private || m.Mention != "") && mark == "" {
		dst = append(dst, '\a')
	}
	return append(dst, '\r', '\n')
}

// appendClock appends "[HH:MM] " for t. It is what t.AppendFormat(dst,
// "15:04") gives, without that function's 600-byte frame: sessions render
// their own notices on their reader's goroutine, whose stack must stay
// within its first 2 KiB (see client.Session.readLoop).
func appendClock(dst []byte, t time.Time) []byte {
	h, m, _ := t.Clock()
	return append(dst, '[', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ']', ' ')
}

// isServerLine reports whether k is a line of the server's own (dimmed
// with DimSystem).
func isServerLine(k message.Kind) bool {
	switch k {
	case message.Join, message.Leave, message.Notice, message.System:
		return true
	}
	return false
}

// appendNick appends a nickname, in its colour with NickColours.
func appendNick(dst []byte, nick string, p Profile) []byte {
	if p&NickColours == 0 || nick == "" {
		return telnet.AppendText(dst, nick)
	}
	dst = append(dst, NickColour(nick)...)
	dst = telnet.AppendText(dst, nick)
	return append(dst, colourOff...)
}

// NickColour returns the escape sequence of nick's colour: the same for
// every spelling of the name that differs only in case.
func NickColour(nick string) string {
	h := fnv.New32a()
	for _, r := range nick {
		var buf [utf8.UTFMax]byte
		n := utf8.EncodeRune(buf[:], unicode.ToLower(r))
		_, _ = h.Write(buf[:n])
	}
	return palette[h.Sum32()%uint32(len(palette))]
}

// appendText appends text, with mention highlighted if it is not "".
func appendText(dst []byte, text, mention string) []byte {
	if mention != "" {
		return appendHighlighted(dst, text, mention)
	}
	return telnet.AppendText(dst, text)
}

// appendHighlighted appends text with every whole-word occurrence of nick
// (ignoring case) in reverse video.
func appendHighlighted(dst []byte, text, nick string) []byte {
	start := 0
	for i := 0; ; {
		ws, we, ok := message.NextWord(text, i)
		if !ok {
			break
		}
		i = we
		if !strings.EqualFold(text[ws:we], nick) {
			continue
		}
		dst = telnet.AppendText(dst, text[start:ws])
		dst = append(dst, reverseOn...)
		dst = telnet.AppendText(dst, text[ws:we])
		dst = append(dst, reverseOff...)
		start = we
	}
	return telnet.AppendText(dst, text[start:])
}
