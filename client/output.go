package client

import (
	"errors"
	"os"
	"time"
)

// errStalled is the writer's error when a write made no progress for the
// whole write timeout.
var errStalled = errors.New("client: write stalled")

// errBehind is the writer's error when the queue stayed far behind for
// Config.MaxBehind, however little the client read meanwhile.
var errBehind = errors.New("client: queue far behind for too long")

// writeLoop is the writer goroutine: it writes whatever is queued, as one
// batch per wake-up, until the session finishes or a write fails.
func (s *Session) writeLoop() {
	var batch [][]byte
	var taken int64
	for {
		var end ending
		batch, taken, end = s.next(batch, taken)
		if end.abrupt() {
			s.closeNow(true)
			return
		}
		if s.out.behind.tooLong(time.Now(), s.srv.cfg.MaxBehind) {
			s.fail(errBehind)
			return
		}
		if len(batch) > 0 {
			if err := s.write(batch); err != nil {
				s.fail(err)
				return
			}
			continue // more may have arrived while writing
		}
		if end != endNone {
			s.closeGracefully()
			return
		}
	}
}

// write writes batch with as few system calls as possible: one writev for
// many buffers, a plain write for one.
//
// A write that makes no progress for the write timeout is a stalled
// consumer, and one whose queue stays far behind for Config.MaxBehind is
// too slow for its room, progress or not. The deadline is set in slices of
// a quarter of the write timeout (or of MaxBehind, if shorter), and progress is credited at the end of the slice it happened in,
// so a consumer is cut once no byte went out for the write timeout (plus at
// most a slice); one deadline per write timeout would let a write that made
// progress only at its start buy a whole second timeout. A deadline still
// at least half a slice away is kept rather than set again: setting one
// moves a runtime timer, a measurable part of a small write.
func (s *Session) write(batch [][]byte) error {
	bufs := batch
	timeout := s.srv.cfg.WriteTimeout
	every := timeout // how often a blocked write looks at the clock
	if mb := s.srv.cfg.MaxBehind; mb > 0 {
		every = min(every, mb)
	}
	slice := max(every/4, time.Millisecond)
	now := time.Now()
	lastProgress := now
	for len(bufs) > 0 {
		if s.out.deadline.Sub(now) < slice/2 {
			s.out.deadline = now.Add(slice)
			_ = s.conn.SetWriteDeadline(s.out.deadline)
			if s.ending().abrupt() {
				// Finish(slow) may have set its "now" deadline just before ours.
				return os.ErrDeadlineExceeded
			}
		}
		var n int64
		var err error
		bufs, n, err = s.out.write(bufs)
		s.bytesOut.Add(n)
		s.writeCalls.Add(s.out.takeCalls())
		if err == nil {
			continue
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || s.ending().abrupt() {
			return err // including Finish(slow)'s "now" deadline
		}
		if now = time.Now(); n > 0 {
			lastProgress = now
		} else if now.Sub(lastProgress) >= timeout {
			return errStalled
		}
		if s.out.behind.tooLong(now, s.srv.cfg.MaxBehind) {
			return errBehind
		}
	}
	return nil
}
