package hub

import (
	"net/netip"
	"strconv"
	"time"

	"telchat/telnet"
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
	loose      string // the nickname's Lookalike key ("" without Unicode nicknames)
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
}

// NewConn describes a new network connection for Hub.Connect.
func NewConn(id, remote string, addr netip.Addr, peer Peer) *Conn {
	held, _ := peer.(HeldPeer)
	return &Conn{ID: id, Remote: remote, Addr: addr.Unmap(), peer: peer, held: held, connectedAt: time.Now()}
}

// NewConsole describes an operator console for Hub.Connect: it has admin
// rights, no nickname and no room, and every line it sends is a command.
func NewConsole(id, remote string, peer Peer) *Conn {
	return &Conn{ID: id, Remote: remote, peer: peer, console: true, admin: true, connectedAt: time.Now()}
}

// ignoring reports whether c has /ignore'd from.
func (c *Conn) ignoring(from *Conn) bool {
	if len(c.ignores) == 0 {
		return false
	}
	_, ok := c.ignores[from.key]
	return ok
}

// forever marks a mute without end.
var forever = time.Unix(1<<62, 0)

func appendWire(dst []byte, s string) []byte { return telnet.AppendText(dst, s) }

func itoa(n int) string { return strconv.Itoa(n) }

// rateWindow counts messages over the last few seconds for /stats.
type rateWindow struct {
	sec    int64
	counts [8]int64
}

func (w *rateWindow) add(now time.Time) {
	s := now.Unix()
	w.advance(s)
	w.counts[s%int64(len(w.counts))]++
}

func (w *rateWindow) advance(s int64) {
	if s == w.sec {
		return
	}
	for i := w.sec + 1; i <= s && i <= w.sec+int64(len(w.counts)); i++ {
		w.counts[i%int64(len(w.counts))] = 0
	}
	w.sec = s
}

// perSecond is the average over the last complete seconds.
func (w *rateWindow) perSecond(now time.Time) float64 {
	s := now.Unix()
	w.advance(s)
	var total int64
	for i := int64(1); i < int64(len(w.counts)); i++ {
		total += w.counts[(s-i+int64(len(w.counts)))%int64(len(w.counts))]
	}
	return float64(total) / float64(len(w.counts)-1)
}
