package hub

import (
	"iter"
	"time"

	"telchat/telnet"
)

// roomSay delivers msg to every member of r except from, records it in the
// room's history, and drops recipients that cannot take it.
func (h *Hub) roomSay(r *Room, from *Conn, msg []byte) {
	h.Counters.Messages.Add(1)
	h.rate.add(time.Now())
	fromKey := ""
	if from != nil {
		fromKey = from.key
	}
	r.record(fromKey, msg, h.cfg.HistorySize)
	// The hot path: a plain loop (an iterator closure here costs
	// allocations per message; see BenchmarkBroadcast).
	var slow []*Conn
	n := int64(0)
	hold := h.cfg.Coalesce > 0 && len(r.members) >= h.cfg.CoalesceMin
	for _, m := range r.members {
		if m == from || from != nil && m.ignoring(from) {
			continue
		}
		n++
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
func (h *Hub) fanout(msg []byte, recipients iter.Seq[*Conn]) {
	var slow []*Conn
	for c := range recipients {
		if !c.peer.Deliver(msg) {
			slow = append(slow, c)
		}
	}
	h.dropSlow(slow)
}

// deliver sends msg to one connection, dropping it if it is over its limits.
func (h *Hub) deliver(c *Conn, msg []byte) {
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

// notice sends a notice line to every member of r except skip, unless the
// room is too big for notices.
func (h *Hub) notice(r *Room, skip *Conn, text string) {
	if h.cfg.AnnounceMax > 0 && len(r.members) > h.cfg.AnnounceMax {
		return
	}
	h.fanout(h.encodeLine(text), func(yield func(*Conn) bool) {
		for _, m := range r.members {
			if m != skip && !yield(m) {
				return
			}
		}
	})
}

// encodeLine encodes one line of text for the wire, with its line end.
func (h *Hub) encodeLine(text string) []byte {
	buf := make([]byte, 0, len(text)+2)
	buf = appendWire(buf, text)
	return append(buf, '\r', '\n')
}

// encode encodes text that carries its own line ends ("\n").
func (h *Hub) encode(text string) []byte {
	return appendWire(make([]byte, 0, len(text)+4), text)
}

func appendWire(dst []byte, s string) []byte { return telnet.AppendText(dst, s) }
