package client

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"telchat/hub"
	"telchat/render"
	"telchat/telnet"
)

// Session is one connected user: it owns the TCP connection, one reader
// goroutine (bytes -> Telnet decoder -> lines -> hub) and one writer goroutine
// (outbound queue -> writev, with a deadline whenever a write can block).
type Session struct {
	conn *net.TCPConn
	srv  *Server
	hc   *hub.Conn
	ip   *ipState // its address's entry in the server's table, for the queue budget
	tls  bool     // the client came through a TLS listener (conn is the proxy's inner end)
	// msgLimit is the session's message rate limiter (nil: no limit when it
	// started); set before the session is tracked, then only read.
	// SetLimits changes its rate.
	msgLimit *rate.Limiter

	// state is the session's State; it and end change only in setState,
	// under mu. state is atomic so that State can be read without mu.
	state atomic.Int32
	end   ending // guarded by mu; kept next to state, in what would be its padding
	// profile is how the session's messages are rendered; the hub's
	// goroutine owns it (it renders in Deliver and Hold).
	profile render.Profile

	bytesIn    atomic.Int64
	bytesOut   atomic.Int64
	writeCalls atomic.Int64 // write and writev system calls

	// Outbound queue, shared by the hub (Deliver), the reader (replies to
	// Telnet negotiation) and the writer.
	mu      sync.Mutex
	more    sync.Cond // on mu; signalled when the queue stops being empty or the session starts finishing
	queue   [][]byte
	ctrl    [][]byte // Telnet replies, written before queued chat
	pending int64
	// halt is closed when a reader waiting for the message rate must stop
	// waiting: the session is ending or its connection is closing (see
	// haltedLocked; setState closes it). Made only when a reader first has to wait,
	// so that a session that never floods pays nothing for it.
	halt chan struct{}

	// Guarded by mu, like the queue, because the hub (commands, prompts),
	// the reader (keys, negotiation) and the writer (redraws) all use them.
	dec    *telnet.Decoder // the Telnet decoder; nil while the session is at rest (see releaseDecoder)
	term   *terminal       // the user's terminal, once known (see terminal)
	asking string          // the question of the last prompt not yet answered

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
	raw, err := s.conn.SyscallConn()
	if err != nil { // only for a connection that is not open
		s.debug().Err(err).Msg("no raw connection")
		s.closeConn()
		return false
	}
	s.out.init(raw, s.srv.bufs)
	if err := s.srv.cfg.Hub.Connect(s.hc); err != nil {
		s.Finish(hub.Reason{Kind: hub.KindShutdown})
	} else {
		s.setState(StateActive, endNone)
	}
	if s.srv.cfg.Negotiate {
		s.offer()
	}
	s.readerDone.Add(1)
	go s.readLoop(raw)
	return true
}
