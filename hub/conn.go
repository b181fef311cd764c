package hub

import (
	"net/netip"
	"time"
)

// Conn is the hub's record of one connection. The client package creates it
// with NewConn; its exported fields are fixed at creation and may be read
// anywhere, everything else belongs to the hub goroutine.
type Conn struct {
	// ID is the session id (a UUID) that every log line of the connection
	// carries.
	ID string
	// Remote is the peer's address as text ("127.0.0.1:50312").
	Remote string
	// Addr is the peer's IP address, for bans.
	Addr netip.Addr

	peer        Peer
	held        HeldPeer // peer, when it can hold wake-ups; else nil
	console     bool
	connectedAt time.Time

	// Owned by the hub goroutine.
	nick, key  string
	loose      string // the nickname's Lookalike key
	namedAt    time.Time
	room       *Room
	roomIndex  int
	lastActive time.Time
	warnedIdle bool
	away       string
	admin      bool
	mutedUntil time.Time
	ignores    map[string]struct{}
	lastFrom   *Conn // the last user who sent a private message
	// lastFromRemote is the nickname key of the last sender when that was
	// a user of another server (lastFrom is then nil).
	lastFromRemote string
	claiming       bool         // a cluster claim of a nickname is in flight
	private        tokenBucket  // bytes of private messages others may still send c
	mentioned      bool         // the chat line being delivered mentions this user (see Hub.mentions)
	secret         *secretState // a password dialogue (see accounts.go); nil before the first
	loggedIn       bool         // gave the password of its registered nickname
	nickSince      time.Time    // start of the nickname timeout (connect, or a refused login)
	// waiting holds the lines that came while claiming, handled in order
	// once the claim is answered (at most maxWaiting; see Hub.wait).
	waiting []waitingLine
	// operPending: this connection's /oper password check is running or
	// waiting for a slot (its next lines wait, see busy).
	operPending bool
}

// NewConn describes a new network connection for Hub.Connect.
func NewConn(id, remote string, addr netip.Addr, peer Peer) *Conn {
	held, _ := peer.(HeldPeer)
	now := time.Now()
	return &Conn{ID: id, Remote: remote, Addr: addr.Unmap(), peer: peer, held: held, connectedAt: now, nickSince: now}
}

// NewConsole describes an operator console for Hub.Connect: it has admin
// rights, no nickname and no room, and every line it sends is a command.
func NewConsole(id, remote string, peer Peer) *Conn {
	return &Conn{ID: id, Remote: remote, peer: peer, console: true, admin: true, connectedAt: time.Now()}
}

// ignoresKey reports whether c has /ignore'd the nickname with key.
func (c *Conn) ignoresKey(key string) bool {
	if len(c.ignores) == 0 {
		return false
	}
	_, ok := c.ignores[key]
	return ok
}

// AddrGroup returns the group of addresses that addr counts in for every
// per-address limit (connections, connect rate, /oper backoff, shares of
// server-wide budgets): by default the address itself for IPv4 and its /64
// for IPv6 (see Config.AddrGroups and package ipgroup). The zero Addr, as a
// console has, gives the zero Prefix. It only reads the configuration and
// may be called from any goroutine.
func (h *Hub) AddrGroup(addr netip.Addr) netip.Prefix { return h.cfg.AddrGroups.Of(addr) }
