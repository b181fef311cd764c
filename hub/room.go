package hub

// Room is a chat room: its members, topic and recent history. Owned by the
// hub goroutine.
type Room struct {
	name, key  string
	topic      string
	persistent bool
	members    []*Conn
	history    []historyEntry // ring of encoded lines
	histStart  int
}

// historyEntry is one recorded room message and who said it.
type historyEntry struct {
	// from is the sender's nickname key when it was said; "" for lines
	// without a user behind them (Publish).
	from string
	msg  []byte
}

func (h *Hub) newRoom(name string) *Room {
	return &Room{name: name, key: lowerASCII(name)}
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

// record appends msg, said by the user with key from ("" for none), to the
// history ring of at most size entries.
func (r *Room) record(from string, msg []byte, size int) {
	if size <= 0 {
		return
	}
	e := historyEntry{from: from, msg: msg}
	if len(r.history) < size {
		r.history = append(r.history, e)
		return
	}
	r.history[r.histStart] = e
	r.histStart = (r.histStart + 1) % len(r.history)
}

// historyBlock returns the history as one encoded block, each line marked
// "[history] ", between a header and a footer; nil when empty. Lines from
// users in ignores are left out, as they were when said.
func (r *Room) historyBlock(ignores map[string]struct{}) []byte {
	const mark = "[history] "
	size, n := 0, 0
	for _, e := range r.history {
		if e.ignoredBy(ignores) {
			continue
		}
		size += len(mark) + len(e.msg)
		n++
	}
	if n == 0 {
		return nil
	}
	head := "*** Last " + plural(n, "message", "messages") + " in #" + r.name + ":\r\n"
	foot := "*** End of history\r\n"
	buf := make([]byte, 0, size+len(head)+len(foot))
	buf = append(buf, head...)
	for i := range r.history {
		e := r.history[(r.histStart+i)%len(r.history)]
		if e.ignoredBy(ignores) {
			continue
		}
		buf = append(buf, mark...)
		buf = append(buf, e.msg...)
	}
	return append(buf, foot...)
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
		h.leaveRoom(c, "*** "+c.nick+" left #"+old.name+" (joined #"+r.name+")")
	}
	r.add(c)
	c.room = r
	h.notice(r, c, "*** "+c.nick+" joined #"+r.name)
	others := len(r.members) - 1
	info := "*** You are now in #" + r.name + " with " + plural(others, "other user", "other users")
	c.peer.Deliver(h.encodeLine(info))
	if r.topic != "" {
		c.peer.Deliver(h.encodeLine("*** Topic for #" + r.name + ": " + r.topic))
	}
	if hist := r.historyBlock(c.ignores); len(hist) > 0 {
		h.deliver(c, hist)
	}
}

// leaveRoom takes c out of its room with a notice to the others, and removes
// the room if it became empty (the lobby and rooms with topics stay).
func (h *Hub) leaveRoom(c *Conn, noticeText string) {
	r := c.room
	if r == nil {
		return
	}
	r.remove(c)
	c.room = nil
	if noticeText != "" {
		h.notice(r, nil, noticeText)
	}
	if len(r.members) == 0 && r.key != LobbyName && !r.persistent {
		delete(h.rooms, r.key)
	}
}
