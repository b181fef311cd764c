package hub

import (
	"context"
	"errors"
	"iter"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"telchat/store"
	"telchat/usertext"
)

// Reason says why a connection ended. Its text is what other users see in the
// leave line ("alice left #lobby (quit: bye)").
type Reason struct {
	// Kind is one word: quit, hangup, kicked, slow, timeout, flood, banned,
	// shutdown, refused.
	Kind string
	// Text is an optional human detail (a quit message, a kick reason).
	Text string
}

// The reason kinds used by the hub and the client package.
const (
	KindQuit     = "quit"
	KindHangup   = "hangup"
	KindKicked   = "kicked"
	KindSlow     = "slow"
	KindTimeout  = "timeout"
	KindFlood    = "flood"
	KindBanned   = "banned"
	KindShutdown = "shutdown"
	KindRefused  = "refused"
)

// String renders the reason as shown in leave lines.
func (r Reason) String() string {
	if r.Text == "" {
		return r.Kind
	}
	return r.Kind + ": " + r.Text
}

// Abrupt reports whether the connection should be cut without flushing its
// queue (a slow consumer cannot take more output).
func (r Reason) Abrupt() bool { return r.Kind == KindSlow }

// Peer is the hub's view of one connection. The client package implements it
// for TCP sessions and package admin for operator consoles.
type Peer interface {
	// Deliver queues an already-encoded message for the peer without
	// blocking. The hub shares msg between recipients: it must not be
	// modified. Deliver returns false only when the peer is over its outbound
	// limits; the hub then drops the peer as slow.
	Deliver(msg []byte) bool
	// Finish tells the peer that the hub is done with it: flush what is
	// queued (unless r.Abrupt()), then close. It must not block.
	Finish(r Reason)
}

// HeldPeer is a Peer whose Deliver can be split in two, so that the hub can
// hold back the wake-ups of a big fan-out (Config.Coalesce) and lines that
// arrive together leave in one write.
type HeldPeer interface {
	Peer
	// Hold queues msg like Deliver but does not wake the peer's writer. It
	// returns ok false when the peer is over its outbound limits, and wake
	// true when the writer may be asleep and needs a Wake to send msg.
	Hold(msg []byte) (ok, wake bool)
	// Wake wakes the writer for what Hold queued. It must not block.
	Wake()
}

// PeerStats is what a peer reports about its connection for /clients.
type PeerStats struct {
	BytesIn, BytesOut int64
	QueuedMsgs        int
	QueuedBytes       int64
}

// StatsReporter is implemented by peers that can report traffic counters.
type StatsReporter interface {
	Stats() PeerStats
}

// Runner parses and executes one command line ("/who", or a console line).
// It is called on the hub goroutine.
type Runner interface {
	Run(c *Ctx, line string)
}

// Config configures a Hub. Zero values mean the documented defaults.
type Config struct {
	// ServerName is shown in the greeting. Default "telchat".
	ServerName string
	// HistorySize is how many messages each room keeps for new joiners.
	// Default 50; negative disables history.
	HistorySize int
	// AnnounceMax: rooms with more members than this get no join and leave
	// lines (they would swamp a big room). 0 means 200; negative means no
	// limit.
	AnnounceMax int
	// NickTimeout disconnects a client that gives no valid nickname in time.
	// Default 60s.
	NickTimeout time.Duration
	// IdleTimeout disconnects named users idle this long (0: never). They are
	// warned a minute (or a tenth of the timeout, if less) before.
	IdleTimeout time.Duration
	// MaxRooms bounds how many rooms may exist. Default 1000.
	MaxRooms int
	// MaxIgnores bounds each user's ignore list. Default 100.
	MaxIgnores int
	// MaxBans bounds the ban list. Default 10000.
	MaxBans int
	// Coalesce is how long the wake-ups of a fan-out to CoalesceMin or more
	// recipients are held back, so that lines arriving together (several
	// senders in a busy room) are written with one system call per
	// recipient. Such a fan-out takes milliseconds of system calls anyway;
	// the hold adds a small fraction of that. 0: never hold.
	Coalesce time.Duration
	// CoalesceMin is the smallest fan-out whose wake-ups are held. Default 256.
	CoalesceMin int
	// Nick are the nickname rules.
	Nick usertext.NickRules
	// Commands runs command lines. Required.
	Commands Runner
	// State is the durable state loaded at start (bans, MOTD, topics).
	State store.State
	// Saver receives a snapshot whenever the durable state changes. Optional.
	Saver interface{ Submit(store.State) }
	// PasswordCheck verifies an /oper password. It runs on its own goroutine
	// (bcrypt is slow). Nil means /oper is disabled.
	PasswordCheck func(password string) bool
	// OnShutdown is called (on the hub goroutine; it must not block) when an
	// admin asks the server to shut down.
	OnShutdown func(reason string)
	// Log is the hub's logger.
	Log zerolog.Logger
}

func (c *Config) setDefaults() {
	if c.ServerName == "" {
		c.ServerName = "telchat"
	}
	if c.HistorySize == 0 {
		c.HistorySize = 50
	}
	if c.AnnounceMax == 0 {
		c.AnnounceMax = 200
	}
	if c.NickTimeout == 0 {
		c.NickTimeout = 60 * time.Second
	}
	if c.MaxRooms == 0 {
		c.MaxRooms = 1000
	}
	if c.MaxIgnores == 0 {
		c.MaxIgnores = 100
	}
	if c.MaxBans == 0 {
		c.MaxBans = 10000
	}
	if c.CoalesceMin <= 0 {
		c.CoalesceMin = 256
	}
}

// LobbyName is the room every user starts in.
const LobbyName = "lobby"

// ErrClosed is returned when the hub no longer accepts events.
var ErrClosed = errors.New("hub: closed")

type eventKind uint8

const (
	evConnect eventKind = iota + 1
	evLine
	evLeave
	evConsole
	evPublish
	evFunc
	evShutdown
)

type event struct {
	kind    eventKind
	conn    *Conn
	line    string
	reason  Reason
	room    string
	fn      func()
	altered bool
}

// Counters are the hub's monotonic counters, readable from any goroutine.
type Counters struct {
	ConnectionsTotal atomic.Int64
	ConnectionsNow   atomic.Int64
	Messages         atomic.Int64
	Deliveries       atomic.Int64
	SlowDrops        atomic.Int64
	FloodDrops       atomic.Int64
	Refused          atomic.Int64
}

// Hub is the chat state owner. Create it with New, run it with Run.
type Hub struct {
	cfg  Config
	log  zerolog.Logger
	in   chan event
	done chan struct{} // closed when Run returns
	quit chan struct{} // closed when shutdown begins

	// stopping is closed when Run stops reading events; sendMu and stopped
	// make sure that every event that gets into the inbox is seen by the
	// final drain (see stop).
	stopping chan struct{}
	sendMu   sync.RWMutex
	stopped  bool // guarded by sendMu

	// Counters may be read from any goroutine.
	Counters Counters
	started  time.Time

	// Everything below is owned by the Run goroutine.
	conns        map[*Conn]struct{}
	nicks        map[string]*Conn // key -> named conn
	lookalikes   map[string]*Conn // Lookalike key -> named conn (Unicode nicknames only)
	rooms        map[string]*Room // key -> room
	bans         []store.Ban
	banKeys      map[string]nickID    // see banID
	mutes        map[string]time.Time // nickname key -> end of its mute (forever: until /unmute)
	motd         string
	consoles     map[*Conn]struct{}
	shuttingDown bool
	rate         rateWindow
	oper         operLimiter

	// Writers to wake when wakeTimer fires (see Config.Coalesce).
	toWake    []HeldPeer
	wakeTimer *time.Timer
	wakeArmed bool
}

// New returns a hub; call Run to start it.
func New(cfg Config) *Hub {
	cfg.setDefaults()
	h := &Hub{
		cfg:        cfg,
		log:        cfg.Log,
		in:         make(chan event, 4096),
		done:       make(chan struct{}),
		quit:       make(chan struct{}),
		stopping:   make(chan struct{}),
		started:    time.Now(),
		conns:      make(map[*Conn]struct{}),
		nicks:      make(map[string]*Conn),
		lookalikes: make(map[string]*Conn),
		rooms:      make(map[string]*Room),
		consoles:   make(map[*Conn]struct{}),
		mutes:      make(map[string]time.Time),
		motd:       cfg.State.MOTD,
	}
	h.wakeTimer = time.NewTimer(time.Hour)
	h.wakeTimer.Stop()
	now := time.Now()
	for _, b := range cfg.State.Bans {
		if !b.Expired(now) {
			h.bans = append(h.bans, b)
		}
	}
	lobby := h.newRoom(LobbyName)
	h.rooms[lobby.key] = lobby
	for key, topic := range cfg.State.Topics {
		if r, ok := h.rooms[key]; ok {
			r.topic = topic
			continue
		}
		display, k, err := usertext.CheckRoom(key)
		if err != nil || k != key {
			continue
		}
		r := h.newRoom(display)
		r.topic = topic
		r.persistent = true
		h.rooms[k] = r
	}
	if t, ok := cfg.State.Topics[lobby.key]; ok {
		lobby.topic = t
	}
	return h
}

// Done is closed when Run has returned.
func (h *Hub) Done() <-chan struct{} { return h.done }

// Started is when the hub was created.
func (h *Hub) Started() time.Time { return h.started }

// send hands an event to the hub goroutine. It waits while the hub's inbox
// is full (clients wait on the hub, never the other way round) and returns
// false once the hub has stopped. An event it accepts is always handled,
// or drained by stop: a connection it accepts is always finished.
func (h *Hub) send(ev event) bool {
	h.sendMu.RLock()
	defer h.sendMu.RUnlock()
	if h.stopped {
		return false
	}
	select {
	case h.in <- ev:
		return true
	case <-h.stopping:
		return false
	}
}

// stop ends event intake: it releases senders waiting for room in the
// inbox, waits for the senders in flight, then finishes what got in.
func (h *Hub) stop() {
	h.wakeHeld()
	close(h.stopping)
	h.sendMu.Lock()
	h.stopped = true
	h.sendMu.Unlock()
	h.drainAfterShutdown()
}

// Connect registers a new connection. The hub greets it and asks for a
// nickname, or refuses it (a ban) through Peer.Finish. It returns ErrClosed
// when the hub has stopped; the caller then closes the connection itself.
func (h *Hub) Connect(c *Conn) error {
	if !h.send(event{kind: evConnect, conn: c}) {
		return ErrClosed
	}
	return nil
}

// Input hands the hub one sanitized line typed on c. altered says that
// sanitizing changed the line (it held control characters or escape
// sequences): such a line is never accepted as a nickname.
func (h *Hub) Input(c *Conn, line string, altered bool) error {
	if !h.send(event{kind: evLine, conn: c, line: line, altered: altered}) {
		return ErrClosed
	}
	return nil
}

// Leave tells the hub that c ended on its own (hangup, flood, a stalled
// writer). The hub removes it exactly once and calls Finish.
func (h *Hub) Leave(c *Conn, r Reason) error {
	if !h.send(event{kind: evLeave, conn: c, reason: r}) {
		return ErrClosed
	}
	return nil
}

// Publish delivers an already-formatted line (without line end) to every
// member of a room as if it had been said there, and records it in the
// room's history. It is the boundary through which another server could
// feed a room.
func (h *Hub) Publish(room, line string) error {
	if !h.send(event{kind: evPublish, room: room, line: line}) {
		return ErrClosed
	}
	return nil
}

// Do runs fn on the hub goroutine (for tests and wiring). fn must not block.
func (h *Hub) Do(fn func()) error {
	if !h.send(event{kind: evFunc, fn: fn}) {
		return ErrClosed
	}
	return nil
}

// Shutdown tells every connection that the server is going down (notice),
// finishes them all and stops the hub. It returns when the hub has stopped
// or ctx is done.
func (h *Hub) Shutdown(ctx context.Context, notice string) error {
	select {
	case h.in <- event{kind: evShutdown, line: notice}:
	case <-h.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run owns the chat state until Shutdown or ctx is done.
func (h *Hub) Run(ctx context.Context) {
	defer close(h.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case ev := <-h.in:
			h.handle(ev)
			if h.shuttingDown {
				h.stop()
				return
			}
		case now := <-tick.C:
			h.tick(now)
		case <-h.wakeDue():
			h.wakeHeld()
		case <-ctx.Done():
			h.shutdown("server shutting down")
			h.stop()
			return
		}
	}
}

// drainAfterShutdown finishes connections whose events were already queued
// when the hub stopped, so no client is left waiting for a Finish.
func (h *Hub) drainAfterShutdown() {
	for {
		select {
		case ev := <-h.in:
			if ev.conn != nil && ev.kind == evConnect {
				h.Counters.ConnectionsTotal.Add(1)
				ev.conn.peer.Finish(Reason{Kind: KindShutdown})
			}
		default:
			return
		}
	}
}

func (h *Hub) handle(ev event) {
	switch ev.kind {
	case evConnect:
		h.connect(ev.conn)
	case evLine:
		if _, ok := h.conns[ev.conn]; ok {
			h.line(ev.conn, ev.line, ev.altered)
		}
	case evLeave:
		h.remove(ev.conn, ev.reason)
	case evPublish:
		if r, ok := h.rooms[strings.ToLower(ev.room)]; ok {
			h.roomSay(r, nil, h.encodeLine(ev.line))
		}
	case evFunc:
		ev.fn()
	case evShutdown:
		h.shutdown(ev.line)
	}
}

func (h *Hub) shutdown(notice string) {
	if notice == "" {
		notice = "server shutting down"
	}
	msg := h.encodeLine("*** " + notice)
	for c := range h.conns {
		c.peer.Deliver(msg)
		h.drop(c, Reason{Kind: KindShutdown}, false)
	}
	h.shuttingDown = true
	close(h.quit)
}

func (h *Hub) connect(c *Conn) {
	h.Counters.ConnectionsTotal.Add(1)
	now := time.Now()
	c.lastActive = now
	if ban, ok := h.findBan(nickID{}, c.Addr, now); ok {
		h.Counters.Refused.Add(1)
		msg := "! You are banned from this server"
		if ban.Reason != "" {
			msg += ": " + ban.Reason
		}
		c.peer.Deliver(h.encodeLine(msg))
		c.peer.Finish(Reason{Kind: KindBanned, Text: ban.Reason})
		h.log.Info().Str("session", c.ID).Str("remote", c.Remote).Str("ban", ban.Mask).Msg("refused banned address")
		return
	}
	h.conns[c] = struct{}{}
	h.Counters.ConnectionsNow.Add(1)
	if c.console {
		h.consoles[c] = struct{}{}
		return
	}
	c.peer.Deliver(h.encode("Welcome to " + h.cfg.ServerName + "! Nicknames are 1 to 24 letters, digits, _ or -.\nChoose a nickname: "))
}

// line handles one input line from a registered connection.
func (h *Hub) line(c *Conn, line string, altered bool) {
	c.lastActive = time.Now()
	c.warnedIdle = false
	if c.console {
		h.cfg.Commands.Run(h.ctx(c), line)
		return
	}
	if c.nick == "" {
		h.claimNick(c, line, altered)
		return
	}
	if line == "" {
		return
	}
	if strings.HasPrefix(line, "/") && !strings.HasPrefix(line, "//") {
		x := h.ctx(c)
		x.altered = altered
		h.cfg.Commands.Run(x, line)
		return
	}
	if strings.HasPrefix(line, "//") {
		line = line[1:]
	}
	h.say(c, line)
}

func (h *Hub) ctx(c *Conn) *Ctx { return &Ctx{h: h, c: c} }

func (h *Hub) claimNick(c *Conn, line string, altered bool) {
	display, key, err := h.cfg.Nick.CheckNick(strings.TrimSpace(line))
	if altered {
		err = errors.New("nicknames cannot contain control characters or escape sequences")
	}
	id := nickID{key: key}
	if err == nil {
		id.loose = h.cfg.Nick.Lookalike(display)
		if h.taken(id, c) {
			err = errors.New("that nickname is taken")
		}
	}
	if err == nil {
		if ban, ok := h.findBan(id, c.Addr, time.Now()); ok {
			h.Counters.Refused.Add(1)
			msg := "! You are banned from this server"
			if ban.Reason != "" {
				msg += ": " + ban.Reason
			}
			c.peer.Deliver(h.encodeLine(msg))
			h.drop(c, Reason{Kind: KindBanned, Text: ban.Reason}, false)
			return
		}
	}
	if err != nil {
		c.peer.Deliver(h.encode("! " + usertext.Sentence(err.Error()) + "\nChoose a nickname: "))
		return
	}
	h.setNick(c, display, id)
	c.namedAt = time.Now()
	h.applyMute(c, c.namedAt)
	h.log.Info().Str("session", c.ID).Str("remote", c.Remote).Str("nick", display).Msg("named")
	c.peer.Deliver(h.encodeLine("*** Welcome, " + display + "! Type /help for commands."))
	if h.motd != "" {
		c.peer.Deliver(h.encodeLine("*** " + h.motd))
	}
	h.joinRoom(c, h.rooms[LobbyName])
}

// say sends chat text from c to its room.
func (h *Hub) say(c *Conn, text string) {
	if h.muted(c) {
		return
	}
	buf := make([]byte, 0, len(c.nick)+len(text)+6)
	buf = append(buf, '<')
	buf = append(buf, c.nick...)
	buf = append(buf, "> "...)
	buf = appendWire(buf, text)
	buf = append(buf, '\r', '\n')
	h.roomSay(c.room, c, buf)
}

// muted reports whether c is muted and, if so, tells c its message was
// not sent.
func (h *Hub) muted(c *Conn) bool {
	if !h.isMuted(c, time.Now()) {
		return false
	}
	c.peer.Deliver(h.encodeLine("! You are muted; your message was not sent"))
	return true
}

// isMuted reports whether c's mute is in force at now, forgetting one that
// has run out.
func (h *Hub) isMuted(c *Conn, now time.Time) bool {
	if c.mutedUntil.IsZero() {
		return false
	}
	if !c.mutedUntil.Equal(forever) && now.After(c.mutedUntil) {
		c.mutedUntil = time.Time{}
		return false
	}
	return true
}

// applyMute gives c, just named, the mute its nickname is under: a mute
// holds for the name, so leaving and coming back does not end it.
func (h *Hub) applyMute(c *Conn, now time.Time) {
	until, ok := h.mutes[c.key]
	switch {
	case !ok:
	case until.Equal(forever) || now.Before(until):
		c.mutedUntil = until
	default:
		delete(h.mutes, c.key)
	}
}

// roomSay delivers msg to every member of r except from, records it in the
// room's history, and drops recipients that cannot take it.
func (h *Hub) roomSay(r *Room, from *Conn, msg []byte) {
	h.Counters.Messages.Add(1)
	h.rate.add(time.Now())
	fromKey := ""
	if from != nil {
		fromKey = from.key
	}
	r.record(fromKey, msg, h.cfg.HistorySize)
	// The hot path: a plain loop (an iterator closure here costs
	// allocations per message; see BenchmarkBroadcast).
	var slow []*Conn
	n := int64(0)
	hold := h.cfg.Coalesce > 0 && len(r.members) >= h.cfg.CoalesceMin
	for _, m := range r.members {
		if m == from || from != nil && m.ignoring(from) {
			continue
		}
		n++
		if hold && m.held != nil {
			ok, wake := m.held.Hold(msg)
			if wake {
				h.toWake = append(h.toWake, m.held)
			}
			if !ok {
				slow = append(slow, m)
			}
			continue
		}
		if !m.peer.Deliver(msg) {
			slow = append(slow, m)
		}
	}
	if len(h.toWake) > 0 && !h.wakeArmed {
		h.wakeTimer.Reset(h.cfg.Coalesce)
		h.wakeArmed = true
	}
	h.Counters.Deliveries.Add(n)
	h.dropSlow(slow)
}

// wakeDue is the channel of the held wake-ups' timer, nil when none is
// pending.
func (h *Hub) wakeDue() <-chan time.Time {
	if !h.wakeArmed {
		return nil
	}
	return h.wakeTimer.C
}

// wakeHeld wakes every writer whose wake-up was held back.
func (h *Hub) wakeHeld() {
	if h.wakeArmed {
		h.wakeTimer.Stop()
		h.wakeArmed = false
	}
	for i, p := range h.toWake {
		p.Wake()
		h.toWake[i] = nil
	}
	h.toWake = h.toWake[:0]
}

// dropSlow drops connections found over their limits during a fan-out. It
// runs after the loop: dropping one while ranging over a room would move
// another member under the iteration.
func (h *Hub) dropSlow(slow []*Conn) {
	for _, c := range slow {
		h.slow(c)
	}
}

// fanout hands msg to every connection recipients yields, then drops those
// over their limits. It serves the rare notices; chat uses roomSay.
func (h *Hub) fanout(msg []byte, recipients iter.Seq[*Conn]) {
	var slow []*Conn
	for c := range recipients {
		if !c.peer.Deliver(msg) {
			slow = append(slow, c)
		}
	}
	h.dropSlow(slow)
}

// deliver sends msg to one connection, dropping it if it is over its limits.
func (h *Hub) deliver(c *Conn, msg []byte) {
	if !c.peer.Deliver(msg) {
		h.slow(c)
	}
}

func (h *Hub) slow(c *Conn) {
	if _, ok := h.conns[c]; !ok {
		return
	}
	h.remove(c, Reason{Kind: KindSlow}) // counted in drop
}

// notice sends a notice line to every member of r except skip, unless the
// room is too big for notices.
func (h *Hub) notice(r *Room, skip *Conn, text string) {
	if h.cfg.AnnounceMax > 0 && len(r.members) > h.cfg.AnnounceMax {
		return
	}
	h.fanout(h.encodeLine(text), func(yield func(*Conn) bool) {
		for _, m := range r.members {
			if m != skip && !yield(m) {
				return
			}
		}
	})
}

// joinRoom moves c into r (leaving its current room), announces it and
// shows the room's topic and history.
func (h *Hub) joinRoom(c *Conn, r *Room) {
	if _, ok := h.conns[c]; !ok || c.room == r {
		return // gone (dropped as slow just before): never a ghost member
	}
	if old := c.room; old != nil {
		h.leaveRoom(c, "*** "+c.nick+" left #"+old.name+" (joined #"+r.name+")")
	}
	r.add(c)
	c.room = r
	h.notice(r, c, "*** "+c.nick+" joined #"+r.name)
	others := len(r.members) - 1
	info := "*** You are now in #" + r.name + " with " + plural(others, "other user", "other users")
	c.peer.Deliver(h.encodeLine(info))
	if r.topic != "" {
		c.peer.Deliver(h.encodeLine("*** Topic for #" + r.name + ": " + r.topic))
	}
	if hist := r.historyBlock(c.ignores); len(hist) > 0 {
		h.deliver(c, hist)
	}
}

// leaveRoom takes c out of its room with a notice to the others, and removes
// the room if it became empty (the lobby and rooms with topics stay).
func (h *Hub) leaveRoom(c *Conn, noticeText string) {
	r := c.room
	if r == nil {
		return
	}
	r.remove(c)
	c.room = nil
	if noticeText != "" {
		h.notice(r, nil, noticeText)
	}
	if len(r.members) == 0 && r.key != LobbyName && !r.persistent {
		delete(h.rooms, r.key)
	}
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
	switch r.Kind {
	case KindFlood:
		h.Counters.FloodDrops.Add(1)
	case KindSlow: // a full queue (slow) or a stalled writer (Leave)
		h.Counters.SlowDrops.Add(1)
	}
	if c.nick != "" {
		h.unindexNick(c)
		text := ""
		if announce {
			text = "*** " + c.nick + " left #" + c.room.name + " (" + r.String() + ")"
		}
		h.leaveRoom(c, text)
		h.log.Info().Str("session", c.ID).Str("remote", c.Remote).Str("nick", c.nick).Str("reason", r.String()).Msg("left")
	}
	c.peer.Finish(r)
}

func (h *Hub) tick(now time.Time) {
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
			if now.Sub(c.connectedAt) >= h.cfg.NickTimeout {
				c.peer.Deliver(h.encodeLine("\n! Timed out waiting for a nickname"))
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
			c.peer.Deliver(h.encodeLine("! Disconnected after " + h.cfg.IdleTimeout.String() + " idle"))
			h.remove(c, Reason{Kind: KindTimeout, Text: "idle"})
		case idle >= warnAt && !c.warnedIdle:
			c.warnedIdle = true
			left := h.cfg.IdleTimeout - idle
			h.deliver(c, h.encodeLine("! You have been idle for "+roughDuration(idle, false)+
				"; send anything within "+roughDuration(left, true)+" to stay connected"))
		}
	}
}

// roughDuration formats d for people: whole seconds (rounded up when up is
// set, else down) from a second on, hundredths below.
func roughDuration(d time.Duration, up bool) string {
	switch {
	case d < time.Second:
		return max(d, 0).Round(10 * time.Millisecond).String()
	case up:
		return (d + time.Second - 1).Truncate(time.Second).String()
	default:
		return d.Truncate(time.Second).String()
	}
}

// nickID is what a nickname is compared by: its key (see
// usertext.NickRules.CheckNick) and, with Unicode nicknames, its Lookalike
// key. The zero nickID is "no nickname".
type nickID struct{ key, loose string }

// taken reports whether a connection other than self uses a nickname that
// id matches.
func (h *Hub) taken(id nickID, self *Conn) bool {
	if other, ok := h.nicks[id.key]; ok && other != self {
		return true
	}
	other, ok := h.lookalikes[id.loose]
	return id.loose != "" && ok && other != self
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

// findBan returns the first unexpired ban matching id (may be the zero
// nickID) or addr.
func (h *Hub) findBan(id nickID, addr netip.Addr, now time.Time) (store.Ban, bool) {
	for _, b := range h.bans {
		if h.banMatches(b, id, addr, now) {
			return b, true
		}
	}
	return store.Ban{}, false
}

// banMatches reports whether b applies to a client whose nickname has id
// (the zero nickID before login) and whose address is addr. With Unicode
// nicknames a key is a confusable skeleton, so a nickname ban is compared
// by the keys of its own nickname: a ban on "сор" (Cyrillic) applies to
// "сор" and to "cop", one on "alice" to "aIice".
func (h *Hub) banMatches(b store.Ban, id nickID, addr netip.Addr, now time.Time) bool {
	if h.cfg.Nick.Unicode && id.key != "" {
		if nick, ok := b.NickMask(); ok {
			if b.Expired(now) {
				return false
			}
			bid := h.banID(b.Mask, nick)
			return bid.key == id.key || bid.loose != "" && bid.loose == id.loose
		}
	}
	return b.Matches(id.key, addr, now)
}

// banID returns the nickID of a nickname ban mask, cached: with Unicode
// nicknames a key takes normalization and skeletons. The cache is emptied
// whenever bans are removed (forgetBanKeys), so it never holds more entries
// than there are bans.
func (h *Hub) banID(mask, nick string) nickID {
	if id, ok := h.banKeys[mask]; ok {
		return id
	}
	id := nickID{key: nick} // a mask the rules refuse as a name is compared as written
	if display, key, err := h.cfg.Nick.CheckNick(nick); err == nil {
		id = nickID{key: key, loose: h.cfg.Nick.Lookalike(display)}
	}
	if h.banKeys == nil {
		h.banKeys = make(map[string]nickID)
	}
	h.banKeys[mask] = id
	return id
}

// forgetBanKeys empties banKey's cache after a change to the ban list.
func (h *Hub) forgetBanKeys() { clear(h.banKeys) }

// persist hands a snapshot of the durable state to the saver.
func (h *Hub) persist() {
	if h.cfg.Saver == nil {
		return
	}
	st := store.State{Version: 1, MOTD: h.motd, Topics: map[string]string{}}
	st.Bans = append([]store.Ban(nil), h.bans...)
	for k, r := range h.rooms {
		if r.topic != "" && (r.persistent || k == LobbyName) {
			st.Topics[k] = r.topic
		}
	}
	h.cfg.Saver.Submit(st)
}

// encodeLine encodes one line of text for the wire, with its line end.
func (h *Hub) encodeLine(text string) []byte {
	buf := make([]byte, 0, len(text)+2)
	buf = appendWire(buf, text)
	return append(buf, '\r', '\n')
}

// encode encodes text that carries its own line ends ("\n").
func (h *Hub) encode(text string) []byte {
	return appendWire(make([]byte, 0, len(text)+4), text)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}
