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
	"unicode"
	"unicode/utf8"

	"telchat/message"
	"telchat/telnet"
)

// Profile is a set of display settings. The zero Profile, Plain, renders
// exactly the lines telchat has always sent. Whether a session is in line
// or character mode is not part of it: both get the same bytes.
type Profile uint8

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

// slot is the profile's index in a message's rendering cache.
func (p Profile) slot() int { return int(p & All) }

// Bytes returns m rendered for p: the bytes m keeps for p, or a new
// rendering that m then keeps. Its result is shared: it must not be
// modified.
func Bytes(m *message.Message, p Profile) []byte {
	if b := m.Rendered(p.slot()); b != nil {
		return b
	}
	return m.KeepRendered(p.slot(), Append(make([]byte, 0, size(m, p)), m, p&All))
}

// size is room enough for m rendered for p in most cases, so that a
// rendering is one allocation.
func size(m *message.Message, p Profile) int {
	n := len(m.From) + len(m.To) + len(m.Text) + 16
	if p != Plain {
		n += 40
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
	dst = append(dst, mark...)
	if p&Timestamps != 0 && !m.Time.IsZero() {
		dst = append(dst, '[')
		dst = m.Time.AppendFormat(dst, "15:04")
		dst = append(dst, "] "...)
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
	if p&Highlight != 0 && m.Mention != "" {
		dst = appendHighlighted(dst, m.Text, m.Mention)
	} else {
		dst = telnet.AppendText(dst, m.Text)
	}
	if dim {
		dst = append(dst, dimOff...)
	}
	if p&Bell != 0 && (m.Kind == message.Private || m.Mention != "") && mark == "" {
		dst = append(dst, '\a')
	}
	return append(dst, '\r', '\n')
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
