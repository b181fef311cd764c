package hub

import (
	"telchat/message"
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
	// Deliver queues a message for the peer without blocking; the peer
	// renders it for its terminal (package render), which keeps each
	// rendering in msg for the next recipient with the same profile. It is
	// called on the hub goroutine. The hub shares msg between recipients
	// and reuses it once Deliver has returned: the peer must not modify it
	// or keep it (the rendered bytes it may keep). Deliver returns false
	// only when the peer is over its outbound limits; the hub then drops
	// the peer as slow.
	Deliver(msg *message.Message) bool
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
	Hold(msg *message.Message) (ok, wake bool)
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

// ListingRunner is a Runner that can tell which lines ask for a listing
// (/who, /rooms). It may be called from any goroutine.
type ListingRunner interface {
	Runner
	IsListing(line string) bool
}
