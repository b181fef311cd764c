package hub

import (
	"errors"
	"fmt"
	"time"

	"telchat/store"
	"telchat/usertext"
)

// privateOffline keeps a private message for nick when it is a registered
// user who is not connected. ok false: nick is no account (the caller
// answers "no such user"). The sender hears once it is on disk.
func (x *Ctx) privateOffline(c *Conn, nick, text string) (ok bool, err error) {
	h := x.h
	if !h.accountsOn() {
		return false, nil
	}
	_, key, err := h.cfg.Nick.CheckNick(nick)
	if err != nil {
		return false, nil
	}
	a := h.accts.byKey[key]
	if a == nil {
		return false, nil
	}
	if h.muted(c) {
		return true, nil
	}
	to := a.Nick
	h.cfg.Archive.PutOffline(key, store.Offline{Time: time.Now(), From: c.nick, Text: text}, func(err error) {
		h.post(func() {
			if _, present := h.conns[c]; !present {
				return
			}
			switch {
			case errors.Is(err, store.ErrMailboxFull):
				h.deliver(c, h.textLine("! "+to+" is not online and has too many messages waiting; not sent"))
			case errors.Is(err, store.ErrUnavailable):
				h.log.Warn().Err(err).Msg("storing an offline message failed")
				h.deliver(c, h.textLine("! "+to+" is not online, and messages for them cannot be kept right now; try again in a moment"))
			case err != nil:
				h.log.Error().Err(err).Msg("storing an offline message failed")
				h.deliver(c, h.textLine("! "+to+" is not online, and the message could not be kept: "+err.Error()))
			default:
				h.deliver(c, h.textLine("*** "+to+" is not online; they will get your message when they log in: "+text))
			}
		})
	})
	h.Counters.PrivateMessages.Add(1)
	return true, nil
}

// deliverOffline hands c the private messages kept for account key while
// it was away, oldest first, marked, once.
func (h *Hub) deliverOffline(c *Conn, key string) {
	h.cfg.Archive.TakeOffline(key, func(msgs []store.Offline, err error) {
		h.post(func() {
			if err != nil {
				h.log.Error().Err(err).Str("nick", c.nick).Msg("reading offline messages failed")
			}
			if _, present := h.conns[c]; !present || len(msgs) == 0 {
				if len(msgs) > 0 {
					h.log.Warn().Int("messages", len(msgs)).Str("session", c.ID).Msg("offline messages taken by a session that left at once; they are lost")
				}
				return
			}
			now := time.Now()
			lines := make([]string, 0, len(msgs)+2)
			lines = append(lines, "*** "+plural(len(msgs), "message", "messages")+" came while you were away (times in UTC):")
			for _, m := range msgs {
				lines = append(lines, "[away "+stamp(m.Time, now)+"] *"+m.From+"* "+m.Text)
			}
			lines = append(lines, "*** End of messages")
			h.ctx(c).Reply(lines...)
		})
	})
}

// Purge removes what the user with nickname nick said, in the last d (0:
// ever), from every room's history in memory and on disk. The caller
// hears how many lines went from the disk.
func (x *Ctx) Purge(nick string, d time.Duration) error {
	h := x.h
	_, key, err := h.cfg.Nick.CheckNick(nick)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrNoSuchUser, shortName(nick))
	}
	var since time.Time
	args := nick
	if d > 0 {
		since = time.Now().Add(-d)
		args += " " + d.String()
	}
	mem := 0
	for _, r := range h.rooms {
		mem += r.purge(key, since)
	}
	if !h.diskHistory() {
		x.Audit("purge", args, nil)
		x.Reply(fmt.Sprintf("*** Removed %s by %s from memory", plural(mem, "line", "lines"), usertext.Sanitize(shortName(nick))))
		return nil
	}
	c := x.c
	h.cfg.Archive.Purge(key, since, func(n int, err error) {
		h.post(func() {
			x := h.ctx(c)
			x.Audit("purge", args, err)
			if _, present := h.conns[c]; !present {
				return
			}
			if err != nil {
				x.Reply("! Purge failed: " + err.Error())
				return
			}
			x.Reply(fmt.Sprintf("*** Removed %s by %s from the history", plural(n, "line", "lines"), shortName(nick)))
		})
	})
	return nil
}

// purge removes from r's history ring the lines said by key at or after
// since, and returns how many.
func (r *Room) purge(key string, since time.Time) int {
	n := len(r.history)
	if n == 0 {
		return 0
	}
	kept := make([]historyEntry, 0, n)
	for i := range n {
		e := r.history[(r.histStart+i)%n]
		if e.from == key && !e.msg.Time.Before(since) {
			continue
		}
		kept = append(kept, e)
	}
	removed := n - len(kept)
	if removed > 0 {
		r.history, r.histStart = kept, 0
	}
	return removed
}
