package hub

import (
	"fmt"
	"time"

	"telchat/logsample"
)

func (h *Hub) connect(c *Conn) {
	h.Counters.ConnectionsTotal.Add(1)
	now := time.Now()
	c.lastActive = now
	if ban, ok := h.findBan(nickID{}, c.Addr, now); ok {
		h.Counters.Refused.Add(1)
		h.Counters.RefusedBanned.Add(1)
		msg := "! You are banned from this server"
		if ban.Reason != "" {
			msg += ": " + ban.Reason
		}
		c.peer.Deliver(h.textLine(msg))
		c.peer.Finish(Reason{Kind: KindBanned, Text: ban.Reason})
		h.samples.Logger(logsample.Refused).Info().Str("session", c.ID).Str("remote", c.Remote).Str("ban", ban.Mask).Msg("refused banned address")
		return
	}
	h.conns[c] = struct{}{}
	h.Counters.ConnectionsNow.Add(1)
	if c.console {
		h.consoles[c] = struct{}{}
		return
	}
	c.peer.Deliver(h.prompt("Welcome to " + h.cfg.ServerName + "!" + h.runs() + " Nicknames are 1 to 24 letters, digits, _ or -.\nChoose a nickname: "))
}

// remove takes c out of the hub exactly once, tells the others, and
// finishes the peer.
func (h *Hub) remove(c *Conn, r Reason) {
	h.drop(c, r, true)
}

func (h *Hub) drop(c *Conn, r Reason, announce bool) {
	if _, ok := h.conns[c]; !ok {
		return
	}
	delete(h.conns, c)
	delete(h.consoles, c)
	h.Counters.ConnectionsNow.Add(-1)
	h.Counters.countDisconnect(r)
	switch r.Kind {
	case KindFlood:
		h.Counters.FloodDrops.Add(1)
	case KindSlow: // a full queue (slow) or a stalled writer (Leave)
		h.Counters.SlowDrops.Add(1)
	}
	if c.nick != "" {
		h.unindexNick(c)
		if !c.console {
			h.relay(ClusterEvent{Kind: ClusterGone, User: Presence{Nick: c.nick}, Reason: r.String()})
			if h.cfg.Claims != nil {
				h.cfg.Claims.Release(c.loose)
			}
		}
		text := ""
		if announce {
			text = c.nick + " left #" + c.room.name + " (" + r.String() + ")"
		}
		h.leaveRoom(c, text)
		h.samples.Logger(logsample.Session).Info().Str("session", c.ID).Str("remote", c.Remote).Str("nick", c.nick).Str("reason", r.String()).Msg("left")
	}
	c.peer.Finish(r)
}

// nickID is what a nickname is compared by: its key (see
// usertext.NickRules.CheckNick) and its Lookalike key. The zero nickID is
// "no nickname".
type nickID struct{ key, loose string }

// holder returns the connection other than self whose nickname id matches
// (the same key, or the same look-alike key), or nil.
func (h *Hub) holder(id nickID, self *Conn) *Conn {
	if other, ok := h.nicks[id.key]; ok && other != self {
		return other
	}
	if other, ok := h.lookalikes[id.loose]; id.loose != "" && ok && other != self {
		return other
	}
	return nil
}

// nickInUse returns the error for a nickname that id matches, or nil when
// it is free: "taken" when the key is in use, and which nickname it looks
// like when only the look-alike key is; for a user of another server, the
// answer says which server.
func (h *Hub) nickInUse(id nickID, self *Conn) error {
	other := h.holder(id, self)
	if other == nil {
		if u := h.remoteHolder(id); u != nil && (self == nil || u.key != self.key) {
			if u.key == id.key {
				return fmt.Errorf("%w (on server %s)", ErrNickTaken, u.origin)
			}
			return fmt.Errorf("%w %s, who is online on server %s", ErrNickLookalike, u.Nick, u.origin)
		}
	}
	switch {
	case other == nil:
		return nil
	case other.key == id.key:
		return ErrNickTaken
	}
	return fmt.Errorf("%w %s, who is online", ErrNickLookalike, other.nick)
}

// setNick names c display, replacing its old name in the indexes.
func (h *Hub) setNick(c *Conn, display string, id nickID) {
	h.unindexNick(c)
	c.nick, c.key, c.loose = display, id.key, id.loose
	h.nicks[id.key] = c
	if id.loose != "" {
		h.lookalikes[id.loose] = c
	}
}

// unindexNick removes c's nickname from the indexes.
func (h *Hub) unindexNick(c *Conn) {
	if h.nicks[c.key] == c {
		delete(h.nicks, c.key)
	}
	if c.loose != "" && h.lookalikes[c.loose] == c {
		delete(h.lookalikes, c.loose)
	}
}

// runs is the greeting's " (telchat v1.2.3)", or "" when no version is set.
func (h *Hub) runs() string {
	if h.cfg.Version == "" {
		return ""
	}
	return " (telchat " + h.cfg.Version + ")"
}
