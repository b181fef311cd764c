package hub

// Room is a chat room: its members, topic and recent history. Owned by the
// hub goroutine.
type Room struct {
	name, key  string
	topic      string
	persistent bool
	members    []*Conn
	history    [][]byte // ring of encoded lines
	histStart  int
}

func (h *Hub) newRoom(name string) *Room {
	display, key := name, name
	return &Room{name: display, key: lowerASCII(key)}
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

// record appends msg to the history ring of at most size entries.
func (r *Room) record(msg []byte, size int) {
	if size <= 0 {
		return
	}
	if len(r.history) < size {
		r.history = append(r.history, msg)
		return
	}
	r.history[r.histStart] = msg
	r.histStart = (r.histStart + 1) % len(r.history)
}

// historyBlock returns the history as one encoded block, each line marked
// "[history] ", between a header and a footer; nil when empty.
func (r *Room) historyBlock() []byte {
	if len(r.history) == 0 {
		return nil
	}
	const mark = "[history] "
	size := 0
	for _, m := range r.history {
		size += len(mark) + len(m)
	}
	head := "*** Last " + itoa(len(r.history)) + " messages in #" + r.name + ":\r\n"
	foot := "*** End of history\r\n"
	buf := make([]byte, 0, size+len(head)+len(foot))
	buf = append(buf, head...)
	for i := range r.history {
		m := r.history[(r.histStart+i)%len(r.history)]
		buf = append(buf, mark...)
		buf = append(buf, m...)
	}
	return append(buf, foot...)
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
