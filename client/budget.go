package client

import (
	"net/netip"
	"time"
)

// The server-wide budget for queued output.
//
// Every byte a session holds for its client (queued, or in the writer's
// hands until written) counts against three limits: the session's own cap
// (Config.MaxQueueBytes), its address's share (Config.MaxQueuePerIP) and the
// server's budget (Config.MaxQueueTotal). A line sent to a thousand users
// counts a thousand times, so the real memory is at most the count.
//
// The share and the budget are not hard walls that would refuse the next
// line to whoever comes next: a session may queue a line only if its queue,
// with the line, holds at most twice what would be left of the budget (and
// of its address's share) after it. While plenty is left this is the
// session's own cap; as the budget runs out the cap falls, below the
// biggest queues first, and a session over it is cut as slow on its next
// line. The total never passes the budget, and clients that keep up (whose
// queues stay near empty) are cut only when it is all but spent.

// queueRoom reports whether a session holding pending bytes may queue n
// more (s.mu held).
func (s *Session) queueRoomLocked(n int64) bool {
	cfg := &s.srv.cfg
	limit := cfg.MaxQueueBytes
	if b := cfg.MaxQueueTotal; b > 0 {
		limit = min(limit, 2*(b-s.srv.queued.Load()-n))
	}
	if a := cfg.MaxQueuePerIP; a > 0 && s.ip != nil {
		limit = min(limit, 2*(a-s.ip.queued.Load()-n))
	}
	return s.pending+n <= limit
}

// addPendingLocked changes the bytes the session holds by d, and the
// server's and the address's counts with it (s.mu held).
func (s *Session) addPendingLocked(d int64) {
	if d == 0 {
		return
	}
	s.pending += d
	s.srv.queued.Add(d)
	if s.ip != nil {
		s.ip.queued.Add(d)
	}
}

// releaseQueue drops whatever the session still holds once both of its
// goroutines have ended, so the counts never keep bytes of a closed session.
func (s *Session) releaseQueue() {
	s.mu.Lock()
	s.addPendingLocked(-s.pending)
	s.queue, s.ctrl = nil, nil
	s.mu.Unlock()
}

// QueuedBytes is what every session together holds for its client (see
// Config.MaxQueueTotal).
func (s *Server) QueuedBytes() int64 { return s.queued.Load() }

// QueuedBytesFrom is what the sessions from addr's group (hub.Hub.AddrGroup)
// hold (see Config.MaxQueuePerIP).
func (s *Server) QueuedBytesFrom(addr netip.Addr) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.perIP[s.cfg.Hub.AddrGroup(addr)]; st != nil {
		return st.queued.Load()
	}
	return 0
}

// behind tracks how long a session's queue has stayed far behind: over a
// quarter of its cap. It is the writer's.
type behind struct {
	since time.Time // zero while the queue is not far behind
}

// update records the session's held bytes at now.
func (b *behind) update(now time.Time, pending, limit int64) {
	switch {
	case pending <= limit/4:
		b.since = time.Time{}
	case b.since.IsZero():
		b.since = now
	}
}

// tooLong reports whether the queue has been far behind for max or more
// (never when max is not positive).
func (b *behind) tooLong(now time.Time, max time.Duration) bool {
	return max > 0 && !b.since.IsZero() && now.Sub(b.since) >= max
}
