package hub

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"telchat/store"
	"telchat/usertext"
)

// Errors returned by Ctx methods. Their text is written for the user who
// typed the command.
var (
	ErrNoSuchUser   = errors.New("no such user")
	ErrNoSuchRoom   = errors.New("no such room")
	ErrSelf         = errors.New("you cannot do that to yourself")
	ErrNickTaken    = errors.New("that nickname is taken")
	ErrTooManyRooms = errors.New("too many rooms exist already")
	ErrTooMany      = errors.New("list is full")
	ErrNotConsole   = errors.New("only a chat user can do that")
	ErrNoReply      = errors.New("nobody has sent you a private message yet")
	ErrIgnored      = errors.New("that user is ignoring you")
	ErrNotBanned    = errors.New("no such ban")
	ErrDisabled     = errors.New("not enabled on this server")
	ErrRetryLater   = errors.New("too many attempts, try again later")
	ErrAltered      = errors.New("nicknames cannot contain control characters or escape sequences")
	ErrSameNick     = errors.New("that is your nickname already")
	// ErrMutedNick: a muted user may not change nickname (each change would
	// be announced, and the mute holds for the name).
	ErrMutedNick    = errors.New("you are muted; you cannot change your nickname")
	ErrAdminAlready = errors.New("you are an admin already")
)

// Ctx is the handle through which a command reads and changes chat state.
// It is valid only during Runner.Run, on the hub goroutine.
type Ctx struct {
	h *Hub
	c *Conn
	// altered says that sanitizing changed the command line (it held
	// control characters or escape sequences).
	altered bool
}

// UserInfo describes a user for /who and /whois.
type UserInfo struct {
	Nick, Room, Away, Remote string
	Admin, Muted             bool
	ConnectedAt              time.Time
	Idle                     time.Duration
}

// RoomInfo describes a room for /rooms.
type RoomInfo struct {
	Name, Topic string
	Members     int
}

// ClientInfo describes a connection for /clients.
type ClientInfo struct {
	ID, Nick, Remote, Room string
	Console                bool
	ConnectedAt            time.Time
	Stats                  PeerStats
}

// StatsInfo is the server summary for /stats.
type StatsInfo struct {
	Uptime                                  time.Duration
	ConnectionsNow, ConnectionsTotal, Named int64
	Rooms                                   int
	Messages, Deliveries                    int64
	MessagesPerSecond                       float64
	SlowDrops, FloodDrops, Refused          int64
	Bans                                    int
}

// Reply sends lines to the caller, as one message: a long listing counts
// once against the caller's outbound queue limits.
func (x *Ctx) Reply(lines ...string) {
	if len(lines) == 0 {
		return
	}
	size := 0
	for _, l := range lines {
		size += len(l) + 2
	}
	buf := make([]byte, 0, size)
	for _, l := range lines {
		buf = appendWire(buf, l)
		buf = append(buf, '\r', '\n')
	}
	x.h.deliver(x.c, buf)
}

// IsAdmin reports whether the caller may run admin commands.
func (x *Ctx) IsAdmin() bool { return x.c.admin }

// IsConsole reports whether the caller is an operator console.
func (x *Ctx) IsConsole() bool { return x.c.console }

// Name is the caller's nickname, or "console".
func (x *Ctx) Name() string {
	if x.c.console {
		return "console"
	}
	return x.c.nick
}

// Audit logs an admin action or a refused one.
func (x *Ctx) Audit(action string, allowed bool, detail string) {
	ev := x.h.log.Warn()
	if allowed {
		ev = x.h.log.Info()
	}
	ev.Str("session", x.c.ID).Str("remote", x.c.Remote).Str("by", x.Name()).
		Str("action", action).Bool("allowed", allowed).Str("detail", detail).Msg("admin command")
}

func (x *Ctx) user() (*Conn, error) {
	if x.c.console || x.c.nick == "" {
		return nil, ErrNotConsole
	}
	return x.c, nil
}

func (x *Ctx) lookup(nick string) (*Conn, error) {
	_, key, err := x.h.cfg.Nick.CheckNick(nick)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchUser, shortName(nick))
	}
	c, ok := x.h.nicks[key]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchUser, shortName(nick))
	}
	return c, nil
}

// shortName cuts a name that is echoed back in an answer to a few dozen
// bytes (at a rune boundary), so that a huge argument is not sent back.
func shortName(s string) string {
	const maxLen = 40
	if len(s) <= maxLen {
		return s
	}
	n := maxLen
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}

// Emote sends "* nick action" to the caller's room.
func (x *Ctx) Emote(action string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	if x.h.muted(c) {
		return nil
	}
	x.h.roomSay(c.room, c, x.h.encodeLine("* "+c.nick+" "+action))
	return nil
}

// Private sends a private message to nick and confirms it to the caller.
func (x *Ctx) Private(nick, text string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	to, err := x.lookup(nick)
	if err != nil {
		return err
	}
	return x.private(c, to, text)
}

func (x *Ctx) private(c, to *Conn, text string) error {
	if to == c {
		return ErrSelf
	}
	if x.h.muted(c) {
		return nil
	}
	if _, ignored := to.ignores[c.key]; !ignored {
		to.lastFrom = c
		x.h.deliver(to, x.h.encodeLine("*"+c.nick+"* "+text))
	}
	x.Reply("-> *" + to.nick + "* " + text)
	if to.away != "" {
		x.Reply("*** " + to.nick + " is away: " + to.away)
	}
	x.h.Counters.Messages.Add(1)
	return nil
}

// ReplyLast sends a private message to whoever last sent one to the caller.
func (x *Ctx) ReplyLast(text string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	// A pointer, not a nickname: after the sender leaves or renames, a
	// reply never reaches whoever took their old name.
	to := c.lastFrom
	if to == nil {
		return ErrNoReply
	}
	if _, present := x.h.conns[to]; !present || to.nick == "" {
		c.lastFrom = nil
		return fmt.Errorf("%w: they have left", ErrNoSuchUser)
	}
	return x.private(c, to, text)
}

// Rename changes the caller's nickname and tells the room.
func (x *Ctx) Rename(nick string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	if x.altered {
		return ErrAltered
	}
	if x.h.isMuted(c, time.Now()) {
		return ErrMutedNick
	}
	display, key, err := x.h.cfg.Nick.CheckNick(nick)
	if err != nil {
		return err
	}
	if display == c.nick {
		return ErrSameNick
	}
	id := nickID{key: key, loose: x.h.cfg.Nick.Lookalike(display)}
	if x.h.taken(id, c) {
		return ErrNickTaken
	}
	// Only nickname bans: an address ban concerns the connection, not the
	// name it asks for.
	if ban, banned := x.h.findBan(id, netip.Addr{}, time.Now()); banned {
		return fmt.Errorf("that nickname is banned%s", suffix(ban.Reason))
	}
	old, oldKey := c.nick, c.key
	x.h.setNick(c, display, id)
	if key != oldKey {
		// Whoever ignored the old name keeps ignoring the user.
		for m := range x.h.conns {
			if _, ok := m.ignores[oldKey]; ok {
				delete(m.ignores, oldKey)
				m.ignores[key] = struct{}{}
			}
		}
	}
	x.h.notice(c.room, c, "*** "+old+" is now known as "+display)
	x.Reply("*** You are now known as " + display)
	return nil
}

// SetAway sets (or, with empty text, clears) the caller's away message.
func (x *Ctx) SetAway(text string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	c.away = text
	return nil
}

// Ignore stops nick's room text and private messages from reaching the
// caller.
func (x *Ctx) Ignore(nick string) (string, error) {
	c, err := x.user()
	if err != nil {
		return "", err
	}
	to, err := x.lookup(nick)
	if err != nil {
		return "", err
	}
	if to == c {
		return "", ErrSelf
	}
	if c.ignores == nil {
		c.ignores = make(map[string]struct{})
	}
	if _, already := c.ignores[to.key]; already {
		return "", fmt.Errorf("you are already ignoring %s", to.nick)
	}
	if len(c.ignores) >= x.h.cfg.MaxIgnores {
		return "", fmt.Errorf("ignore %w (%d names)", ErrTooMany, x.h.cfg.MaxIgnores)
	}
	c.ignores[to.key] = struct{}{}
	return to.nick, nil
}

// Unignore undoes Ignore. It also works for users who have left.
func (x *Ctx) Unignore(nick string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	_, key, err := x.h.cfg.Nick.CheckNick(nick)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrNoSuchUser, shortName(nick))
	}
	if _, ok := c.ignores[key]; !ok {
		return fmt.Errorf("you are not ignoring %s", shortName(nick))
	}
	delete(c.ignores, key)
	return nil
}

// Ignored lists the keys the caller ignores.
func (x *Ctx) Ignored() []string {
	var out []string
	for k := range x.c.ignores {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Join moves the caller into room name, creating it if needed.
func (x *Ctx) Join(name string) (string, error) {
	c, err := x.user()
	if err != nil {
		return "", err
	}
	r, err := x.h.roomFor(name, true)
	if err != nil {
		return "", err
	}
	if c.room == r {
		return "", fmt.Errorf("you are already in #%s", r.name)
	}
	x.h.joinRoom(c, r)
	return r.name, nil
}

// Part moves the caller back to the lobby.
func (x *Ctx) Part() error {
	c, err := x.user()
	if err != nil {
		return err
	}
	if c.room.key == LobbyName {
		return errors.New("you are in the lobby already")
	}
	x.h.joinRoom(c, x.h.rooms[LobbyName])
	return nil
}

func (h *Hub) roomFor(name string, create bool) (*Room, error) {
	display, key, err := usertext.CheckRoom(name)
	if err != nil {
		return nil, err
	}
	if r, ok := h.rooms[key]; ok {
		return r, nil
	}
	if !create {
		return nil, fmt.Errorf("%w: #%s", ErrNoSuchRoom, display)
	}
	if len(h.rooms) >= h.cfg.MaxRooms {
		return nil, ErrTooManyRooms
	}
	r := h.newRoom(display)
	h.rooms[key] = r
	return r, nil
}

// Rooms lists rooms, most members first.
func (x *Ctx) Rooms() []RoomInfo {
	out := make([]RoomInfo, 0, len(x.h.rooms))
	for _, r := range x.h.rooms {
		out = append(out, RoomInfo{Name: r.name, Topic: r.topic, Members: len(r.members)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Members != out[j].Members {
			return out[i].Members > out[j].Members
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Topic returns a room and its topic: the room named room, or the caller's
// room when room is empty.
func (x *Ctx) Topic(room string) (name, topic string, err error) {
	r, err := x.topicRoom(room)
	if err != nil {
		return "", "", err
	}
	return r.name, r.topic, nil
}

// SetTopic sets the topic of the room named room, or of the caller's room
// when room is empty, and tells its members. Only admins may name a room
// (a console has no room of its own), and it must exist.
func (x *Ctx) SetTopic(room, topic string) error {
	c := x.c
	if room != "" && !c.admin {
		return errors.New("only admins can set the topic of a room by name")
	}
	r, err := x.topicRoom(room)
	if err != nil {
		return err
	}
	if x.h.muted(c) {
		return nil
	}
	if r.key == LobbyName && !c.admin {
		return errors.New("only admins can set the lobby's topic")
	}
	r.topic = topic
	if c.admin {
		// An admin's topic keeps the room (and its topic) across restarts
		// even when empty; a user's topic goes with the room.
		r.persistent = true
	}
	x.h.notice(r, nil, "*** "+x.Name()+" set the topic of #"+r.name+" to: "+topic)
	x.h.persist()
	return nil
}

// topicRoom is the existing room named room, or the caller's room when room
// is empty.
func (x *Ctx) topicRoom(room string) (*Room, error) {
	if room != "" {
		return x.h.roomFor(room, false)
	}
	c, err := x.user()
	if err != nil {
		return nil, err
	}
	return c.room, nil
}

// Who lists the members of room (the caller's room when empty).
func (x *Ctx) Who(room string) (string, []UserInfo, error) {
	var r *Room
	if room == "" {
		c, err := x.user()
		if err != nil {
			return "", nil, errors.New("usage: who ROOM")
		}
		r = c.room
	} else {
		var err error
		if r, err = x.h.roomFor(room, false); err != nil {
			return "", nil, err
		}
	}
	out := make([]UserInfo, 0, len(r.members))
	for _, m := range r.members {
		out = append(out, x.h.userInfo(m))
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Nick) < strings.ToLower(out[j].Nick) })
	return r.name, out, nil
}

// Whois describes one user.
func (x *Ctx) Whois(nick string) (UserInfo, error) {
	c, err := x.lookup(nick)
	if err != nil {
		return UserInfo{}, err
	}
	return x.h.userInfo(c), nil
}

func (h *Hub) userInfo(c *Conn) UserInfo {
	now := time.Now()
	muted := !c.mutedUntil.IsZero() && (c.mutedUntil.Equal(forever) || now.Before(c.mutedUntil))
	ui := UserInfo{Nick: c.nick, Away: c.away, Remote: c.Remote, Admin: c.admin,
		Muted: muted, ConnectedAt: c.connectedAt, Idle: now.Sub(c.lastActive)}
	if c.room != nil {
		ui.Room = c.room.name
	}
	return ui
}

// MOTD returns the message of the day.
func (x *Ctx) MOTD() string { return x.h.motd }

// SetMOTD replaces the message of the day (persisted).
func (x *Ctx) SetMOTD(text string) {
	x.h.motd = text
	x.h.persist()
}

// Quit ends the caller's session: a goodbye, then a clean close.
func (x *Ctx) Quit(reason string) {
	if x.c.console {
		x.Reply("Bye.")
		x.h.drop(x.c, Reason{Kind: KindQuit, Text: reason}, false)
		return
	}
	x.Reply("*** Goodbye, " + x.c.nick + "!")
	x.h.remove(x.c, Reason{Kind: KindQuit, Text: reason})
}

// The limits on /oper attempts.
const (
	// maxOperInFlight bounds the password checks (bcrypt, deliberately
	// slow) running at once on the whole server.
	maxOperInFlight = 4
	// operMaxBackoff caps the wait after repeated failures.
	operMaxBackoff = time.Minute
	// operForget is how long after its last allowed attempt an address's
	// failures are forgotten.
	operForget = 10 * time.Minute
	// operMaxAddrs is the size at which the table sheds addresses that are
	// not waiting out a failure.
	operMaxAddrs = 4096
)

// operLimiter rate limits /oper per client address, so that reconnecting
// does not reset the count, and bounds the checks in flight. It belongs to
// the hub goroutine.
type operLimiter struct {
	inFlight int
	byAddr   map[netip.Addr]*operAttempts
}

// operAttempts is the /oper record of one address.
type operAttempts struct {
	fails   int
	next    time.Time // no attempt before this
	pending bool      // a check is running
}

// attempts returns the record for addr, creating it if needed.
func (l *operLimiter) attempts(addr netip.Addr, now time.Time) *operAttempts {
	if l.byAddr == nil {
		l.byAddr = make(map[netip.Addr]*operAttempts)
	}
	a, ok := l.byAddr[addr]
	if !ok {
		if len(l.byAddr) >= operMaxAddrs {
			for k, old := range l.byAddr {
				if !old.pending && !now.Before(old.next) {
					delete(l.byAddr, k)
				}
			}
		}
		a = &operAttempts{}
		l.byAddr[addr] = a
	} else if !a.pending && now.Sub(a.next) > operForget {
		a.fails = 0
	}
	return a
}

// operBackoff is the wait after the n-th failure in a row: 2s, 4s, ... 1m.
func operBackoff(n int) time.Duration {
	return min(time.Duration(1<<min(n, 6))*time.Second, operMaxBackoff)
}

// Oper checks password off the hub goroutine and makes the caller an admin
// if it matches. Attempts are limited per client address (one at a time,
// then a doubling wait after each failure) and across the server, and every
// failure is logged. The answer comes later, as a reply line.
func (x *Ctx) Oper(password string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	if c.admin {
		return ErrAdminAlready
	}
	h := x.h
	if h.cfg.PasswordCheck == nil {
		return fmt.Errorf("/oper is %w", ErrDisabled)
	}
	now := time.Now()
	lim := &h.oper
	a := lim.attempts(c.Addr, now)
	if a.pending || now.Before(a.next) || lim.inFlight >= maxOperInFlight {
		x.Audit("oper", false, "rate limited")
		return ErrRetryLater
	}
	a.pending = true
	lim.inFlight++
	check, addr := h.cfg.PasswordCheck, c.Addr
	go func() {
		ok := check(password)
		_ = h.Do(func() {
			lim.inFlight--
			now := time.Now()
			a := lim.attempts(addr, now)
			a.pending = false
			x := h.ctx(c)
			if ok {
				delete(lim.byAddr, addr)
			} else {
				a.fails++
				a.next = now.Add(operBackoff(a.fails))
				x.Audit("oper", false, "wrong password")
			}
			if _, present := h.conns[c]; !present {
				return
			}
			if !ok {
				x.Reply("! Wrong password")
				return
			}
			c.admin = true
			x.Audit("oper", true, "")
			x.Reply("*** You are now an admin")
		})
	}()
	return nil
}

// Kick disconnects nick with a reason and returns the nickname kicked.
func (x *Ctx) Kick(nick, reason string) (string, error) {
	to, err := x.lookup(nick)
	if err != nil {
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
	to.peer.Deliver(h.encodeLine("*** You were " + what + " by " + by + suffix(r.Text)))
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
		if c == x.c {
			res.MatchesCaller = true
			continue
		}
		hit = append(hit, c)
	}
	for _, c := range hit {
		h.kick(c, x.Name(), Reason{Kind: KindBanned, Text: reason})
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
	for i, b := range x.h.bans {
		if b.Mask == m {
			x.h.bans = append(x.h.bans[:i], x.h.bans[i+1:]...)
			x.h.forgetBanKeys()
			x.h.persist()
			return m, nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrNotBanned, m)
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

// Mute stops nick's chat for d (0: until unmuted).
func (x *Ctx) Mute(nick string, d time.Duration) (string, error) {
	to, err := x.lookup(nick)
	if err != nil {
		return "", err
	}
	if to == x.c {
		return "", ErrSelf
	}
	to.mutedUntil = forever
	text := "*** You have been muted by " + x.Name()
	if d > 0 {
		to.mutedUntil = time.Now().Add(d)
		text += " for " + d.String()
	}
	x.h.mutes[to.key] = to.mutedUntil // the mute holds for the name
	x.h.deliver(to, x.h.encodeLine(text))
	return to.nick, nil
}

// Unmute lets nick chat again.
func (x *Ctx) Unmute(nick string) (string, error) {
	to, err := x.lookup(nick)
	if err != nil {
		return "", err
	}
	delete(x.h.mutes, to.key)
	if !x.h.isMuted(to, time.Now()) {
		return "", fmt.Errorf("there is no mute on %s", to.nick)
	}
	to.mutedUntil = time.Time{}
	x.h.deliver(to, x.h.encodeLine("*** You may speak again"))
	return to.nick, nil
}

// Wall sends a notice to every named user in every room.
func (x *Ctx) Wall(text string) {
	x.h.fanout(x.h.encodeLine("*** NOTICE from "+x.Name()+": "+text), func(yield func(*Conn) bool) {
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
	to.peer.Deliver(x.h.encodeLine("*** You were moved to #" + r.name + " by " + x.Name()))
	x.h.joinRoom(to, r)
	return to.nick, r.name, nil
}

// Clients lists every connection.
func (x *Ctx) Clients() []ClientInfo {
	out := make([]ClientInfo, 0, len(x.h.conns))
	for c := range x.h.conns {
		ci := ClientInfo{ID: c.ID, Nick: c.nick, Remote: c.Remote, Console: c.console, ConnectedAt: c.connectedAt}
		if c.room != nil {
			ci.Room = c.room.name
		}
		if sr, ok := c.peer.(StatsReporter); ok {
			ci.Stats = sr.Stats()
		}
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ConnectedAt.Before(out[j].ConnectedAt) })
	return out
}

// Stats summarizes the server.
func (x *Ctx) Stats() StatsInfo {
	h := x.h
	return StatsInfo{
		Uptime:            time.Since(h.started),
		ConnectionsNow:    h.Counters.ConnectionsNow.Load(),
		ConnectionsTotal:  h.Counters.ConnectionsTotal.Load(),
		Named:             int64(len(h.nicks)),
		Rooms:             len(h.rooms),
		Messages:          h.Counters.Messages.Load(),
		Deliveries:        h.Counters.Deliveries.Load(),
		MessagesPerSecond: h.rate.perSecond(time.Now()),
		SlowDrops:         h.Counters.SlowDrops.Load(),
		FloodDrops:        h.Counters.FloodDrops.Load(),
		Refused:           h.Counters.Refused.Load(),
		Bans:              len(h.bans),
	}
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
