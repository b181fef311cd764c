package hub

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"telchat/logsample"
	"telchat/message"
	"telchat/store"
	"telchat/usertext"
)

// LobbyName is the room every user starts in.
const LobbyName = "lobby"

// ErrClosed is returned when the hub no longer accepts events.
var ErrClosed = errors.New("hub: closed")

type eventKind uint8

const (
	evConnect eventKind = iota + 1
	evLine
	evNotice
	evLeave
	evConsole
	evPublish
	evFunc
	evShutdown
	evCluster
)

type event struct {
	kind    eventKind
	conn    *Conn
	line    string
	reason  Reason
	room    string
	fn      func()
	pub     *message.Message // evPublish
	cl      *ClusterEvent    // evCluster
	altered bool
	at      time.Duration // when it was sent, since Hub.started (for Counters.Lag)
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
	conns         map[*Conn]struct{}
	nicks         map[string]*Conn // key -> named conn
	lookalikes    map[string]*Conn // Lookalike key -> named conn
	rooms         map[string]*Room // key -> room
	bans          []store.Ban
	banKeys       map[string]nickID    // see banID
	mutes         map[string]time.Time // nickname key -> end of its mute (forever: until /unmute)
	motd          string
	consoles      map[*Conn]struct{}
	shuttingDown  bool
	rate          rateWindow
	oper          operLimiter
	durable       durability
	roomsBy       map[netip.Prefix]int          // rooms each address group created and that still exist
	roomOrder     []*Room                       // scratch for RoomsPage
	groupListings map[netip.Prefix]*tokenBucket // listings each address group may still ask for
	accts         accountIndex
	cluster       clusterState

	// marked is the members a chat line mentions, while it is delivered.
	marked []*Conn
	// scratch is the message of one-off lines (see oneOff).
	scratch message.Message

	// samples bounds the log lines strangers cause (Config.LogPerSecond);
	// lastSummary is when the tick last summed up what it left out.
	samples     *logsample.Set
	lastSummary time.Time

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
	h.samples = logsample.New(cfg.Log, cfg.LogPerSecond)
	h.lastSummary = h.started
	h.wakeTimer = time.NewTimer(time.Hour)
	h.wakeTimer.Stop()
	h.loadBans(cfg.State.Bans)
	h.loadAccounts(cfg.Accounts)
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
func (h *Hub) send(ev event) bool { return h.sendEvent(&ev) }

// sendEvent is send with the event passed by pointer. The readers of every
// connection call it (Input, Notice, Leave, Do) at the deepest point of
// their goroutine's stack, which must stay within its first 2 KiB (see
// client.Session.readLoop), so the usual case, an inbox with room, is a
// non-blocking send that copies the event straight from the caller's
// frame; a select with its own copy of the event, whose lock handling
// doubled the readers' stacks, is left to sendWait.
func (h *Hub) sendEvent(ev *event) bool {
	h.sendMu.RLock()
	defer h.sendMu.RUnlock()
	if h.stopped {
		return false
	}
	ev.at = time.Since(h.started)
	select {
	case h.in <- *ev:
		return true
	default:
		return h.sendWait(ev)
	}
}

// sendWait waits for room in the inbox, or for the hub to stop.
//
//go:noinline
func (h *Hub) sendWait(ev *event) bool {
	select {
	case h.in <- *ev:
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
	if ev := (event{kind: evLine, conn: c, line: line, altered: altered}); !h.sendEvent(&ev) {
		return ErrClosed
	}
	return nil
}

// Notice hands the hub a notice for c from its own connection (a line cut
// for length, a flood): the hub queues it after the replies to every line
// c sent before, so it never jumps ahead of them. text is one line,
// without its line end.
func (h *Hub) Notice(c *Conn, text string) error {
	if ev := (event{kind: evNotice, conn: c, line: text}); !h.sendEvent(&ev) {
		return ErrClosed
	}
	return nil
}

// Leave tells the hub that c ended on its own (hangup, flood, a stalled
// writer). The hub removes it exactly once and calls Finish.
func (h *Hub) Leave(c *Conn, r Reason) error {
	if ev := (event{kind: evLeave, conn: c, reason: r}); !h.sendEvent(&ev) {
		return ErrClosed
	}
	return nil
}

// Publish delivers m (its kind, sender, text and origin) to every member of
// the room m.Room as if it had been said there, and records it in the
// room's history. It is the boundary through which the other servers of a
// cluster feed this one: with m.Origin set (the server it was said on), m
// is a line said there (ClusterLine): a chat line or emote for the room's
// members here, a private message for the user m.To, or a wall
// (Notice) for everyone.
func (h *Hub) Publish(m message.Message) error {
	if m.Origin != "" {
		return h.Cluster(ClusterEvent{Kind: ClusterLine, Origin: m.Origin, Msg: m})
	}
	if !h.send(event{kind: evPublish, room: m.Room, pub: &m}) {
		return ErrClosed
	}
	return nil
}

// Do runs fn on the hub goroutine (for tests and wiring). fn must not block.
func (h *Hub) Do(fn func()) error {
	if ev := (event{kind: evFunc, fn: fn}); !h.sendEvent(&ev) {
		return ErrClosed
	}
	return nil
}

// Shutdown tells every connection that the server is going down (notice),
// finishes them all and stops the hub. It returns when the hub has stopped
// or ctx is done.
func (h *Hub) Shutdown(ctx context.Context, notice string) error {
	select {
	case h.in <- event{kind: evShutdown, line: notice, at: time.Since(h.started)}:
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
	if h.cfg.MOTDFromFile && h.clustered() {
		// Until it is back from the bucket, the bucket's older MOTD is
		// not shown in between (see fresh).
		h.setMOTD(h.motd, "the MOTD file", true)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case ev := <-h.in:
			h.Counters.Lag.observe(time.Since(h.started) - ev.at)
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
	case evNotice:
		if _, ok := h.conns[ev.conn]; ok {
			h.deliver(ev.conn, h.textLine(ev.line))
		}
	case evLeave:
		h.remove(ev.conn, ev.reason)
	case evPublish:
		if r, ok := h.rooms[strings.ToLower(ev.room)]; ok {
			h.roomSay(r, nil, *ev.pub)
		}
	case evFunc:
		ev.fn()
	case evCluster:
		h.clusterEvent(ev.cl)
	case evShutdown:
		h.shutdown(ev.line)
	}
}

func (h *Hub) shutdown(notice string) {
	if notice == "" {
		notice = "server shutting down"
	}
	msg := &message.Message{Kind: message.Notice, Text: notice, Time: time.Now()}
	for c := range h.conns {
		c.peer.Deliver(msg)
		h.drop(c, Reason{Kind: KindShutdown}, false)
	}
	if h.clustered() {
		// An empty list: the others forget this server's users even if
		// some departures did not fit in the relay's buffer.
		h.heartbeat()
	}
	h.shuttingDown = true
	close(h.quit)
}
