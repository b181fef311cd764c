package client

import (
	"time"

	"telchat/hub"
	"telchat/message"
	"telchat/render"
)

// Stats reports traffic counters and the queue depth (hub.StatsReporter).
func (s *Session) Stats() hub.PeerStats {
	s.mu.Lock()
	q, p := len(s.queue)+len(s.ctrl), s.pending
	s.mu.Unlock()
	return hub.PeerStats{BytesIn: s.bytesIn.Load(), BytesOut: s.bytesOut.Load(), QueuedMsgs: q, QueuedBytes: p}
}

// Deliver queues msg, rendered for the session's display profile, without
// blocking (hub.Peer). It returns false when the queue is over its message
// or byte cap.
func (s *Session) Deliver(msg *message.Message) bool {
	ok, wake := s.Hold(msg)
	if wake {
		s.more.Signal() // the writer waits only on an empty queue
	}
	return ok
}

// Hold queues msg like Deliver without waking the writer (hub.HeldPeer):
// wake reports that the queue was empty, so the writer may be asleep and
// needs a Wake.
func (s *Session) Hold(m *message.Message) (ok, wake bool) {
	// Rendered on the hub's goroutine, which owns the profile and m's
	// cache of renderings: every recipient with the same profile gets the
	// same bytes.
	msg := render.Bytes(m, s.profile)
	cfg := &s.srv.cfg
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.end != endNone {
		return true, false // the session is ending: nothing more goes out
	}
	if len(s.queue) >= cfg.MaxQueueMsgs || !s.queueRoomLocked(int64(len(msg))) {
		return false, false
	}
	wake = len(s.queue) == 0 && len(s.ctrl) == 0
	if s.queue == nil {
		s.queue = s.srv.bufs.queue()
	}
	s.queue = append(s.queue, msg)
	s.addPendingLocked(int64(len(msg)))
	return true, wake
}

// Wake wakes the writer for what Hold queued (hub.HeldPeer).
func (s *Session) Wake() { s.more.Signal() }

// sendControl queues Telnet protocol bytes ahead of chat output. They count
// against the queue's caps; over them they are dropped: a client that keeps
// asking (IAC AYT, DO TIMING-MARK) and never reads gets no more answers, and
// its stalled writer ends it as slow.
func (s *Session) sendControl(b []byte) {
	cfg := &s.srv.cfg
	s.mu.Lock()
	if s.end.abrupt() || len(s.queue)+len(s.ctrl) >= cfg.MaxQueueMsgs || !s.queueRoomLocked(int64(len(b))) {
		s.mu.Unlock()
		return
	}
	wasEmpty := len(s.queue) == 0 && len(s.ctrl) == 0
	s.ctrl = append(s.ctrl, b)
	s.addPendingLocked(int64(len(b)))
	s.mu.Unlock()
	if wasEmpty {
		s.more.Signal()
	}
}

// next waits until there is output or the session is finishing, and swaps
// out everything queued. done is the previous batch, already written: its
// backing array becomes the queue's while the session is busy, and goes
// back to the server's pool when the writer waits, so that an idle session
// holds no array and the hub, which appends to the queue, rarely grows one.
// written is what the previous call returned as taken: the bytes of done,
// which stop counting against the byte cap only now.
func (s *Session) next(done [][]byte, written int64) (batch [][]byte, taken int64, end ending) {
	clear(done)
	s.mu.Lock()
	s.addPendingLocked(-min(written, s.pending)) // the previous batch is out of the process
	if len(s.ctrl) == 0 && len(s.queue) == 0 && s.end == endNone {
		empty := s.queue
		s.queue, s.ctrl = nil, nil
		s.mu.Unlock()
		s.srv.bufs.putQueue(done)
		s.srv.bufs.putQueue(empty)
		done = nil
		s.mu.Lock()
		for len(s.ctrl) == 0 && len(s.queue) == 0 && s.end == endNone {
			s.more.Wait()
		}
	}
	end = s.end
	switch {
	case len(s.ctrl) > 0:
		batch = append(append(done[:0], s.ctrl...), s.queue...)
		clear(s.queue)
		s.ctrl, s.queue = nil, s.queue[:0]
	case len(s.queue) > 0:
		batch, s.queue = s.queue, done[:0]
	}
	// The batch still counts against the byte cap until it is written, so
	// the cap bounds everything the session holds, queued or in hand.
	taken = s.pending
	s.mu.Unlock()
	s.out.behind.update(time.Now(), taken, s.srv.cfg.MaxQueueBytes)
	return batch, taken, end
}
