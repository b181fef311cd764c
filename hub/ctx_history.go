package hub

import (
	"fmt"
	"time"

	"telchat/message"
	"telchat/store"
)

// MaxHistoryPage bounds the lines one /history shows.
const MaxHistoryPage = 500

// History shows the caller up to n lines of their room said before before
// (the zero time: the newest), oldest first, each with its time (UTC).
// With an archive the lines come from disk (the answer follows later),
// else from the room's memory.
func (x *Ctx) History(n int, before time.Time) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	if n < 1 || n > MaxHistoryPage {
		return fmt.Errorf("you can see 1 to %d lines at a time", MaxHistoryPage)
	}
	h, r := x.h, c.room
	mem := r.entries(before)
	if !h.diskHistory() {
		h.showHistory(c, r, before, n, mem)
		return nil
	}
	h.cfg.Archive.History(r.key, before, n, func(ms []store.Message, err error) {
		h.post(func() {
			if _, present := h.conns[c]; !present {
				return
			}
			if err != nil {
				h.log.Error().Err(err).Str("room", r.name).Msg("reading history failed")
				h.deliver(c, h.textLine("! Cannot read the history now: "+err.Error()))
				return
			}
			all := make([]historyEntry, 0, len(ms)+len(mem))
			var last time.Time
			for _, m := range ms {
				all = append(all, fromStored(r, m))
				last = m.Time
			}
			// Lines said since the read began, or not yet on disk.
			for _, e := range mem {
				if e.msg.Time.After(last) {
					all = append(all, e)
				}
			}
			h.showHistory(c, r, before, n, all)
		})
	})
	return nil
}

// entries returns the room's in-memory history said before before (zero:
// all), oldest first.
func (r *Room) entries(before time.Time) []historyEntry {
	out := make([]historyEntry, 0, len(r.history))
	for i := range r.history {
		e := r.history[(r.histStart+i)%len(r.history)]
		if before.IsZero() || e.msg.Time.Before(before) {
			out = append(out, e)
		}
	}
	return out
}

// showHistory sends c the last n of entries, with their times, leaving out
// the lines of users c ignores.
func (h *Hub) showHistory(c *Conn, r *Room, before time.Time, n int, entries []historyEntry) {
	kept := entries[:0:0]
	for _, e := range entries {
		if !e.ignoredBy(c.ignores) {
			kept = append(kept, e)
		}
	}
	kept = kept[max(0, len(kept)-n):]
	when := ""
	if !before.IsZero() {
		when = " before " + stamp(before, time.Now())
	}
	if len(kept) == 0 {
		h.deliver(c, h.textLine("*** No messages in #"+r.name+when))
		return
	}
	now := time.Now()
	lines := make([]string, 0, len(kept)+2)
	lines = append(lines, "*** "+plural(len(kept), "message", "messages")+" in #"+r.name+when+" (times in UTC):")
	for _, e := range kept {
		lines = append(lines, "["+stamp(e.msg.Time, now)+"] "+plainLine(&e.msg))
	}
	lines = append(lines, "*** End of history (/history before "+stampSeconds(kept[0].msg.Time, now)+" for older)")
	h.ctx(c).Reply(lines...)
}

// plainLine is a room message as plain text: "<bob> hi", "* bob waves",
// "*** notice".
func plainLine(m *message.Message) string {
	switch m.Kind {
	case message.Chat:
		return "<" + m.From + "> " + m.Text
	case message.Action:
		return "* " + m.From + " " + m.Text
	case message.Reply:
		return m.Text
	}
	return "*** " + m.Text
}

// stamp formats t in UTC: "15:04" on now's day, else "2006-01-02 15:04".
func stamp(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if t.IsZero() {
		return "--:--"
	}
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}

// stampSeconds is stamp to the nanosecond, for paging exactly:
// "15:04:05.123456789".
func stampSeconds(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04:05.000000000")
	}
	return t.Format("2006-01-02 15:04:05.000000000")
}
