package hub

import (
	"time"

	"telchat/message"
	"telchat/usertext"
)

// In a cluster the admin state (bans, mutes, the MOTD and the kept topics)
// is the cluster's: a change made here is applied here at once and handed
// to the relay (share), which stores it in a key-value bucket; every
// server, this one included, is handed every value the bucket takes, in
// the bucket's order, and applies it (ClusterBan, ClusterMute,
// ClusterMOTD, ClusterRoomTopic). Applying a value is idempotent and is
// never relayed again, so nothing loops. While a change made here to a
// thing (a mute, the MOTD, a topic) is on its way through the bucket, the
// values that come back before it are skipped: they are older, and the
// bucket ends with this change unless another server's comes after it
// (which is then applied). So every server ends with the bucket's last
// value, and a quick /mute then /unmute is never undone here by the late
// echo of the /mute. An admin's confirmation waits until the change is
// stored (ReplyWhenSaved).

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
		if cs.pending == nil {
			cs.pending = make(map[string]int)
			cs.pendingGen = make(map[uint64]string)
		}
		cs.pending[k]++
		cs.pendingGen[gen] = k
	}
	e.Done = func(err error) { _ = h.Do(func() { h.sharedDone(gen, err) }) }
	h.relay(e)
}

// sharedKey names the thing an admin change is about, as the bucket's
// values are matched to it (see stale); "" for a ban (bans are applied
// as they come).
func sharedKey(e *ClusterEvent) string {
	switch e.Kind {
	case ClusterMute:
		return "m." + e.Mute.Key
	case ClusterMOTD:
		return "motd"
	case ClusterRoomTopic:
		return "t." + lowerASCII(e.User.Room)
	}
	return ""
}

// stale reports whether a value from the bucket for the thing k, put by
// origin, is to be skipped: a change made here to k is still on its way
// back (the value is older). The echo of the last change made here is
// applied, which changes nothing.
func (h *Hub) stale(k, origin string) bool {
	cs := &h.cluster
	n := cs.pending[k]
	if n == 0 {
		return false
	}
	if origin == h.cfg.ServerID {
		n--
		cs.settle(k, n)
	}
	return n > 0
}

// settle records that n changes made here to k are on their way back.
func (cs *clusterState) settle(k string, n int) {
	if n <= 0 {
		delete(cs.pending, k)
		return
	}
	cs.pending[k] = n
}

// sharedDone handles the relay's report on the change numbered gen.
func (h *Hub) sharedDone(gen uint64, err error) {
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
	if k, ok := h.cluster.pendingGen[gen]; ok {
		delete(h.cluster.pendingGen, gen)
		if err != nil {
			// Not stored: no echo of it will come back.
			h.cluster.settle(k, h.cluster.pending[k]-1)
		}
	}
	h.confirmSaved()
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

// clusterMute applies a mute from the cluster's bucket, put by origin.
func (h *Hub) clusterMute(origin string, m Mute) {
	_, key, err := h.cfg.Nick.CheckNick(m.Nick)
	if err != nil || h.stale("m."+key, origin) {
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

// clusterMOTD applies a message of the day from the cluster's bucket,
// put by origin.
func (h *Hub) clusterMOTD(origin, text string) {
	if h.stale("motd", origin) || text == h.motd {
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
// admin's topic are. origin put it.
func (h *Hub) clusterRoomTopic(origin, room, topic string) {
	display, key, err := usertext.CheckRoom(room)
	if err != nil || h.stale("t."+key, origin) {
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
