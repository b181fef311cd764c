package hub

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
	"unicode/utf8"

	"telchat/message"
	"telchat/store"
	"telchat/usertext"
)

// A cluster (package cluster) makes several servers one chat. The hub
// stays the one owner of its server's state: what its users do leaves
// through Config.Relay, which it calls without blocking, and what the
// other servers' users do comes in through the hub's inbox (Publish for
// their lines, Cluster for the rest), like local input. This file is the
// hub's side of that boundary: the other servers' users as the hub sees
// them, and what it tells the relay.

// Relay carries what happens on this server to the other servers of a
// cluster. Send is called on the hub goroutine and must not block: a
// relay buffers (boundedly) and drops, counting, when it cannot keep up.
// It must call the Done of every event that has one, exactly once, also
// for an event it drops: the admin who made the change waits for it.
type Relay interface {
	Send(e ClusterEvent)
}

// Claimer makes a nickname unique in the whole cluster. Its methods are
// called on the hub goroutine and must not block; done is called later on
// another goroutine (never the caller's), with nil when this server won
// the name, an error wrapping ErrNickTaken when another server holds it,
// and another error when the claim could not be made (the link is down).
type Claimer interface {
	// Claim takes key (a nickname's look-alike key) for nick.
	Claim(key, nick string, done func(error))
	// Release gives key up (its user left or renamed).
	Release(key string)
}

// ClusterKind says what a ClusterEvent is.
type ClusterKind uint8

// The kinds of cluster event.
const (
	// ClusterUser: a user of Origin appeared or changed (User: room, away,
	// a new nickname with User.OldNick set).
	ClusterUser ClusterKind = iota + 1
	// ClusterGone: a user of Origin left (User.Nick), for Reason.
	ClusterGone
	// ClusterHeartbeat: Origin is alive and these are all its users.
	ClusterHeartbeat
	// ClusterTopic: User.Nick set the topic of User.Room to Topic.
	ClusterTopic
	// ClusterSync: Origin asks every server for a heartbeat at once (it
	// just started, or its link came back).
	ClusterSync
	// ClusterLine: a line said on Origin (Msg): chat and emotes in a room,
	// private messages, walls. Hub.Publish hands these to the hub.
	ClusterLine
	// ClusterLink: the local link went down or came back (Up); never
	// sent to other servers.
	ClusterLink
	// ClusterTick: time to look for lost servers and, every third of
	// Config.ClusterTimeout, to send a heartbeat; the relay sends it to
	// its own hub ClusterTicks times per Config.ClusterTimeout.
	ClusterTick
	// ClusterBan: Ban was set (or, with Unban, the ban on Ban.Mask
	// removed) somewhere in the cluster. The relay keeps bans in a
	// key-value bucket, so they hold across restarts of any server.
	ClusterBan
	// ClusterKick: By kicked User.Nick, a user of the receiving server,
	// for Reason.
	ClusterKick
	// ClusterMove: By moved User.Nick, a user of the receiving server, to
	// User.Room.
	ClusterMove
	// ClusterAccount: the account with look-alike key AccountKey was
	// registered or changed (Account), or removed (Account nil),
	// somewhere in the cluster (also here). The relay's store keeps
	// accounts in a key-value bucket and hands the hub every one at start
	// and every change after.
	ClusterAccount
	// ClusterMute: the mute on Mute.Nick was set or lifted somewhere in the
	// cluster. Like bans, mutes, the MOTD and kept topics live in a
	// key-value bucket (see cluster_admin.go).
	ClusterMute
	// ClusterMOTD: the message of the day became Text.
	ClusterMOTD
	// ClusterRoomTopic: the kept topic of User.Room became Topic (set by
	// By): the room is kept, with its topic, on every server.
	ClusterRoomTopic
	// ClusterRefused: a private message from User.Nick, a user of the
	// receiving server, was refused on Origin for Reason.
	ClusterRefused
)

// ClusterEvent is one thing that crosses between servers (or, for
// ClusterLink and ClusterTick, from the relay to its own hub).
type ClusterEvent struct {
	Kind   ClusterKind
	Origin string // the server it happened on
	Msg    message.Message
	User   Presence
	Users  []Presence
	Reason string // ClusterGone: "quit: bye", "hangup", ...
	Topic  string
	Up     bool // ClusterLink
	Ban    store.Ban
	Unban  bool
	By     string  // ClusterKick, ClusterMove: the admin's name
	Rate   float64 // ClusterHeartbeat: the server's messages per second
	// ClusterAccount: the account's look-alike key, and the account (nil:
	// removed).
	AccountKey string
	Account    *store.Account
	Mute       Mute   // ClusterMute
	Text       string // ClusterMOTD
	// Rev, for a value of the shared admin state (ClusterBan,
	// ClusterMute, ClusterMOTD, ClusterRoomTopic) handed to the hub, is
	// its revision in its bucket: a later value has a higher one.
	Rev uint64
	// Done, for a change to the shared admin state made here, is called
	// by the relay once the change is stored in the cluster (its
	// revision, nil) or could not be (0, the error), on a goroutine of
	// its own; never sent.
	Done func(rev uint64, err error)
	// Shown: a ClusterLine this server showed its users at once (its
	// link was down): when it comes back from the cluster it is not
	// shown again.
	Shown bool
}

// Presence is what the cluster knows of one user.
type Presence struct {
	Nick    string
	OldNick string // ClusterUser after a rename
	Room    string // display name
	Away    string
	Admin   bool
	Since   time.Time // connected since
	Named   time.Time // when the user took this nickname
}

// remoteUser is a user of another server.
type remoteUser struct {
	Presence
	key, loose, origin string
}

// remoteServer is another server, as last heard of.
type remoteServer struct {
	lastSeen time.Time
	lastBeat time.Time // the last heartbeat
	// back: this server was lost (its users shown as left) and is heard
	// again; its next heartbeat announces its users as joined.
	back  bool
	rate  float64                // messages per second, at lastBeat
	users map[string]*remoteUser // by nickname key
}

// clusterState is the hub's view of the rest of the cluster; owned by the
// hub goroutine.
type clusterState struct {
	servers    map[string]*remoteServer
	users      map[string]*remoteUser // by nickname key
	lookalikes map[string]*remoteUser
	linkDown   bool
	// lastHeartbeat is when tick last sent this server's heartbeat.
	lastHeartbeat time.Time
	// lost holds the ids of the servers lost (their users shown as left
	// with "server lost") and not heard from since.
	lost map[string]bool
	// shared is what this server changed of each thing of the shared
	// admin state (see sharedKey) until the bucket has a later value;
	// sharedGen is the thing of each change not yet stored, by number.
	shared    map[string]*sharedThing
	sharedGen map[uint64]string
}

// ErrRemoteUser is wrapped when an admin command names a user of another
// server, which only that server can act on.
var ErrRemoteUser = errors.New("is on another server")

// Cluster hands the hub an event from the relay (see ClusterKind). It
// waits while the inbox is full, like local input.
func (h *Hub) Cluster(e ClusterEvent) error {
	if !h.send(event{kind: evCluster, cl: &e}) {
		return ErrClosed
	}
	return nil
}

// ServerID is this server's id in the cluster ("" without one).
func (h *Hub) ServerID() string { return h.cfg.ServerID }

func (h *Hub) clustered() bool { return h.cfg.Relay != nil }

func (h *Hub) relay(e ClusterEvent) {
	if h.cfg.Relay == nil {
		return
	}
	e.Origin = h.cfg.ServerID
	h.cfg.Relay.Send(e)
}

// relayLine sends a line said here; m is copied, not kept.
func (h *Hub) relayLine(m *message.Message) {
	if h.cfg.Relay == nil {
		return
	}
	h.relay(lineEvent(m))
}

// lineEvent is the event that carries m, a line said here (copied).
func lineEvent(m *message.Message) ClusterEvent {
	return ClusterEvent{Kind: ClusterLine, Msg: message.Message{Kind: m.Kind, Room: m.Room,
		From: m.From, To: m.To, Text: m.Text, Time: m.Time}}
}

// ownLine shows a room line said here, come back from the cluster in the
// cluster's order (Config.ClusterOrdered), to this server's users: as
// roomSay would have when it was said, but not to its sender if still
// here, and not to the cluster again.
func (h *Hub) ownLine(m message.Message) {
	r := h.rooms[lowerASCII(m.Room)]
	if r == nil {
		return // everyone here left the room meanwhile
	}
	fromKey, _ := h.remoteKeys(m.From)
	from := h.nicks[fromKey]
	if from != nil && from.nick != m.From {
		from = nil
	}
	m.Origin = ""
	h.roomShow(r, from, fromKey, m, false)
}

func (h *Hub) presence(c *Conn) Presence {
	p := Presence{Nick: c.nick, Away: c.away, Admin: c.admin, Since: c.connectedAt, Named: c.namedAt}
	if c.room != nil {
		p.Room = c.room.name
	}
	return p
}

// relayUser tells the others that c appeared or changed.
func (h *Hub) relayUser(c *Conn, oldNick string) {
	if h.cfg.Relay == nil || c.nick == "" || c.console {
		return
	}
	p := h.presence(c)
	p.OldNick = oldNick
	h.relay(ClusterEvent{Kind: ClusterUser, User: p})
}

// ClusterTicks is how many ClusterTick events the relay sends its hub per
// Config.ClusterTimeout. A server not heard from for ClusterTimeout less
// one tick is lost at the next tick, so its users leave within
// ClusterTimeout of the last event it sent (a server that dies is shown
// lost within -cluster-timeout, not up to a third later); it sends a
// heartbeat every third of it, so one heartbeat missed, or late by
// less than half of ClusterTimeout, loses nobody.
const ClusterTicks = 15

// clusterTick sends a heartbeat when a third of ClusterTimeout has passed since
// the last one (less half a tick, for the ticker's jitter) and forgets
// the servers not heard from for too long.
func (h *Hub) clusterTick(now time.Time) {
	tick := h.cfg.ClusterTimeout / ClusterTicks
	if now.Sub(h.cluster.lastHeartbeat) >= h.cfg.ClusterTimeout/3-tick/2 {
		h.heartbeat()
		h.cluster.lastHeartbeat = now
	}
	h.expireServers(now)
}

// heartbeat sends the list of every user of this server.
func (h *Hub) heartbeat() {
	users := make([]Presence, 0, len(h.nicks))
	for _, c := range h.nicks {
		users = append(users, h.presence(c))
	}
	h.relay(ClusterEvent{Kind: ClusterHeartbeat, Users: users, Rate: h.rate.perSecond(time.Now())})
}

// remoteKeys returns a remote nickname's key and look-alike key.
func (h *Hub) remoteKeys(nick string) (key, loose string) {
	_, key, err := h.cfg.Nick.CheckNick(nick)
	if err != nil {
		key = lowerASCII(nick)
	}
	return key, h.cfg.Nick.Lookalike(nick)
}

func (h *Hub) clusterEvent(e *ClusterEvent) {
	cs := &h.cluster
	if cs.servers == nil {
		cs.servers = make(map[string]*remoteServer)
		cs.users = make(map[string]*remoteUser)
		cs.lookalikes = make(map[string]*remoteUser)
	}
	switch e.Kind {
	case ClusterTick:
		h.clusterTick(time.Now())
		return
	case ClusterLink:
		h.linkChanged(e.Up)
		return
	case ClusterBan, ClusterMute, ClusterMOTD, ClusterRoomTopic:
		h.sharedValue(e) // from the admin buckets (see cluster_admin.go)
		return
	case ClusterAccount:
		h.accountChanged(e.AccountKey, e.Account)
		return
	}
	if e.Kind == ClusterLine && e.Origin == h.cfg.ServerID && h.cfg.ClusterOrdered {
		h.ownLine(e.Msg)
		return
	}
	if e.Origin == "" || e.Origin == h.cfg.ServerID {
		return // never our own (the relay drops those already)
	}
	srv := cs.servers[e.Origin]
	if srv == nil {
		srv = &remoteServer{users: make(map[string]*remoteUser), back: cs.lost[e.Origin]}
		delete(cs.lost, e.Origin)
		cs.servers[e.Origin] = srv
	}
	srv.lastSeen = time.Now()
	switch e.Kind {
	case ClusterUser:
		h.remoteUpsert(e.Origin, srv, e.User, true)
		h.resolveConflict(e.Origin, e.User)
	case ClusterGone:
		key, _ := h.remoteKeys(e.User.Nick)
		if u := srv.users[key]; u != nil {
			h.remoteRemove(srv, u, e.Reason)
		}
	case ClusterHeartbeat:
		srv.lastBeat, srv.rate = srv.lastSeen, e.Rate
		// A heartbeat updates silently, but the users of a server that
		// was lost and is back were shown as left: they join again.
		back := srv.back
		srv.back = false
		seen := make(map[string]bool, len(e.Users))
		for _, p := range e.Users {
			key, _ := h.remoteKeys(p.Nick)
			seen[key] = true
			h.remoteUpsert(e.Origin, srv, p, back)
			h.resolveConflict(e.Origin, p)
		}
		// A user it no longer lists left without a word reaching us:
		// its server died and started again before it was counted
		// lost (each leave, rename or move comes before the heartbeat
		// that follows it).
		for key, u := range srv.users {
			if !seen[key] {
				h.remoteRemove(srv, u, "server lost")
			}
		}
	case ClusterTopic:
		h.remoteTopic(e.User.Nick, e.User.Room, e.Topic)
	case ClusterSync:
		h.heartbeat()
	case ClusterLine:
		h.remoteLine(e.Msg)
	case ClusterKick, ClusterMove:
		h.remoteAdmin(e)
	case ClusterRefused:
		h.refusedRemote(e.User.Nick, e.Reason)
	}
}

// remoteUpsert records p, a user of origin; with announce, the members of
// the rooms it left and joined here are told, as for a local user.
func (h *Hub) remoteUpsert(origin string, srv *remoteServer, p Presence, announce bool) {
	cs := &h.cluster
	key, loose := h.remoteKeys(p.Nick)
	if p.OldNick != "" {
		oldKey, _ := h.remoteKeys(p.OldNick)
		if old := srv.users[oldKey]; old != nil && oldKey != key {
			h.remoteUnindex(srv, old)
			if r := h.rooms[lowerASCII(old.Room)]; r != nil && announce {
				h.notice(r, nil, &message.Message{Kind: message.Notice, From: p.Nick, Text: p.OldNick + " is now known as " + p.Nick})
			}
			old.Presence, old.key, old.loose = p, key, loose
			old.OldNick = ""
			h.remoteIndex(srv, old)
			return
		}
	}
	u := srv.users[key]
	if u == nil {
		u = &remoteUser{Presence: p, key: key, loose: loose, origin: origin}
		u.OldNick = ""
		h.remoteIndex(srv, u)
		if announce {
			h.remoteJoined(u, "")
		}
		return
	}
	oldRoom := u.Room
	u.Presence = p
	u.OldNick = ""
	if cs.users[key] == nil {
		h.remoteIndex(srv, u)
	}
	if announce && lowerASCII(oldRoom) != lowerASCII(p.Room) {
		h.remoteJoined(u, oldRoom)
	}
}

// remoteJoined tells local members that u left oldRoom (if any) and joined
// its room.
func (h *Hub) remoteJoined(u *remoteUser, oldRoom string) {
	if oldRoom != "" {
		if r := h.rooms[lowerASCII(oldRoom)]; r != nil {
			h.notice(r, nil, &message.Message{Kind: message.Leave, From: u.Nick, Text: u.Nick + " left #" + r.name + " (joined #" + u.Room + ")"})
		}
	}
	if r := h.rooms[lowerASCII(u.Room)]; r != nil {
		h.notice(r, nil, &message.Message{Kind: message.Join, From: u.Nick, Text: u.Nick + " joined #" + r.name})
	}
}

func (h *Hub) remoteIndex(srv *remoteServer, u *remoteUser) {
	srv.users[u.key] = u
	h.cluster.users[u.key] = u
	if u.loose != "" {
		h.cluster.lookalikes[u.loose] = u
	}
}

func (h *Hub) remoteUnindex(srv *remoteServer, u *remoteUser) {
	if srv.users[u.key] == u {
		delete(srv.users, u.key)
	}
	if h.cluster.users[u.key] == u {
		delete(h.cluster.users, u.key)
	}
	if u.loose != "" && h.cluster.lookalikes[u.loose] == u {
		delete(h.cluster.lookalikes, u.loose)
	}
}

// remoteRemove forgets u; with a reason, its room here is told that it
// left.
func (h *Hub) remoteRemove(srv *remoteServer, u *remoteUser, reason string) {
	h.remoteUnindex(srv, u)
	if reason == "" {
		return
	}
	if r := h.rooms[lowerASCII(u.Room)]; r != nil {
		h.notice(r, nil, &message.Message{Kind: message.Leave, From: u.Nick, Text: u.Nick + " left #" + r.name + " (" + reason + ")"})
	}
}

// expireServers forgets the servers not heard from for
// Config.ClusterTimeout less one tick (see ClusterTicks): their users
// left (server lost). While this server's own link is down it hears
// nobody, which says nothing of the others: none is lost then, and when
// the link is back each has a whole timeout again to be heard (see
// linkChanged).
func (h *Hub) expireServers(now time.Time) {
	if h.cluster.linkDown {
		return
	}
	lost := h.cfg.ClusterTimeout - h.cfg.ClusterTimeout/ClusterTicks
	for id, srv := range h.cluster.servers {
		if now.Sub(srv.lastSeen) < lost {
			continue
		}
		h.log.Warn().Str("server", id).Int("users", len(srv.users)).Msg("cluster server lost")
		for _, u := range srv.users {
			h.remoteRemove(srv, u, "server lost")
		}
		delete(h.cluster.servers, id)
		if h.cluster.lost == nil {
			h.cluster.lost = make(map[string]bool)
		}
		h.cluster.lost[id] = true
	}
}

// linkChanged tells the local users that the link to the cluster went down
// or came back; when back, it asks for everyone's presence and sends its
// own.
func (h *Hub) linkChanged(up bool) {
	if up == !h.cluster.linkDown {
		return
	}
	h.cluster.linkDown = !up
	text := "cluster link lost, local chat only"
	if up {
		text = "cluster link restored"
		now := time.Now()
		for _, srv := range h.cluster.servers {
			srv.lastSeen = now
		}
		h.relay(ClusterEvent{Kind: ClusterSync})
		h.heartbeat()
	}
	h.log.Warn().Bool("up", up).Msg(text)
	msg := &message.Message{Kind: message.System, Text: text, Time: time.Now()}
	h.fanout(msg, func(yield func(*Conn) bool) {
		for c := range h.conns {
			if (c.nick != "" || c.console) && !yield(c) {
				return
			}
		}
	})
}

// remoteTopic sets a topic set on another server.
func (h *Hub) remoteTopic(by, room, topic string) {
	r := h.rooms[lowerASCII(room)]
	if r == nil {
		return
	}
	r.topic = topic
	h.notice(r, nil, &message.Message{Kind: message.Notice, From: by, Text: by + " set the topic of #" + r.name + " to: " + topic})
}

// remoteLine delivers a line said on another server.
func (h *Hub) remoteLine(m message.Message) {
	fromKey, _ := h.remoteKeys(m.From)
	switch m.Kind {
	case message.Chat, message.Action:
		if r := h.rooms[lowerASCII(m.Room)]; r != nil {
			h.roomSayFrom(r, nil, fromKey, m)
		}
	case message.Private:
		_, toKey, err := h.cfg.Nick.CheckNick(m.To)
		if err != nil {
			return
		}
		to := h.nicks[toKey]
		if to == nil {
			return // another server's user (every server hears every line)
		}
		if _, ignored := to.ignores[fromKey]; ignored {
			return // as here: the sender is not told
		}
		if err := h.privateRoom(to, len(m.From)+len(m.Text)+5, time.Now()); err != nil {
			h.refusePrivate(&m, err)
			return
		}
		to.lastFrom, to.lastFromRemote = nil, fromKey
		m.Time = time.Now()
		h.deliver(to, &m)
		h.Counters.PrivateMessages.Add(1)
	case message.Notice: // a wall
		m.Time = time.Now()
		h.fanout(&m, func(yield func(*Conn) bool) {
			for c := range h.conns {
				if (c.nick != "" || c.console) && !yield(c) {
					return
				}
			}
		})
	}
}

// remoteHolder returns the user of another server whose nickname matches
// id, or nil.
func (h *Hub) remoteHolder(id nickID) *remoteUser {
	if u := h.cluster.users[id.key]; u != nil {
		return u
	}
	if id.loose != "" {
		return h.cluster.lookalikes[id.loose]
	}
	return nil
}

// remoteLookup finds a user of another server by nickname.
func (h *Hub) remoteLookup(nick string) *remoteUser {
	_, key, err := h.cfg.Nick.CheckNick(nick)
	if err != nil {
		return nil
	}
	return h.cluster.users[key]
}

func (h *Hub) remoteInfo(u *remoteUser) UserInfo {
	until, muted := h.mutes[u.key] // the cluster's mutes are known here too
	muted = muted && (until.Equal(forever) || time.Now().Before(until))
	return UserInfo{Nick: u.Nick, Room: u.Room, Away: u.Away, Admin: u.Admin,
		Muted: muted, ConnectedAt: u.Since, Server: u.origin}
}

// remoteMembers lists the users of other servers in the room with key.
func (h *Hub) remoteMembers(key string) []UserInfo {
	var out []UserInfo
	for _, u := range h.cluster.users {
		if lowerASCII(u.Room) == key {
			out = append(out, h.remoteInfo(u))
		}
	}
	return out
}

// withRemoteMembers adds the users of other servers in the room with key
// to users (the first WhoMax of the local members, of local in all) and
// returns the first WhoMax of them all by name, and how many they are.
func (h *Hub) withRemoteMembers(key string, users []UserInfo, local int) ([]UserInfo, int) {
	remote := h.remoteMembers(key)
	if len(remote) == 0 {
		return users, local
	}
	users = append(users, remote...)
	sortUsers(users)
	return users[:min(len(users), WhoMax)], local + len(remote)
}

// remoteOnlyWho answers /who for a room that does not exist here but that
// users of other servers are in; else it returns notHere.
func (h *Hub) remoteOnlyWho(room string, notHere error) (string, int, []UserInfo, error) {
	_, key, err := usertext.CheckRoom(room)
	if err != nil {
		return "", 0, nil, notHere
	}
	users := h.remoteMembers(key)
	if len(users) == 0 {
		return "", 0, nil, notHere
	}
	sortUsers(users)
	return users[0].Room, len(users), users[:min(len(users), WhoMax)], nil
}

// clusterRoomsPage is RoomsPage when users of other servers are known:
// their rooms are counted with this server's.
func (h *Hub) clusterRoomsPage(page int) (list []RoomInfo, total, pages int, err error) {
	all := make([]RoomInfo, 0, len(h.rooms))
	for _, r := range h.rooms {
		all = append(all, RoomInfo{Name: r.name, Topic: r.topic, Members: len(r.members)})
	}
	all = h.remoteRooms(all)
	total = len(all)
	pages = max(1, (total+RoomsPageSize-1)/RoomsPageSize)
	if page < 1 || page > pages {
		return nil, total, pages, fmt.Errorf("no page %d: there %s", page, plural2(pages, "is 1 page", "are %d pages"))
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Members != all[j].Members {
			return all[i].Members > all[j].Members
		}
		return all[i].Name < all[j].Name
	})
	from := (page - 1) * RoomsPageSize
	return all[from:min(from+RoomsPageSize, len(all))], total, pages, nil
}

// privateRemote sends a private message from c to u on another server.
func (x *Ctx) privateRemote(c *Conn, u *remoteUser, text string) error {
	if x.h.muted(c) {
		return nil
	}
	now := time.Now()
	x.h.relayLine(&message.Message{Kind: message.Private, From: c.nick, To: u.Nick, Text: text, Time: now})
	x.h.deliver(c, &message.Message{Kind: message.PrivateSent, From: c.nick, To: u.Nick, Text: text, Time: now})
	if u.Away != "" {
		x.Reply("*** " + u.Nick + " is away: " + u.Away)
	}
	x.h.Counters.PrivateMessages.Add(1)
	return nil
}

// sortUsers sorts a /who list by nickname, case-free.
func sortUsers(out []UserInfo) {
	sort.Slice(out, func(i, j int) bool { return lowerASCII(out[i].Nick) < lowerASCII(out[j].Nick) })
}

// remoteRooms adds the users of other servers to the room list, with the
// rooms only they are in.
func (h *Hub) remoteRooms(out []RoomInfo) []RoomInfo {
	if len(h.cluster.users) == 0 {
		return out
	}
	index := make(map[string]int, len(out))
	for i, r := range out {
		index[lowerASCII(r.Name)] = i
	}
	for _, u := range h.cluster.users {
		k := lowerASCII(u.Room)
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, RoomInfo{Name: u.Room})
		}
		out[i].Members++
	}
	return out
}

// remoteCount is how many users of other servers are in the room with key.
func (h *Hub) remoteCount(key string) int {
	n := 0
	for _, u := range h.cluster.users {
		if lowerASCII(u.Room) == key {
			n++
		}
	}
	return n
}

// remoteBan applies a ban set (or removed) on another server.
func (h *Hub) remoteBan(b store.Ban, unban bool) {
	m, err := store.ParseMask(b.Mask)
	if err != nil {
		h.log.Warn().Str("mask", b.Mask).Err(err).Msg("cluster ban refused")
		return
	}
	if unban {
		h.removeBan(m)
		return
	}
	for _, old := range h.bans {
		if old.Mask == m && old.Reason == b.Reason && old.By == b.By &&
			old.Created.Equal(b.Created) && old.Expires.Equal(b.Expires) {
			return // known already
		}
	}
	b.Mask = m
	if _, err := h.applyBan(b, nil); err != nil {
		h.log.Warn().Str("mask", m).Err(err).Msg("cluster ban not applied")
	}
}

// remoteAdmin carries out an admin's /kick or /move from another server
// on a user of this one (the other server checked the admin's rights).
func (h *Hub) remoteAdmin(e *ClusterEvent) {
	_, key, err := h.cfg.Nick.CheckNick(e.User.Nick)
	if err != nil {
		return
	}
	to := h.nicks[key]
	if to == nil {
		return
	}
	h.log.Info().Str("nick", to.nick).Str("by", e.By).Str("server", e.Origin).Uint8("kind", uint8(e.Kind)).Msg("admin command from the cluster")
	if e.Kind == ClusterKick {
		h.kick(to, e.By, Reason{Kind: KindKicked, Text: e.Reason})
		return
	}
	display, key, err := usertext.CheckRoom(e.User.Room)
	if err != nil {
		return
	}
	r := h.rooms[key]
	if r == nil {
		r = h.newRoom(display)
		h.rooms[key] = r
	}
	if to.room == r {
		return
	}
	to.peer.Deliver(h.textLine("*** You were moved to #" + r.name + " by " + e.By))
	h.joinRoom(to, r)
}

// ServerInfo describes a server of the cluster for /stats cluster.
type ServerInfo struct {
	ID    string
	Self  bool // this server
	Users int
	// MessagesPerSecond is the server's rate of room lines (as of its
	// last heartbeat, for another server).
	MessagesPerSecond float64
	// LastHeartbeat is when its last heartbeat came (zero for this
	// server, or one not heard from since it was first seen).
	LastHeartbeat time.Time
}

// ClusterServers lists this server and the others it hears from, this one
// first, then by id; ErrDisabled without a cluster.
func (x *Ctx) ClusterServers() ([]ServerInfo, error) {
	h := x.h
	if !h.clustered() {
		return nil, fmt.Errorf("cluster mode is %w (-nats)", ErrDisabled)
	}
	out := []ServerInfo{{ID: h.cfg.ServerID, Self: true, Users: len(h.nicks), MessagesPerSecond: h.rate.perSecond(time.Now())}}
	var others []ServerInfo
	for id, srv := range h.cluster.servers {
		others = append(others, ServerInfo{ID: id, Users: len(srv.users), MessagesPerSecond: srv.rate, LastHeartbeat: srv.lastBeat})
	}
	sort.Slice(others, func(i, j int) bool { return others[i].ID < others[j].ID })
	return append(out, others...), nil
}

// resolveConflict settles a nickname held here and on another server too
// (possible only after a partition, or with a server without claims): the
// user who took it first keeps it (on a tie, the one on the server whose
// id sorts first); the other, if it is here, is renamed and told why. Both
// servers decide the same way, so only one acts.
func (h *Hub) resolveConflict(origin string, p Presence) {
	key, loose := h.remoteKeys(p.Nick)
	c := h.holder(nickID{key: key, loose: loose}, nil)
	if c == nil || c.claiming || p.Named.IsZero() {
		return
	}
	// In milliseconds, as on the wire, so that both servers compare the
	// same numbers.
	them, us := p.Named.UnixMilli(), c.namedAt.UnixMilli()
	theirs := them < us || them == us && origin < h.cfg.ServerID
	if !theirs {
		return
	}
	display, id, ok := h.spareNick(c.nick)
	if !ok {
		return
	}
	h.log.Warn().Str("nick", c.nick).Str("server", origin).Str("new", display).Msg("nickname held on another server since earlier: renaming")
	h.deliver(c, h.textLine("*** Your nickname "+c.nick+" was taken earlier by a user on server "+origin+" (the cluster was split); you are renamed"))
	if h.cfg.Claims != nil {
		h.claimRename(c, display, id)
		return
	}
	h.renamed(c, display, id)
}

// spareNick makes a free nickname from nick: nick (cut to fit) and "-" and
// four digits.
func (h *Hub) spareNick(nick string) (string, nickID, bool) {
	base := nick
	for len(base) > 19 {
		_, size := utf8.DecodeLastRuneInString(base)
		base = base[:len(base)-size]
	}
	for range 20 {
		display, key, err := h.cfg.Nick.CheckNick(fmt.Sprintf("%s-%04d", base, rand.IntN(10000)))
		if err != nil {
			return "", nickID{}, false
		}
		id := nickID{key: key, loose: h.cfg.Nick.Lookalike(display)}
		if h.nickInUse(id, nil) == nil {
			return display, id, true
		}
	}
	return "", nickID{}, false
}
