package client

import "sync/atomic"

// Refusal reasons counted by Totals.Refused, indexed like RefusalReasons.
const (
	refusedFull  = iota // -max-clients
	refusedRate         // -connect-rate
	refusedPerIP        // -max-per-ip
	numRefusals
)

// refusalReasons name the refusal counters for metrics.
var refusalReasons = [numRefusals]string{"full", "rate", "per_ip"}

// RefusalReasons returns the reasons of Totals.Refused, in index order.
func RefusalReasons() []string { return refusalReasons[:] }

// totals are the server's counters. Per-session traffic is counted on the
// session (uncontended atomics) and folded in here when it closes, so
// nothing on the write path touches a counter shared between sessions.
type totals struct {
	accepted    atomic.Int64
	acceptedTLS atomic.Int64
	handshakes  atomic.Int64 // TLS handshakes failed or timed out
	refused     [numRefusals]atomic.Int64
	linesPaced  atomic.Int64 // lines held back by -msg-rate

	// Guarded by Server.mu, updated as a session leaves Server.sessions.
	closedBytesIn, closedBytesOut, closedWrites int64
}

// Totals are the server's traffic counters at one moment: everything the
// closed sessions did plus what the open ones have done so far.
type Totals struct {
	// Sessions is the number of open sessions; Accepted counts every
	// connection accepted, refused ones included. The TLS fields count
	// those of the TLS listeners (included in neither).
	Sessions, Accepted       int64
	SessionsTLS, AcceptedTLS int64
	// HandshakesFailed counts TLS handshakes that failed or timed out.
	HandshakesFailed int64
	// BytesIn and BytesOut count the bytes read and written; WriteCalls the
	// write and writev system calls that wrote them.
	BytesIn, BytesOut, WriteCalls int64
	// QueuedBytes is what the open sessions hold for their clients, in
	// total and for the fullest one.
	QueuedBytes, MaxQueuedBytes int64
	// LinesPaced counts input lines held back by the message rate limit
	// (the reader waited before passing them on).
	LinesPaced int64
	// Refused counts refused connections by reason, indexed like
	// RefusalReasons.
	Refused []int64
}

// Totals reads the server's counters. It visits every open session (for a
// scrape, not the hot path).
func (s *Server) Totals() Totals {
	t := Totals{Accepted: s.totals.accepted.Load(), AcceptedTLS: s.totals.acceptedTLS.Load(), HandshakesFailed: s.totals.handshakes.Load(), LinesPaced: s.totals.linesPaced.Load(), Refused: make([]int64, numRefusals)}
	for i := range t.Refused {
		t.Refused[i] = s.totals.refused[i].Load()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.BytesIn, t.BytesOut, t.WriteCalls = s.totals.closedBytesIn, s.totals.closedBytesOut, s.totals.closedWrites
	for sess := range s.sessions {
		if sess.tls {
			t.SessionsTLS++
		} else {
			t.Sessions++
		}
		st := sess.Stats()
		t.BytesIn += st.BytesIn
		t.BytesOut += st.BytesOut
		t.WriteCalls += sess.writeCalls.Load()
		t.QueuedBytes += st.QueuedBytes
		t.MaxQueuedBytes = max(t.MaxQueuedBytes, st.QueuedBytes)
	}
	return t
}

// foldLocked adds a closed session's counters to the totals; the caller
// holds s.mu and removes sess from s.sessions in the same critical section,
// so a Totals never counts a session twice or not at all.
func (s *Server) foldLocked(sess *Session) {
	s.totals.closedBytesIn += sess.bytesIn.Load()
	s.totals.closedBytesOut += sess.bytesOut.Load()
	s.totals.closedWrites += sess.writeCalls.Load()
}

// countRefusal counts a refusal by its reason, the text admitLocked gave.
func (s *Server) countRefusal(why string) {
	i := refusedPerIP
	switch why {
	case whyFull:
		i = refusedFull
	case whyRate:
		i = refusedRate
	}
	s.totals.refused[i].Add(1)
}
