package client

import (
	"errors"
	"time"

	"telchat/hub"
)

// Finish is called by the hub when it is done with the session
// (hub.Peer): the writer flushes the queue and closes gracefully, or, for
// an abrupt reason (slow), drops it and resets. It never blocks.
func (s *Session) Finish(r hub.Reason) {
	e := endFinish
	if r.Abrupt() {
		e = endCut
	}
	s.setState(keepState, e)
}

// discardUntilClosed reads and drops input until the writer's linger
// deadline or close ends it, so that unread input cannot turn the final
// close into a reset that destroys the last lines.
func (s *Session) discardUntilClosed(rd *reader) {
	for {
		_, err := rd.read()
		rd.release()
		if err != nil {
			return
		}
	}
}

// leave reports the end of the session to the hub, or finishes it directly
// when the hub has stopped.
func (s *Session) leave(r hub.Reason) {
	s.logReaderEnd(r)
	if err := s.srv.cfg.Hub.Leave(s.hc, r); err != nil {
		s.Finish(r)
	}
}

// logReaderEnd is apart from leave, whose frame is under the hub's send.
//
//go:noinline
func (s *Session) logReaderEnd(r hub.Reason) {
	s.debug().Str("reason", r.String()).Msg("reader ended")
}

// fail records why the writer gave up and resets the connection, which
// ends the reader, which reports the reason to the hub. A reset, not a
// close: the writer failed because the peer stopped taking data (stalled,
// or cut as slow, which interrupts the write) or is gone, and what the
// kernel still holds for it must be discarded, not left to drain from an
// orphaned socket.
func (s *Session) fail(err error) {
	e := endWriteError
	if errors.Is(err, errStalled) || errors.Is(err, errBehind) {
		e = endStalled
	}
	s.setState(keepState, e) // kept only if nothing else ended the session first
	s.debug().Err(err).Msg("writer failed")
	s.closeNow(true)
}

// closeGracefully half-closes after the flush and lingers, reading (and
// discarding) input, until the client closes its side, or its goodbye is
// safely delivered, or the linger ends (see awaitGoodbye); then it closes,
// with a reset when the goodbye is acknowledged so that a client such as
// nc exits at once. A goodbye is never destroyed by a reset: not one caused
// by unread input, nor one sent before the client acknowledged it.
func (s *Session) closeGracefully() {
	s.setState(StateClosing, endNone)
	start := time.Now()
	_ = s.conn.CloseWrite()
	readerEnded := make(chan struct{})
	go func() {
		s.readerDone.Wait()
		close(readerEnded)
	}()
	// A TLS session's peer is the proxy, which acknowledges at once and
	// ends the client's side itself (close_notify, FIN, linger): a reset
	// here could reach the proxy before it has read the goodbye's end.
	if awaitGoodbye(s.conn, readerEnded, start, s.srv.cfg.Linger) && !s.tls {
		_ = s.conn.SetLinger(0)
	}
	s.closeConn() // ends the reader if it is still discarding
	<-readerEnded
	s.releaseQueue()
}

// closeNow closes without flushing and waits for the reader to end. With
// reset (a slow consumer), unsent data in the kernel is discarded and the
// peer gets a reset, so a stalled client cannot pin socket memory.
func (s *Session) closeNow(reset bool) {
	s.setState(StateClosing, endNone)
	if reset {
		_ = s.conn.SetLinger(0)
	}
	s.closeConn()
	s.readerDone.Wait()
	s.releaseQueue()
}

// pause waits d, or less when the session is halted first (see halt); it
// reports whether the whole wait passed.
func (s *Session) pause(d time.Duration) bool {
	s.mu.Lock()
	if s.haltedLocked() {
		s.mu.Unlock()
		return false
	}
	if s.halt == nil {
		s.halt = make(chan struct{})
	}
	halt := s.halt
	s.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-halt:
		return false
	}
}

// closeConn closes the connection; closing it again is harmless.
func (s *Session) closeConn() {
	_ = s.conn.Close()
}
