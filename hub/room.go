package hub

import (
	"net/netip"
	"time"

	"telchat/message"
)

// Room is a chat room: its members, topic and recent history. Owned by the
// hub goroutine.
type Room struct {
	name, key  string
	topic      string
	persistent bool
	creator    netip.Prefix // the address group that created the room (counted in Hub.roomsBy); zero for none
	members    []*Conn
	history    []historyEntry // ring of the last messages said in the room
	histStart  int
	scratch    message.Message // the message being said, when the room keeps no history
	created    time.Time       // lines on disk from before this are loaded (see loadHistory)
}

// historyEntry is one recorded room message and who said it.
type historyEntry struct {
	// from is the sender's nickname key when it was said; "" for lines
	// without a user behind them (Publish).
	from string
	msg  message.Message
}

// newRoom makes a room; with an archive, its history is then read from
// disk (see loadHistory). The caller adds it to h.rooms.
func (h *Hub) newRoom(name string) *Room {
	r := &Room{name: name, key: lowerASCII(name), created: time.Now()}
	h.loadHistory(r)
	return r
}

func (r *Room) add(c *Conn) {
	c.roomIndex = len(r.members)
	r.members = append(r.members, c)
}

func (r *Room) remove(c *Conn) {
	i := c.roomIndex
	if i >= len(r.members) || r.members[i] != c {
		return
	}
	last := len(r.members) - 1
	r.members[i] = r.members[last]
	r.members[i].roomIndex = i
	r.members[last] = nil
	r.members = r.members[:last]
}

// record makes room for a message said by the user with key from ("" for
// none) in the history ring of at most size entries, and returns it, empty,
// for the caller to fill: the oldest entry is reused once the ring is full.
// With no history it returns the room's scratch message.
func (r *Room) record(from string, size int) *message.Message {
	if size <= 0 {
		r.scratch.Reset()
		return &r.scratch
	}
	if len(r.history) < size {
		if len(r.history) == cap(r.history) {
			// Grow with what is said, never past size: a room where
			// little is said holds little.
			grown := make([]historyEntry, len(r.history), min(max(2*cap(r.history), 4), size))
			copy(grown, r.history)
			r.history = grown
		}
		r.history = append(r.history, historyEntry{from: from})
		return &r.history[len(r.history)-1].msg
	}
	e := &r.history[r.histStart]
	r.histStart = (r.histStart + 1) % len(r.history)
	e.from = from
	e.msg.Reset()
	return &e.msg
}

// historyMessage returns the history as a History message (nil when
// empty). Lines from users in ignores are left out, as they were when said.
func (r *Room) historyMessage(ignores map[string]struct{}) *message.Message {
	var backlog []*message.Message
	for i := range r.history {
		e := &r.history[(r.histStart+i)%len(r.history)]
		if e.ignoredBy(ignores) {
			continue
		}
		backlog = append(backlog, &e.msg)
	}
	if len(backlog) == 0 {
		return nil
	}
	return &message.Message{Kind: message.History, Room: r.name, Backlog: backlog, Time: time.Now()}
}

func (e historyEntry) ignoredBy(ignores map[string]struct{}) bool {
	if e.from == "" || len(ignores) == 0 {
		return false
	}
	_, ignored := ignores[e.from]
	return ignored
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// joinRoom moves c into r (leaving its current room), announces it and
// shows the room's topic and history.
func (h *Hub) joinRoom(c *Conn, r *Room) {
	if _, ok := h.conns[c]; !ok || c.room == r {
		return // gone (dropped as slow just before): never a ghost member
	}
	if old := c.room; old != nil {
		h.leaveRoom(c, c.nick+" left #"+old.name+" (joined #"+r.name+")")
	}
	r.add(c)
	c.room = r
	h.relayUser(c, "")
	h.notice(r, c, &message.Message{Kind: message.Join, From: c.nick, Text: c.nick + " joined #" + r.name})
	others := len(r.members) - 1 + h.remoteCount(r.key)
	info := "*** You are now in #" + r.name + " with " + plural(others, "other user", "other users")
	c.peer.Deliver(h.textLine(info))
	if r.topic != "" {
		c.peer.Deliver(h.textLine("*** Topic for #" + r.name + ": " + r.topic))
	}
	if hist := r.historyMessage(c.ignores); hist != nil {
		h.deliver(c, hist)
	}
}

// leaveRoom takes c out of its room with a Leave line (text, unless empty)
// to the others, and removes the room if it became empty (the lobby and
// rooms with topics stay).
func (h *Hub) leaveRoom(c *Conn, text string) {
	r := c.room
	if r == nil {
		return
	}
	r.remove(c)
	c.room = nil
	if text != "" {
		h.notice(r, nil, &message.Message{Kind: message.Leave, From: c.nick, Text: text})
	}
	if len(r.members) == 0 && r.key != LobbyName && !r.persistent {
		delete(h.rooms, r.key)
		h.forgetCreator(r)
	}
}
