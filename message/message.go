// Package message defines what the hub hands its recipients: a chat
// message as a value (who said what, where, when, and what kind of line it
// is), not wire bytes. How a message looks on a terminal is decided at the
// edge, per recipient's display profile (package render); a message keeps
// each rendering it was given so that every recipient with the same
// profile shares the same bytes.
package message

import "time"

// Kind says what a message is; it decides its shape on the screen.
type Kind uint8

// The kinds of message. Plain rendering (package render) shown for each.
const (
	// Chat is a line said in Room by From: "<From> Text".
	Chat Kind = iota + 1
	// Action is an emote by From in Room: "* From Text".
	Action
	// Private is a private message from From to the recipient:
	// "*From* Text".
	Private
	// PrivateSent is the sender's copy of a private message to To:
	// "-> *To* Text".
	PrivateSent
	// Join says that From joined Room: "*** Text".
	Join
	// Leave says that From left Room: "*** Text".
	Leave
	// Notice is news for a room or the whole server (a topic, a new
	// nickname, an operator's notice): "*** Text".
	Notice
	// System is the server speaking to one user (welcome, room info):
	// "*** Text".
	System
	// Error tells one user that something failed: "! Text".
	Error
	// Reply is a command's answer: Text as it is, one or more lines
	// separated by "\n".
	Reply
	// Prompt asks for input: Text as it is, without a line end.
	Prompt
	// History replays a room's Backlog to a user who joined it: a header,
	// each message marked "[history] ", a footer.
	History
)

var kindNames = [...]string{"", "chat", "action", "private", "private-sent", "join", "leave",
	"notice", "system", "error", "reply", "prompt", "history"}

// String returns the kind's name, e.g. "chat".
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "unknown"
}

// Slots is how many renderings a message keeps in its array: one per
// display profile numbered below Slots (package render numbers its
// profiles without a width so). Renderings for the higher numbers (those
// of profiles that wrap lines at a terminal's width) are kept in a short
// list, so a message costs nothing more until one is made.
const Slots = 32

// Message is one line (or block) for recipients. A message handed to a
// recipient must not be changed by it.
//
// Its rendering cache is not safe for concurrent use: it is filled and
// read by the hub's goroutine, through its recipients' Deliver.
type Message struct {
	Kind Kind
	// Room is the room the message concerns ("" for none), without '#'.
	Room string
	// From is the nickname of the user who sent it ("" for the server).
	From string
	// To is the recipient of a private message, on the sender's copy.
	To string
	// Text is the message's text, already sanitized.
	Text string
	// Time is when the server handled it.
	Time time.Time
	// Origin is the id of the server the message came from; "" for this
	// one (room for a coming cluster link).
	Origin string
	// Mention is set on a recipient's own copy of a message whose Text
	// mentions the recipient: the recipient's nickname, so that its
	// rendering can highlight it (and ring the bell).
	Mention string
	// Backlog is what a History message replays, oldest first.
	Backlog []*Message

	plain []byte         // rendering for slot 0, the plain profile
	more  *[Slots][]byte // renderings for the other slots, made on first use
	wide  []wideRendering
}

// wideRendering is a rendering kept for a slot from Slots up.
type wideRendering struct {
	slot int
	b    []byte
}

// Rendered returns the bytes kept for profile slot i, or nil.
func (m *Message) Rendered(i int) []byte {
	if i == 0 {
		return m.plain
	}
	if i >= Slots {
		for _, w := range m.wide {
			if w.slot == i {
				return w.b
			}
		}
		return nil
	}
	if m.more == nil {
		return nil
	}
	return m.more[i]
}

// KeepRendered keeps b as the rendering for profile slot i and returns it.
func (m *Message) KeepRendered(i int, b []byte) []byte {
	if i == 0 {
		m.plain = b
		return b
	}
	if i >= Slots {
		for j := range m.wide {
			if m.wide[j].slot == i {
				m.wide[j].b = b
				return b
			}
		}
		m.wide = append(m.wide, wideRendering{i, b})
		return b
	}
	if m.more == nil {
		m.more = new([Slots][]byte)
	}
	m.more[i] = b
	return b
}

// Reset empties m for reuse, keeping the array of its rendering cache.
// The renderings themselves are not reused: recipients may still hold
// them.
func (m *Message) Reset() {
	more, wide := m.more, m.wide
	if more != nil {
		clear(more[:])
	}
	clear(wide)
	*m = Message{more: more, wide: wide[:0]}
}

// Set makes m hold v's fields, without renderings, keeping m's cache array
// for reuse (as Reset does).
func (m *Message) Set(v Message) {
	more, wide := m.more, m.wide
	if more != nil {
		clear(more[:])
	}
	clear(wide)
	*m = v
	m.plain, m.more, m.wide = nil, more, wide[:0]
}

// CopyFor returns a copy of m without its renderings (for a per-recipient
// variant, such as one with Mention set).
func (m *Message) CopyFor() *Message {
	c := *m
	c.plain, c.more, c.wide = nil, nil, nil
	return &c
}
