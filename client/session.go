package client

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"telchat/hub"
)

// State is a session's place in its lifecycle, in the spirit of
// net/http.ConnState.
type State int32

const (
	// StateNew: accepted, not yet registered with the hub.
	StateNew State = iota
	// StateActive: registered with the hub; lines flow both ways.
	StateActive
	// StateClosing: the hub is done with the session; the writer is
	// flushing, half-closing and lingering.
	StateClosing
	// StateClosed: the connection is closed and both goroutines have ended.
	StateClosed
)

var stateNames = [...]string{"new", "active", "closing", "closed"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "unknown"
	}
	return stateNames[s]
}

// Session is one connected user: it owns the TCP connection, one reader
// goroutine (bytes -> Telnet decoder -> lines -> hub) and one writer goroutine
// (outbound queue -> writev, with a deadline whenever a write can block).
type Session struct {
	conn *net.TCPConn
	srv  *Server
	hc   *hub.Conn

	state atomic.Int32
	// Guarded by mu; kept next to state, in what would be its padding.
	finishing bool         // set by Finish
	abrupt    bool         // set by Finish (hub.Reason.Abrupt): drop the queue, close at once
	failure   writeFailure // set by the writer when it gives up
	halted    bool         // the reader must not wait any more (see halt)

	bytesIn  atomic.Int64
	bytesOut atomic.Int64

	// Outbound queue, shared by the hub (Deliver), the reader (replies to
	// Telnet negotiation) and the writer.
	mu      sync.Mutex
	more    sync.Cond // on mu; signalled when the queue stops being empty or the session starts finishing
	queue   [][]byte
	ctrl    [][]byte // Telnet replies, written before queued chat
	pending int64
	// halt is closed (with halted set) when a reader waiting for the
	// message rate must stop waiting: the session is finishing or its
	// connection is closing. Made only when a reader first has to wait,
	// so that a session that never floods pays nothing for it.
	halt chan struct{}

	out        writer // used by the writer goroutine only
	readerDone sync.WaitGroup
}

// debug starts a debug log line carrying the session id and address. The
// fields are added per line rather than kept in a child logger, which would
// cost every idle connection its own encoded copy.
func (s *Session) debug() *zerolog.Event {
	return s.srv.cfg.Log.Debug().Str("session", s.hc.ID).Str("remote", s.hc.Remote)
}

// ID is the session id carried by every log line of the connection.
func (s *Session) ID() string { return s.hc.ID }

// State reports where the session is in its lifecycle.
func (s *Session) State() State { return State(s.state.Load()) }

func (s *Session) setState(st State) {
	s.state.Store(int32(st))
	if s.srv.cfg.ConnState != nil {
		s.srv.cfg.ConnState(s, st)
	}
}

// serve runs the writer on the calling goroutine and the reader on a new
// one, and returns when both have ended and the connection is closed.
//
// The reader gets the new goroutine because its deepest call (a line to
// the hub) needs more of the initial stack than the writer's (see
// readLoop); the writer runs on top of the server's frames.
func (s *Session) serve() {
	if s.start() {
		// Every way out of writeLoop waits for the reader: once it
		// returns, the session is closed.
		s.writeLoop()
	}
}

// start registers the session with the hub and starts the reader. It
// reports false, having closed the connection, when there is none to serve.
//
//go:noinline
func (s *Session) start() bool {
	s.more.L = &s.mu // before the hub or the reader can queue output
	raw, err := s.conn.SyscallConn()
	if err != nil { // only for a connection that is not open
		s.debug().Err(err).Msg("no raw connection")
		s.closeConn()
		return false
	}
	s.out.init(raw, s.srv.bufs)
	s.setState(StateNew)
	if err := s.srv.cfg.Hub.Connect(s.hc); err != nil {
		s.Finish(hub.Reason{Kind: hub.KindShutdown})
	} else {
		s.setState(StateActive)
	}
	s.readerDone.Add(1)
	go s.readLoop(raw)
	return true
}
