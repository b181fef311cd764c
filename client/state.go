package client

import (
	"time"

	"telchat/hub"
)

// State is a session's place in its lifecycle, in the spirit of
// net/http.ConnState. It only moves forward.
type State int32

const (
	// StateNew: accepted and tracked by the server, not yet registered
	// with the hub.
	StateNew State = iota
	// StateActive: registered with the hub; lines flow both ways.
	StateActive
	// StateClosing: the session has ended (see ending): it is half-closed
	// and lingering after its last lines, or being reset.
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

// keepState asks setState to leave the State as it is and record only an
// ending; stateUntracked is a session's State before its setState(StateNew).
const (
	keepState      State = -1
	stateUntracked State = -1
)

// ending is how a session's end began. The first cause is kept, except
// that endForced (Server.Shutdown out of time) overrides a graceful one.
type ending uint8

const (
	endNone       ending = iota // not ending
	endFinish                   // the hub finished it: flush the queue, half-close, linger, close
	endCut                      // the hub cut it (slow): drop the queue, reset
	endStalled                  // the writer made no progress for the write timeout: reset; the hub hears "slow"
	endWriteError               // a write failed: reset; the hub hears "hangup: write error"
	endForced                   // Server.Shutdown ran out of time: drop the queue, close at once
)

// abrupt reports whether the ending drops what is queued rather than
// flushing it.
func (e ending) abrupt() bool { return e >= endCut }

// writerReason is what the reader tells the hub when the writer ended the
// session; ok is false for endings the hub caused or no longer hears.
func (e ending) writerReason() (r hub.Reason, ok bool) {
	switch e {
	case endStalled:
		return hub.Reason{Kind: hub.KindSlow}, true
	case endWriteError:
		return hub.Reason{Kind: hub.KindHangup, Text: "write error"}, true
	}
	return hub.Reason{}, false
}

// State reports where the session is in its lifecycle.
func (s *Session) State() State { return State(s.state.Load()) }

// ending reports how the session's end began (endNone while it has not).
func (s *Session) ending() ending {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end
}

// haltedLocked reports whether a reader waiting for the message rate must
// stop waiting, now and for good: the session is ending or closing. s.mu
// must be held.
func (s *Session) haltedLocked() bool {
	return s.end != endNone || State(s.state.Load()) >= StateClosing
}

// setState is the one place where a session's lifecycle changes: it moves
// the session to st (never backwards; keepState to stay) and records e as
// how its end began (endNone: no change). It acts on each change: an
// ending wakes the writer, an abrupt one drops the queue and interrupts a
// write stuck on a peer that does not read, a forced one closes the
// connection; a new State is reported to the server's books (track) and
// to Config.ConnState. It never blocks.
func (s *Session) setState(st State, e ending) {
	s.mu.Lock()
	from := State(s.state.Load())
	changed := st > from
	if changed {
		s.state.Store(int32(st))
	}
	ends := e != endNone && (s.end == endNone || e == endForced && !s.end.abrupt())
	if ends {
		s.end = e
		if e.abrupt() {
			s.queue, s.ctrl = nil, nil
			s.addPendingLocked(-s.pending)
		}
	}
	if (ends || changed) && s.halt != nil && s.haltedLocked() {
		close(s.halt) // a reader waiting for the message rate reads no more
		s.halt = nil
	}
	s.mu.Unlock()
	if ends {
		if e.abrupt() {
			_ = s.conn.SetWriteDeadline(time.Now())
		}
		if e == endForced {
			s.closeConn()
		}
		s.more.Signal()
	}
	if changed {
		s.srv.track(s, st)
		if s.srv.cfg.ConnState != nil {
			s.srv.cfg.ConnState(s, st)
		}
	}
}

// track keeps the server's books on its sessions, as net/http's trackConn
// does: a new session is listed (so a forced Shutdown reaches it) and
// counted; a closed one is forgotten and its address's count given back.
// A session that starts after Shutdown gave up waiting is forced at once.
func (srv *Server) track(s *Session, st State) {
	switch st {
	case StateNew:
		srv.mu.Lock()
		srv.sessions[s] = struct{}{}
		forced := srv.forced
		srv.mu.Unlock()
		srv.active.Add(1)
		if forced {
			s.setState(keepState, endForced)
		}
	case StateClosed:
		srv.mu.Lock()
		delete(srv.sessions, s)
		srv.foldLocked(s)
		srv.admitted--
		if ip := srv.perIP[srv.cfg.Hub.AddrGroup(s.hc.Addr)]; ip != nil {
			ip.conns--
			ip.seen = time.Now()
		}
		srv.mu.Unlock()
		srv.active.Add(-1)
	}
}
