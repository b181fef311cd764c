package hub

import (
	"time"

	"telchat/message"
	"telchat/usertext"
)

// In a cluster the admin state (bans, mutes, the MOTD and the kept topics)
// is the cluster's: a change made here is applied here at once and handed
// to the relay (share), which stores it in a key-value bucket and reports
// its revision; every server, this one included, is handed every value
// the bucket takes, in the bucket's order and with its revision, and
// applies it (ClusterBan, ClusterMute, ClusterMOTD, ClusterRoomTopic,
// through sharedValue). Applying a value is idempotent and is never
// relayed again, so nothing loops. A bucket's watch may skip a value that
// a later one of the same key replaced before it was read, so the hub
// does not count echoes: it compares revisions. While a change made here
// to a thing (a ban, a mute, the MOTD, a topic) is on its way to the
// bucket, the newest value that comes for the thing is held; once the
// change is stored, that value is applied if it is later than the
// change, and every value up to the change's revision (its own echo
// included) is skipped. So every server ends with the bucket's last
// value, and a quick /mute then /unmute (or /ban, /unban, /ban) is never
// undone here by the late echo of an earlier change. An admin's
// confirmation waits until the change is stored (ReplyWhenSaved).

// Mute is a mute in the cluster's admin state (ClusterMute).
type Mute struct {
	// Nick is the muted nickname.
	Nick string
	// Key is its nickname key, set by the hub that made the change (the
	// one that applies it works it out from Nick).
	Key string
	// Until is when the mute ends, to the millisecond; zero: until
	// /unmute.
	Until time.Time
	// For is the duration the admin gave (0: none), for the notice.
	For time.Duration
	// By is the admin's name.
	By string
	// Off says that the mute was lifted (/unmute).
	Off bool
}

// sharedThing is what this server changed of one thing of the shared
// admin state.
type sharedThing struct {
	pending int           // changes made here not yet reported by the relay
	rev     uint64        // the revision of the latest one stored
	held    *ClusterEvent // the newest value from the bucket while pending
}

// share relays e, a change to the admin state made here, and counts it
// until the relay says it is stored (see durability).
func (h *Hub) share(e ClusterEvent) {
	if h.cfg.Relay == nil {
		return
	}
	d := &h.durable
	d.shareGen++
	gen := d.shareGen
	if k := sharedKey(&e); k != "" {
		cs := &h.cluster
		if cs.shared == nil {
			cs.shared = make(map[string]*sharedThing)
			cs.sharedGen = make(map[uint64]string)
		}
		t := cs.shared[k]
		if t == nil {
			t = &sharedThing{}
			cs.shared[k] = t
		}
		t.pending++
		cs.sharedGen[gen] = k
	}
	e.Done = func(rev uint64, err error) { _ = h.Do(func() { h.sharedDone(gen, rev, err) }) }
	h.relay(e)
}

// sharedKey names the thing an admin change made here is about (valueKey
// names the thing of a value from the bucket the same way).
func sharedKey(e *ClusterEvent) string {
	switch e.Kind {
	case ClusterBan:
		return "b." + e.Ban.Mask
	case ClusterMute:
		return "m." + e.Mute.Key
	case ClusterMOTD:
		return "motd"
	case ClusterRoomTopic:
		return "t." + lowerASCII(e.User.Room)
	}
	return ""
}

// valueKey names the thing a value from the bucket is about; false for a
// name that is not valid here.
func (h *Hub) valueKey(e *ClusterEvent) (string, bool) {
	switch e.Kind {
	case ClusterBan:
		return "b." + e.Ban.Mask, true
	case ClusterMute:
		_, key, err := h.cfg.Nick.CheckNick(e.Mute.Nick)
		return "m." + key, err == nil
	case ClusterMOTD:
		return "motd", true
	case ClusterRoomTopic:
		_, key, err := usertext.CheckRoom(e.User.Room)
		return "t." + key, err == nil
	}
	return "", false
}

// sharedValue handles a value from the cluster's admin buckets.
func (h *Hub) sharedValue(e *ClusterEvent) {
	k, ok := h.valueKey(e)
	if ok && h.fresh(k, e) {
		h.applyShared(e)
	}
}

// fresh reports whether e, a value from the bucket for the thing k, is
// to be applied now: it is not if a change made here to k is on its way
// to the bucket (e is held until it is stored), or if e is not later
// than the last change made here (an older value, or the change's echo).
func (h *Hub) fresh(k string, e *ClusterEvent) bool {
	cs := &h.cluster
	t := cs.shared[k]
	switch {
	case t == nil:
		return true
	case t.pending > 0:
		held := *e // values come in the bucket's order: the newest so far
		t.held = &held
		return false
	case e.Rev <= t.rev:
		if e.Rev == t.rev {
			delete(cs.shared, k) // the echo: nothing older comes after it
		}
		return false
	}
	delete(cs.shared, k) // later than every change made here
	return true
}

// applyShared applies e, a value from the cluster's admin buckets.
func (h *Hub) applyShared(e *ClusterEvent) {
	switch e.Kind {
	case ClusterBan:
		// Any server's, at any time (also before this one started). A
		// ban put here is in force here already (applying it again
		// would disconnect the admin it matches).
		if e.Origin != h.cfg.ServerID || e.Unban {
			h.remoteBan(e.Ban, e.Unban)
		}
	case ClusterMute:
		h.clusterMute(e.Mute)
	case ClusterMOTD:
		h.clusterMOTD(e.Text)
	case ClusterRoomTopic:
		h.clusterRoomTopic(e.User.Room, e.Topic)
	}
}

// sharedDone handles the relay's report on the change numbered gen: rev
// its revision in the bucket, or err.
func (h *Hub) sharedDone(gen, rev uint64, err error) {
	d := &h.durable
	if err != nil {
		h.log.Warn().Err(err).Msg("admin change not stored in the cluster; it holds on this server")
		for _, w := range d.waiters {
			if w.share == gen {
				if _, present := h.conns[w.c]; present {
					h.deliver(w.c, h.textLine("! "+w.what+" is in force on this server only: the cluster did not store it ("+
						err.Error()+"); make the change again once the cluster link is back"))
				}
			}
		}
	}
	d.shared = max(d.shared, gen)
	h.settle(gen, rev, err)
	h.confirmSaved()
}

// settle counts the change numbered gen as reported; once no change to
// its thing is on its way, the value held meanwhile is applied if it is
// later than the changes made here. (Reports may come out of order: each
// comes on a goroutine of its own.)
func (h *Hub) settle(gen, rev uint64, err error) {
	cs := &h.cluster
	k, ok := cs.sharedGen[gen]
	if !ok {
		return
	}
	delete(cs.sharedGen, gen)
	t := cs.shared[k]
	t.pending--
	if err == nil {
		t.rev = max(t.rev, rev)
	}
	if t.pending > 0 {
		return
	}
	held := t.held
	t.held = nil
	later := held != nil && held.Rev > t.rev
	if later || t.rev == 0 {
		delete(cs.shared, k) // nothing stored, or the bucket has a later value
	}
	if later {
		h.applyShared(held)
	}
}

// muteUntil is the end of a mute of d from now (zero d: forever), to the
// millisecond as the cluster stores it.
func muteUntil(d time.Duration) time.Time {
	if d <= 0 {
		return forever
	}
	return time.UnixMilli(time.Now().Add(d).UnixMilli())
}

// shareMute hands a mute (or its end, off) to the cluster.
func (h *Hub) shareMute(nick, by string, until time.Time, d time.Duration, off bool) {
	_, key, err := h.cfg.Nick.CheckNick(nick)
	if err != nil {
		key = lowerASCII(nick)
	}
	m := Mute{Nick: nick, Key: key, By: by, For: d, Off: off}
	if !off && !until.Equal(forever) {
		m.Until = until
	}
	h.share(ClusterEvent{Kind: ClusterMute, Mute: m})
}

// clusterMute applies a mute from the cluster's bucket.
func (h *Hub) clusterMute(m Mute) {
	_, key, err := h.cfg.Nick.CheckNick(m.Nick)
	if err != nil {
		return
	}
	now := time.Now()
	c := h.nicks[key]
	if m.Off {
		delete(h.mutes, key)
		if c != nil && h.isMuted(c, now) {
			c.mutedUntil = time.Time{}
			h.deliver(c, h.textLine("*** You may speak again"))
		}
		return
	}
	until := forever
	if !m.Until.IsZero() {
		until = m.Until
		if !now.Before(until) {
			return // run out already
		}
	}
	if old, ok := h.mutes[key]; ok && old.Equal(until) {
		return // known already (perhaps set here)
	}
	h.mutes[key] = until
	if c == nil {
		return
	}
	c.mutedUntil = until
	text := "*** You have been muted by " + m.By
	if m.For > 0 {
		text += " for " + m.For.String()
	}
	h.deliver(c, h.textLine(text))
}

// unmuteOffline lifts the mute on nick, a name nobody holds in the
// cluster right now, if there is one in force.
func (h *Hub) unmuteOffline(nick string) (string, bool) {
	display, key, err := h.cfg.Nick.CheckNick(nick)
	if err != nil {
		return "", false
	}
	until, ok := h.mutes[key]
	if !ok {
		return "", false
	}
	delete(h.mutes, key)
	if !until.Equal(forever) && !time.Now().Before(until) {
		return "", false
	}
	h.shareMute(display, "", time.Time{}, 0, true)
	return display, true
}

// clusterMOTD applies a message of the day from the cluster's bucket.
func (h *Hub) clusterMOTD(text string) {
	if text == h.motd {
		return
	}
	h.motd = text
	h.persist()
}

// setMOTD makes text the message of the day here and in the cluster
// (where, with share, it is put even when unchanged here: a reload of
// -motd-file puts it).
func (h *Hub) setMOTD(text, by string, force bool) {
	changed := text != h.motd
	if changed {
		h.motd = text
		h.persist()
	}
	if changed || force {
		h.share(ClusterEvent{Kind: ClusterMOTD, Text: text, By: by})
	}
}

// shareTopic hands the topic of r, a kept room, to the cluster.
func (h *Hub) shareTopic(r *Room, by string) {
	h.share(ClusterEvent{Kind: ClusterRoomTopic, User: Presence{Room: r.name}, Topic: r.topic, By: by})
}

// clusterRoomTopic applies a kept topic from the cluster's bucket: the
// room is kept here too (made if it does not exist), as rooms with an
// admin's topic are.
func (h *Hub) clusterRoomTopic(room, topic string) {
	display, key, err := usertext.CheckRoom(room)
	if err != nil {
		return
	}
	r := h.rooms[key]
	if r == nil {
		if len(h.rooms) >= h.cfg.MaxRooms {
			h.log.Warn().Str("room", display).Msg("kept topic from the cluster not applied: too many rooms")
			return
		}
		r = h.newRoom(display)
		h.rooms[key] = r
	}
	if r.topic == topic && (r.persistent || key == LobbyName) {
		return
	}
	r.topic = topic
	r.persistent = true
	h.persist()
}

// refusedRemote tells a user of this server that the private message it
// sent to a user of another server was refused there.
func (h *Hub) refusedRemote(nick, reason string) {
	_, key, err := h.cfg.Nick.CheckNick(nick)
	if err != nil {
		return
	}
	if c := h.nicks[key]; c != nil {
		h.deliver(c, h.textLine("! "+usertext.Sentence(reason)))
	}
}

// refusePrivate tells the sender's server that m, a private message from
// there, was refused here.
func (h *Hub) refusePrivate(m *message.Message, err error) {
	h.relay(ClusterEvent{Kind: ClusterRefused, User: Presence{Nick: m.From}, Reason: err.Error()})
}
