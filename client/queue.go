package client

import (
	"strings"
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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.end != endNone {
		return true, false // the session is ending: nothing more goes out
	}
	// Rendered on the hub's goroutine, which owns m's cache of renderings:
	// every recipient with the same profile gets the same bytes.
	if m.Kind == message.Prompt {
		return s.holdLocked(s.promptLocked(m))
	}
	return s.holdLocked(render.Bytes(m, s.profile))
}

// promptLocked renders a Prompt. In line mode it is text like any other;
// in character mode its last line becomes the line editor's prompt, and
// only the lines before it are text. The question is remembered until the
// user answers, to be the prompt if character mode starts meanwhile.
func (s *Session) promptLocked(m *message.Message) []byte {
	i := strings.LastIndexByte(m.Text, '\n')
	s.asking = m.Text[i+1:]
	if !s.charModeLocked() {
		return render.Bytes(m, s.profile)
	}
	s.term.ed.SetPrompt(s.asking)
	if i < 0 {
		return nil // nothing to print; the batch redraws the prompt
	}
	return render.Append(nil, &message.Message{Kind: message.Reply, Text: m.Text[:i]}, s.profile)
}

// holdLocked queues rendered bytes within the queue's caps.
func (s *Session) holdLocked(msg []byte) (ok, wake bool) {
	cfg := &s.srv.cfg
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
	s.mu.Lock()
	s.ctrlLocked(b)
	s.mu.Unlock()
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
	case s.charModeLocked() && (len(s.queue) > 0 || end != endNone):
		batch = s.bracketLocked(done[:0], end)
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

// bracketLocked makes the batch of a session in character mode: the bytes
// for the terminal first (echo, negotiation), then the input line erased,
// everything queued, and the prompt and the typed text redrawn with the
// cursor where it was. The erase and the redraw bracket the whole batch,
// not each message, and go out in the same writev. When the session is
// ending, the line is erased and left so (no redraw).
func (s *Session) bracketLocked(batch [][]byte, end ending) [][]byte {
	t := s.term
	batch = append(batch, s.ctrl...)
	batch = append(batch, s.srv.erase)
	batch = append(batch, s.queue...)
	if end != endNone {
		batch = append(batch, s.srv.stopPaste)
		t.ed = nil
	} else {
		t.redraw = t.ed.AppendRedraw(t.redraw[:0])
		batch = append(batch, t.redraw)
	}
	clear(s.queue)
	s.ctrl, s.queue = nil, s.queue[:0]
	return batch
}
