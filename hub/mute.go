package hub

import (
	"time"
)

// muted reports whether c is muted and, if so, tells c its message was
// not sent.
func (h *Hub) muted(c *Conn) bool {
	if !h.isMuted(c, time.Now()) {
		return false
	}
	c.peer.Deliver(h.textLine("! You are muted; your message was not sent"))
	return true
}

// isMuted reports whether c's mute is in force at now, forgetting one that
// has run out.
func (h *Hub) isMuted(c *Conn, now time.Time) bool {
	if c.mutedUntil.IsZero() {
		return false
	}
	if !c.mutedUntil.Equal(forever) && now.After(c.mutedUntil) {
		c.mutedUntil = time.Time{}
		return false
	}
	return true
}

// applyMute gives c, just named, the mute its nickname is under: a mute
// holds for the name, so leaving and coming back does not end it.
func (h *Hub) applyMute(c *Conn, now time.Time) {
	until, ok := h.mutes[c.key]
	switch {
	case !ok:
	case until.Equal(forever) || now.Before(until):
		c.mutedUntil = until
	default:
		delete(h.mutes, c.key)
	}
}

// forever marks a mute without end.
var forever = time.Unix(1<<62, 0)
