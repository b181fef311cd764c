package hub

import (
	"iter"
	"strings"
	"time"

	"telchat/message"
)

// roomSay delivers said (its kind, sender, text and origin) to every member
// of r except from, records it in the room's history, and drops recipients
// that cannot take it. The message recipients get is the room's history
// entry, reused when the ring comes round: a chat line costs no allocation
// of its own, only its renderings (one per display profile in use).
// Members whose nickname the text mentions get a copy of their own (see
// message.Message.Mention); the others share one message.
func (h *Hub) roomSay(r *Room, from *Conn, said message.Message) {
	fromKey := ""
	if from != nil {
		fromKey = from.key
	}
	h.roomSayFrom(r, from, fromKey, said)
}

// roomSayFrom is roomSay for a line from the user with nickname key
// fromKey: from is that user's connection here, or nil when the user is on
// another server (or the line has no user behind it). A line said here by
// a user also goes to the cluster's other servers.
func (h *Hub) roomSayFrom(r *Room, from *Conn, fromKey string, said message.Message) {
	if from != nil && h.cfg.ClusterOrdered && h.clustered() && !h.cluster.linkDown {
		// Shown when it comes back, in the cluster's order (ownLine).
		h.relay(lineEvent(&message.Message{Kind: said.Kind, Room: r.name, From: said.From,
			To: said.To, Text: said.Text, Time: time.Now()}))
		return
	}
	h.roomShow(r, from, fromKey, said, from != nil)
}

// roomShow is roomSayFrom once the line is to be shown here; with relay,
// it goes to the cluster's other servers too.
func (h *Hub) roomShow(r *Room, from *Conn, fromKey string, said message.Message, relay bool) {
	h.Counters.Messages.Add(1)
	now := time.Now()
	h.rate.add(now)
	msg := r.record(fromKey, h.cfg.HistorySize)
	msg.Kind, msg.From, msg.To, msg.Text, msg.Origin = said.Kind, said.From, said.To, said.Text, said.Origin
	msg.Room, msg.Time = r.name, now
	h.archive(r, fromKey, msg)
	if relay && h.cfg.Relay != nil {
		e := lineEvent(msg)
		e.Shown = h.cfg.ClusterOrdered // shown already: not when it comes back
		h.relay(e)
	}
	mentioned := h.mentions(r, from, msg)
	defer h.unmark(mentioned)
	// The hot path: a plain loop (an iterator closure here costs
	// allocations per message; see BenchmarkBroadcast).
	var slow []*Conn
	n := int64(0)
	hold := h.cfg.Coalesce > 0 && len(r.members) >= h.cfg.CoalesceMin
	base := msg
	for _, m := range r.members {
		if m == from || fromKey != "" && m.ignoresKey(fromKey) {
			continue
		}
		n++
		msg := base
		if len(mentioned) > 0 && m.mentioned {
			msg = base.CopyFor()
			msg.Mention = m.nick
		}
		if hold && m.held != nil {
			ok, wake := m.held.Hold(msg)
			if wake {
				h.toWake = append(h.toWake, m.held)
			}
			if !ok {
				slow = append(slow, m)
			}
			continue
		}
		if !m.peer.Deliver(msg) {
			slow = append(slow, m)
		}
	}
	if len(h.toWake) > 0 && !h.wakeArmed {
		h.wakeTimer.Reset(h.cfg.Coalesce)
		h.wakeArmed = true
	}
	h.Counters.Deliveries.Add(n)
	h.dropSlow(slow)
}

// mentions marks the members of r other than from whose nickname is a
// word of m's text (Conn.mentioned) and returns them (nil for none; the
// slice is the hub's, valid until unmark).
func (h *Hub) mentions(r *Room, from *Conn, m *message.Message) []*Conn {
	if len(r.members) < 2 {
		return nil
	}
	marked := h.marked[:0]
	var buf [64]byte
	for i := 0; ; {
		ws, we, ok := message.NextWord(m.Text, i)
		if !ok {
			break
		}
		i = we
		word := m.Text[ws:we]
		if len(word) > len(buf) {
			continue
		}
		var c *Conn
		if h.cfg.Nick.Unicode {
			_, key, err := h.cfg.Nick.CheckNick(word)
			if err != nil {
				continue
			}
			c, ok = h.nicks[key]
		} else {
			// The key of an ASCII nickname is its lower case; the
			// lookup with a converted byte slice does not allocate.
			for j := 0; j < len(word); j++ {
				b := word[j]
				if 'A' <= b && b <= 'Z' {
					b += 'a' - 'A'
				}
				buf[j] = b
			}
			c, ok = h.nicks[string(buf[:len(word)])]
		}
		if !ok || c == from || c.room != r || c.mentioned {
			continue
		}
		c.mentioned = true
		marked = append(marked, c)
	}
	h.marked = marked
	return marked
}

// unmark clears the marks that mentions set.
func (h *Hub) unmark(marked []*Conn) {
	for i, c := range marked {
		c.mentioned = false
		marked[i] = nil
	}
}

// wakeDue is the channel of the held wake-ups' timer, nil when none is
// pending.
func (h *Hub) wakeDue() <-chan time.Time {
	if !h.wakeArmed {
		return nil
	}
	return h.wakeTimer.C
}

// wakeHeld wakes every writer whose wake-up was held back.
func (h *Hub) wakeHeld() {
	if h.wakeArmed {
		h.wakeTimer.Stop()
		h.wakeArmed = false
	}
	for i, p := range h.toWake {
		p.Wake()
		h.toWake[i] = nil
	}
	h.toWake = h.toWake[:0]
}

// dropSlow drops connections found over their limits during a fan-out. It
// runs after the loop: dropping one while ranging over a room would move
// another member under the iteration.
func (h *Hub) dropSlow(slow []*Conn) {
	for _, c := range slow {
		h.slow(c)
	}
}

// fanout hands msg to every connection recipients yields, then drops those
// over their limits. It serves the rare notices; chat uses roomSay.
func (h *Hub) fanout(msg *message.Message, recipients iter.Seq[*Conn]) {
	var slow []*Conn
	for c := range recipients {
		if !c.peer.Deliver(msg) {
			slow = append(slow, c)
		}
	}
	h.dropSlow(slow)
}

// deliver sends msg to one connection, dropping it if it is over its limits.
func (h *Hub) deliver(c *Conn, msg *message.Message) {
	if !c.peer.Deliver(msg) {
		h.slow(c)
	}
}

func (h *Hub) slow(c *Conn) {
	if _, ok := h.conns[c]; !ok {
		return
	}
	h.remove(c, Reason{Kind: KindSlow}) // counted in drop
}

// notice sends m (a Join, Leave or Notice about r) to every member of r
// except skip, unless the room is too big for notices.
func (h *Hub) notice(r *Room, skip *Conn, m *message.Message) {
	if h.cfg.AnnounceMax > 0 && len(r.members) > h.cfg.AnnounceMax {
		return
	}
	m.Room = r.name
	if m.Time.IsZero() {
		m.Time = time.Now()
	}
	h.fanout(m, func(yield func(*Conn) bool) {
		for _, m := range r.members {
			if m != skip && !yield(m) {
				return
			}
		}
	})
}

// textLine makes a message of one line of the server's, written as it is
// shown in plain text: "*** " starts a System line, "! " an Error, and
// anything else is a Reply shown as it is.
func (h *Hub) textLine(text string) *message.Message {
	m := message.Message{Kind: message.Reply, Text: text, Time: time.Now()}
	if t, ok := strings.CutPrefix(text, "*** "); ok {
		m.Kind, m.Text = message.System, t
	} else if t, ok := strings.CutPrefix(text, "! "); ok {
		m.Kind, m.Text = message.Error, t
	}
	return h.oneOff(m)
}

// oneOff puts m in the hub's scratch message and returns it, for a line to
// one recipient (or a few, delivered before the next oneOff): it costs no
// allocation of its own, only its rendering, as peers keep no message
// after Deliver. Lines for a room (notices, chat) are not one-offs.
func (h *Hub) oneOff(m message.Message) *message.Message {
	h.scratch.Set(m)
	return &h.scratch
}

// prompt makes a Prompt: text (lines ending in "\n", then the question)
// without a line end at its end.
func (h *Hub) prompt(text string) *message.Message {
	return h.oneOff(message.Message{Kind: message.Prompt, Text: text, Time: time.Now()})
}
