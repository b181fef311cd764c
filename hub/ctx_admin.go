package hub

import (
	"fmt"
	"time"

	"telchat/message"
	"telchat/store"
	"telchat/usertext"
)

// Kick disconnects nick with a reason and returns the nickname kicked.
func (x *Ctx) Kick(nick, reason string) (string, error) {
	to, err := x.lookup(nick)
	if err != nil {
		if u := x.h.remoteLookup(nick); u != nil {
			// Its server does it (and its room hears of it from there).
			x.h.relay(ClusterEvent{Kind: ClusterKick, User: Presence{Nick: u.Nick}, Reason: reason, By: x.Name()})
			return u.Nick, nil
		}
		return "", err
	}
	if to == x.c {
		return "", ErrSelf
	}
	x.h.kick(to, x.Name(), Reason{Kind: KindKicked, Text: reason})
	return to.nick, nil
}

// kick tells to why it is being disconnected, then removes it; the others
// in its room see "left #room (r)".
func (h *Hub) kick(to *Conn, by string, r Reason) {
	what := "kicked"
	if r.Kind == KindBanned {
		what = "banned"
	}
	to.peer.Deliver(h.textLine("*** You were " + what + " by " + by + suffix(r.Text)))
	h.remove(to, r)
}

// BanResult is what Ctx.Ban did.
type BanResult struct {
	// Mask is the ban mask in its normalized form.
	Mask string
	// Kicked is how many connections matched and were disconnected.
	Kicked int
	// MatchesCaller says that the ban matches the caller, who was not
	// disconnected (but will be refused at the next connect).
	MatchesCaller bool
}

// Ban adds a ban on mask (nickname, IP or CIDR) for d (0: forever) and
// disconnects every connection that matches, except the caller.
func (x *Ctx) Ban(mask string, d time.Duration, reason string) (BanResult, error) {
	m, err := store.ParseMask(mask)
	if err != nil {
		return BanResult{}, err
	}
	h := x.h
	now := time.Now()
	b := store.Ban{Mask: m, Reason: reason, By: x.Name(), Created: now}
	if d > 0 {
		b.Expires = now.Add(d)
	}
	res, err := h.applyBan(b, x.c)
	if err == nil {
		h.share(ClusterEvent{Kind: ClusterBan, Ban: b})
	}
	return res, err
}

// applyBan adds (or replaces) ban b and disconnects every connection that
// matches, except caller (nil: none).
func (h *Hub) applyBan(b store.Ban, caller *Conn) (BanResult, error) {
	m, now, reason := b.Mask, time.Now(), b.Reason
	replaced := false
	for i := range h.bans {
		if h.bans[i].Mask == m {
			h.bans[i] = b
			replaced = true
		}
	}
	if !replaced {
		if len(h.bans) >= h.cfg.MaxBans {
			return BanResult{}, fmt.Errorf("ban %w (%d)", ErrTooMany, h.cfg.MaxBans)
		}
		h.bans = append(h.bans, b)
	}
	h.persist()
	res := BanResult{Mask: m}
	var hit []*Conn
	for c := range h.conns {
		if c.console || !h.banMatches(b, nickID{key: c.key, loose: c.loose}, c.Addr, now) {
			continue
		}
		if c == caller {
			res.MatchesCaller = true
			continue
		}
		hit = append(hit, c)
	}
	for _, c := range hit {
		h.kick(c, b.By, Reason{Kind: KindBanned, Text: reason})
	}
	res.Kicked = len(hit)
	return res, nil
}

func suffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

// Unban removes the ban on mask and returns the mask in normalized form.
func (x *Ctx) Unban(mask string) (string, error) {
	m, err := store.ParseMask(mask)
	if err != nil {
		return "", err
	}
	if !x.h.removeBan(m) {
		return "", fmt.Errorf("%w: %s", ErrNotBanned, m)
	}
	x.h.share(ClusterEvent{Kind: ClusterBan, Ban: store.Ban{Mask: m}, Unban: true})
	return m, nil
}

// removeBan removes the ban on the normalized mask m, if there is one.
func (h *Hub) removeBan(m string) bool {
	for i, b := range h.bans {
		if b.Mask == m {
			h.bans = append(h.bans[:i], h.bans[i+1:]...)
			h.forgetBanKeys()
			h.persist()
			return true
		}
	}
	return false
}

// Bans lists the bans in force.
func (x *Ctx) Bans() []store.Ban {
	now := time.Now()
	kept := x.h.bans[:0]
	for _, b := range x.h.bans {
		if !b.Expired(now) {
			kept = append(kept, b)
		}
	}
	if len(kept) < len(x.h.bans) {
		clear(x.h.bans[len(kept):])
		x.h.forgetBanKeys()
	}
	x.h.bans = kept
	return append([]store.Ban(nil), kept...)
}

// Mute stops nick's chat for d (0: until unmuted). In a cluster nick may
// be a user of any server, and the mute holds on every server.
func (x *Ctx) Mute(nick string, d time.Duration) (string, error) {
	until := muteUntil(d)
	to, err := x.lookup(nick)
	if err != nil {
		u := x.h.remoteLookup(nick)
		if u == nil {
			return "", err
		}
		// Its server tells it (from the cluster's bucket).
		x.h.mutes[u.key] = until
		x.h.shareMute(u.Nick, x.Name(), until, d, false)
		return u.Nick, nil
	}
	if to == x.c {
		return "", ErrSelf
	}
	to.mutedUntil = until
	text := "*** You have been muted by " + x.Name()
	if d > 0 {
		text += " for " + d.String()
	}
	x.h.mutes[to.key] = until // the mute holds for the name
	x.h.deliver(to, x.h.textLine(text))
	x.h.shareMute(to.nick, x.Name(), until, d, false)
	return to.nick, nil
}

// Unmute lets nick chat again. In a cluster nick may be a user of any
// server, or nobody's right now (a mute holds for the name).
func (x *Ctx) Unmute(nick string) (string, error) {
	to, err := x.lookup(nick)
	if err != nil {
		if u := x.h.remoteLookup(nick); u != nil {
			until, ok := x.h.mutes[u.key]
			delete(x.h.mutes, u.key)
			if !ok || !until.Equal(forever) && !time.Now().Before(until) {
				return "", fmt.Errorf("there is no mute on %s", u.Nick)
			}
			x.h.shareMute(u.Nick, x.Name(), time.Time{}, 0, true)
			return u.Nick, nil
		}
		if x.h.clustered() {
			if display, ok := x.h.unmuteOffline(nick); ok {
				return display, nil
			}
		}
		return "", err
	}
	delete(x.h.mutes, to.key)
	if !x.h.isMuted(to, time.Now()) {
		return "", fmt.Errorf("there is no mute on %s", to.nick)
	}
	to.mutedUntil = time.Time{}
	x.h.deliver(to, x.h.textLine("*** You may speak again"))
	x.h.shareMute(to.nick, x.Name(), time.Time{}, 0, true)
	return to.nick, nil
}

// Wall sends a notice to every named user in every room.
func (x *Ctx) Wall(text string) {
	m := &message.Message{Kind: message.Notice, From: x.Name(), Text: "NOTICE from " + x.Name() + ": " + text, Time: time.Now()}
	x.h.relayLine(m)
	x.h.fanout(m, func(yield func(*Conn) bool) {
		for c := range x.h.conns {
			if (c.nick != "" || c.console) && !yield(c) {
				return
			}
		}
	})
}

// Move puts nick into room (created if needed).
func (x *Ctx) Move(nick, room string) (string, string, error) {
	to, err := x.lookup(nick)
	if err != nil {
		if u := x.h.remoteLookup(nick); u != nil {
			display, _, rerr := usertext.CheckRoom(room)
			if rerr != nil {
				return "", "", rerr
			}
			if lowerASCII(u.Room) == lowerASCII(display) {
				return "", "", fmt.Errorf("cannot move %s: already in #%s", u.Nick, u.Room)
			}
			x.h.relay(ClusterEvent{Kind: ClusterMove, User: Presence{Nick: u.Nick, Room: display}, By: x.Name()})
			return u.Nick, display, nil
		}
		return "", "", err
	}
	r, err := x.h.roomFor(room, true)
	if err != nil {
		return "", "", err
	}
	if to.room == r {
		return "", "", fmt.Errorf("cannot move %s: already in #%s", to.nick, r.name)
	}
	// Not h.deliver: dropping to as slow here would leave r created and
	// empty. The next delivery notices a peer over its limits.
	to.peer.Deliver(x.h.textLine("*** You were moved to #" + r.name + " by " + x.Name()))
	x.h.joinRoom(to, r)
	return to.nick, r.name, nil
}

// Shutdown warns everyone and asks the server to shut down after d.
func (x *Ctx) Shutdown(d time.Duration, reason string) {
	h := x.h
	text := "Server shutting down"
	if d > 0 {
		text += " in " + d.String()
	}
	if reason != "" {
		text += ": " + reason
	}
	x.Wall(text)
	fire := func() {
		if h.cfg.OnShutdown != nil {
			h.cfg.OnShutdown(reason)
		}
	}
	if d <= 0 {
		fire()
		return
	}
	time.AfterFunc(d, func() { _ = h.Do(fire) })
}
