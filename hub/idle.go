package hub

import (
	"time"
)

func (h *Hub) tick(now time.Time) {
	h.checkSaves(now)
	if now.Sub(h.lastSummary) >= h.cfg.LogSummaryEvery {
		h.lastSummary = now
		h.samples.Summarize()
	}
	h.pruneListings(now)
	h.Counters.Rooms.Store(int64(len(h.rooms)))
	h.Counters.Named.Store(int64(len(h.nicks)))
	h.Counters.Bans.Store(int64(len(h.bans)))
	h.Counters.Accounts.Store(int64(len(h.accts.byKey)))
	for key, until := range h.mutes {
		if !until.Equal(forever) && now.After(until) {
			delete(h.mutes, key)
		}
	}
	for c := range h.conns {
		if c.console {
			continue
		}
		if c.nick == "" {
			if h.checkSecretTimeout(c, now) {
				continue
			}
			if (c.secret == nil || c.secret.kind != secretLogin) && now.Sub(c.nickSince) >= h.cfg.NickTimeout {
				c.peer.Deliver(h.textLine("\n! Timed out waiting for a nickname"))
				h.drop(c, Reason{Kind: KindTimeout}, false)
			}
			continue
		}
		if h.cfg.IdleTimeout <= 0 {
			continue
		}
		idle := now.Sub(c.lastActive)
		warnAt := h.cfg.IdleTimeout - min(time.Minute, h.cfg.IdleTimeout/10)
		switch {
		case idle >= h.cfg.IdleTimeout && c.warnedIdle: // warned at an earlier tick, even if the timeout is shorter than a tick
			c.peer.Deliver(h.textLine("! Disconnected after " + h.cfg.IdleTimeout.String() + " idle"))
			h.remove(c, Reason{Kind: KindTimeout, Text: "idle"})
		case idle >= warnAt && !c.warnedIdle:
			c.warnedIdle = true
			left := h.cfg.IdleTimeout - idle
			h.deliver(c, h.textLine("! You have been idle for "+roughDuration(idle, false)+
				"; send anything within "+roughDuration(left, true)+" to stay connected"))
		}
	}
}
