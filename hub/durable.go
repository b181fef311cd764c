package hub

import (
	"strings"
	"time"

	"telchat/store"
)

// Saver is where the hub hands its durable state (bans, MOTD, topics). It
// must not block: it writes off the hub goroutine and calls report, from
// its own goroutine, after each attempt to write the snapshot numbered gen.
// *boltstore.DB implements it.
type Saver interface {
	Submit(st store.State, gen uint64, report func(store.SaveResult))
}

// The bounds on confirmations waiting for the disk.
const (
	// saveSlow is how long an admin waits for a confirmation before being
	// told that it is pending.
	saveSlow = 2 * time.Second
	// maxSaveWaiters bounds the confirmations waiting for the disk; past
	// it, an admin action is answered at once as pending.
	maxSaveWaiters = 4096
	// maxDroppedLogged bounds the masks named in the log when a loaded
	// state holds more bans than Config.MaxBans.
	maxDroppedLogged = 20
)

// durability tracks which snapshot of the durable state is on disk, and the
// admins waiting to hear that their change is. It belongs to the hub
// goroutine.
type durability struct {
	gen     uint64 // number of the newest snapshot handed to the Saver
	saved   uint64 // newest snapshot reported on disk
	failing error  // the last save error, nil while saves succeed
	waiters []saveWaiter
	// In a cluster, admin changes are also stored in the cluster's
	// key-value buckets (see share): shareGen numbers the newest handed
	// to the relay, shared the newest stored (or failed). The relay
	// stores them in order.
	shareGen, shared uint64
}

// saveWaiter is an admin's confirmation, to be sent once snapshot gen is
// on disk.
type saveWaiter struct {
	c     *Conn
	gen   uint64
	share uint64 // the cluster's store: the change numbered share
	what  string // "The ban on 10.0.0.1", for the pending notice
	line  string // the confirmation
	since time.Time
	told  bool // told that it is pending
}

// loadBans installs the bans loaded at start: expired ones are left out,
// and past Config.MaxBans only the newest are kept (and the log says which
// were dropped).
func (h *Hub) loadBans(bans []store.Ban) {
	now := time.Now()
	for _, b := range bans {
		if !b.Expired(now) {
			h.bans = append(h.bans, b)
		}
	}
	kept, dropped := store.CapBans(h.bans, h.cfg.MaxBans)
	if len(dropped) == 0 {
		return
	}
	h.bans = kept
	names := make([]string, 0, min(len(dropped), maxDroppedLogged))
	for _, b := range dropped[:min(len(dropped), maxDroppedLogged)] {
		names = append(names, b.Mask)
	}
	h.log.Warn().Int("dropped", len(dropped)).Int("kept", len(kept)).Int("max_bans", h.cfg.MaxBans).
		Str("oldest_dropped", strings.Join(names, " ")).
		Time("newest_dropped_created", dropped[len(dropped)-1].Created).
		Msg("the state file holds more bans than the cap; the oldest were dropped and will be gone from the file at the next save")
}

// persist hands a snapshot of the durable state to the saver.
func (h *Hub) persist() {
	if h.cfg.Saver == nil {
		return
	}
	st := store.State{Version: store.CurrentVersion, MOTD: h.motd, Bans: h.bans, Topics: map[string]string{}}
	for k, r := range h.rooms {
		if r.topic != "" && (r.persistent || k == LobbyName) {
			st.Topics[k] = r.topic
		}
	}
	h.durable.gen++
	h.cfg.Saver.Submit(st, h.durable.gen, h.saveReport) // Submit copies the bans and topics
}

// saveReport is called by the Saver on its goroutine; it posts the result
// to the hub like any other event (a stopped hub drops it).
func (h *Hub) saveReport(res store.SaveResult) {
	_ = h.Do(func() { h.saved(res) })
}

// ReplyWhenSaved sends line to the caller once the durable state as it is
// now is on disk (at once when it is already, or when there is no Saver)
// and, in a cluster, once the admin changes made so far are stored in the
// cluster's buckets. If that takes longer than a moment, or a save fails,
// the caller is told that what (such as "The ban on bob") is in force but
// still pending, and gets line when it is saved.
func (x *Ctx) ReplyWhenSaved(what, line string) {
	h := x.h
	d := &h.durable
	gen := d.gen
	if h.cfg.Saver == nil {
		gen = 0
	}
	if d.saved >= gen && d.shared >= d.shareGen {
		x.Reply(line)
		return
	}
	if len(d.waiters) >= maxSaveWaiters {
		x.Reply(line + " (not yet saved)")
		return
	}
	w := saveWaiter{c: x.c, gen: gen, share: d.shareGen, what: what, line: line, since: time.Now()}
	if d.failing != nil {
		h.tellPending(&w)
	}
	d.waiters = append(d.waiters, w)
}

// saved handles a Saver's report on the hub goroutine.
func (h *Hub) saved(res store.SaveResult) {
	d := &h.durable
	if res.Err != nil {
		if d.failing == nil {
			h.log.Error().Err(res.Err).Msg("state cannot be saved; changes are in force but not on disk")
			h.tellOperators("! Cannot save bans, MOTD and topics to disk: " + res.Err.Error() +
				". Retrying; changes are in force but a crash would lose them")
		}
		d.failing = res.Err
		for i := range d.waiters {
			if w := &d.waiters[i]; w.gen <= res.Gen && !w.told {
				h.tellPending(w)
			}
		}
		return
	}
	d.saved = max(d.saved, res.Gen)
	if d.failing != nil {
		d.failing = nil
		h.tellOperators("*** Bans, MOTD and topics are saved to disk again")
	}
	h.confirmSaved()
}

// confirmSaved sends their confirmation to the waiting admins whose
// change is on disk and, in a cluster, stored in the cluster.
func (h *Hub) confirmSaved() {
	d := &h.durable
	kept := d.waiters[:0]
	for _, w := range d.waiters {
		if w.gen > d.saved || w.share > d.shared {
			kept = append(kept, w)
			continue
		}
		if _, present := h.conns[w.c]; present {
			h.deliver(w.c, h.textLine(w.line))
		}
	}
	clear(d.waiters[len(kept):])
	d.waiters = kept
}

// tellPending tells a waiting admin that the change is in force but not yet
// on disk.
func (h *Hub) tellPending(w *saveWaiter) {
	w.told = true
	if _, present := h.conns[w.c]; !present {
		return
	}
	where, why := "on disk", "saving is taking a while"
	switch {
	case w.gen <= h.durable.saved:
		where, why = "stored in the cluster", "the cluster is slow to answer"
	case h.durable.failing != nil:
		why = "saving failed: " + h.durable.failing.Error()
	}
	h.deliver(w.c, h.textLine("! "+w.what+" is in force but not yet "+where+" ("+why+"); you will be told when it is saved"))
}

// checkSaves, every tick, tells the admins who have waited saveSlow for a
// confirmation that it is pending, and forgets those who left.
func (h *Hub) checkSaves(now time.Time) {
	d := &h.durable
	kept := d.waiters[:0]
	for _, w := range d.waiters {
		if _, present := h.conns[w.c]; !present {
			continue
		}
		if !w.told && now.Sub(w.since) >= saveSlow {
			h.tellPending(&w)
		}
		kept = append(kept, w)
	}
	clear(d.waiters[len(kept):])
	d.waiters = kept
}

// tellOperators sends a line to every console and every admin in chat.
func (h *Hub) tellOperators(text string) {
	msg := h.textLine(text)
	h.fanout(msg, func(yield func(*Conn) bool) {
		for c := range h.conns {
			if (c.console || c.admin) && !yield(c) {
				return
			}
		}
	})
}
