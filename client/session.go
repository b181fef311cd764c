package client

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"telchat/hub"
	"telchat/telnet"
	"telchat/usertext"
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

// errStalled is the writer's error when a write made no progress for the
// whole write timeout.
var errStalled = errors.New("client: write stalled")

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

	bytesIn  atomic.Int64
	bytesOut atomic.Int64

	// Outbound queue, shared by the hub (Deliver), the reader (replies to
	// Telnet negotiation) and the writer.
	mu      sync.Mutex
	more    sync.Cond // on mu; signalled when the queue stops being empty or the session starts finishing
	queue   [][]byte
	ctrl    [][]byte // Telnet replies, written before queued chat
	pending int64

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

// Stats reports traffic counters and the queue depth (hub.StatsReporter).
func (s *Session) Stats() hub.PeerStats {
	s.mu.Lock()
	q, p := len(s.queue)+len(s.ctrl), s.pending
	s.mu.Unlock()
	return hub.PeerStats{BytesIn: s.bytesIn.Load(), BytesOut: s.bytesOut.Load(), QueuedMsgs: q, QueuedBytes: p}
}

// Deliver queues msg without blocking (hub.Peer). It returns false when the
// queue is over its message or byte cap.
func (s *Session) Deliver(msg []byte) bool {
	ok, wake := s.Hold(msg)
	if wake {
		s.more.Signal() // the writer waits only on an empty queue
	}
	return ok
}

// Hold queues msg like Deliver without waking the writer (hub.HeldPeer):
// wake reports that the queue was empty, so the writer may be asleep and
// needs a Wake.
func (s *Session) Hold(msg []byte) (ok, wake bool) {
	cfg := &s.srv.cfg
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finishing {
		return true, false
	}
	if s.pending+int64(len(msg)) > cfg.MaxQueueBytes || len(s.queue) >= cfg.MaxQueueMsgs {
		return false, false
	}
	wake = len(s.queue) == 0 && len(s.ctrl) == 0
	if s.queue == nil {
		s.queue = s.srv.bufs.queue()
	}
	s.queue = append(s.queue, msg)
	s.pending += int64(len(msg))
	return true, wake
}

// Wake wakes the writer for what Hold queued (hub.HeldPeer).
func (s *Session) Wake() { s.more.Signal() }

// sendLocal queues a line from the session itself (not from the hub), such
// as a flood warning. Over the cap it is dropped: the hub will notice.
func (s *Session) sendLocal(text string) {
	s.Deliver(telnet.AppendText(nil, text+"\n"))
}

// sendControl queues Telnet protocol bytes ahead of chat output. They count
// against the queue's caps; over them they are dropped: a client that keeps
// asking (IAC AYT, DO TIMING-MARK) and never reads gets no more answers, and
// its stalled writer ends it as slow.
func (s *Session) sendControl(b []byte) {
	cfg := &s.srv.cfg
	s.mu.Lock()
	if s.abrupt ||
		s.pending+int64(len(b)) > cfg.MaxQueueBytes || len(s.queue)+len(s.ctrl) >= cfg.MaxQueueMsgs {
		s.mu.Unlock()
		return
	}
	wasEmpty := len(s.queue) == 0 && len(s.ctrl) == 0
	s.ctrl = append(s.ctrl, b)
	s.pending += int64(len(b))
	s.mu.Unlock()
	if wasEmpty {
		s.more.Signal()
	}
}

// Finish is called by the hub when it is done with the session
// (hub.Peer). It never blocks.
func (s *Session) Finish(r hub.Reason) {
	s.mu.Lock()
	if s.finishing {
		s.mu.Unlock()
		return
	}
	s.finishing, s.abrupt = true, r.Abrupt()
	if s.abrupt {
		s.queue, s.ctrl, s.pending = nil, nil, 0
	}
	s.mu.Unlock()
	if r.Abrupt() {
		// Interrupt a write that is stuck on a peer that does not read.
		_ = s.conn.SetWriteDeadline(time.Now())
	}
	s.more.Signal()
}

func (s *Session) isFinishing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finishing
}

// next waits until there is output or the session is finishing, and swaps
// out everything queued. done is the previous batch, already written: its
// backing array becomes the queue's while the session is busy, and goes
// back to the server's pool when the writer waits, so that an idle session
// holds no array and the hub, which appends to the queue, rarely grows one.
// written is what the previous call returned as taken: the bytes of done,
// which stop counting against the byte cap only now.
func (s *Session) next(done [][]byte, written int64) (batch [][]byte, taken int64, finishing, abrupt bool) {
	clear(done)
	s.mu.Lock()
	s.pending = max(s.pending-written, 0) // the previous batch is out of the process
	if len(s.ctrl) == 0 && len(s.queue) == 0 && !s.finishing {
		empty := s.queue
		s.queue, s.ctrl = nil, nil
		s.mu.Unlock()
		s.srv.bufs.putQueue(done)
		s.srv.bufs.putQueue(empty)
		done = nil
		s.mu.Lock()
		for len(s.ctrl) == 0 && len(s.queue) == 0 && !s.finishing {
			s.more.Wait()
		}
	}
	finishing, abrupt = s.finishing, s.abrupt
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
	return batch, taken, finishing, abrupt
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

// readLoop is the reader goroutine's loop. It is kept shallow because the
// reader's stack is one of the two stacks every connection pays for: a
// goroutine starts with 2 KiB, of which only about 1 KiB can be used before
// the stack is doubled, and a doubled stack is not shrunk back while more
// than a quarter of it is in use, which the poller's frames of a waiting
// reader already are. So the decoding state is on the heap, the work runs
// in non-inlined methods of input that return before the next one starts,
// and the deepest of them, a line sent to the hub (whose select may park
// the reader while the hub's inbox is full), is called from here.
func (s *Session) readLoop(raw syscall.RawConn) {
	in := s.newInput(raw)
	for in.read() {
		for in.nextLine() {
			in.toHub()
		}
	}
	in.end()
	s.readerDone.Done()
}

// input is the reader goroutine's state.
type input struct {
	s       *Session
	rd      reader
	dec     *telnet.Decoder
	limiter *rate.Limiter
	fl      flood

	events []telnet.Event // decoded from the last read (at most one read buffer's worth)
	reason hub.Reason     // why the reader stops, for the hub (none when the session was finishing)

	next     int32 // index in events of the next event to handle
	altered  bool  // sanitizing changed the line nextLine found
	ended    bool  // the input ended: the peer half-closed (eof), or a read failed
	eof      bool  // the peer half-closed: events hold the last input
	stopping bool  // the reader is ending
}

func (s *Session) newInput(raw syscall.RawConn) *input {
	cfg := &s.srv.cfg
	in := &input{s: s}
	in.rd.init(raw, s.srv.bufs)
	if cfg.MsgRate > 0 {
		in.limiter = rate.NewLimiter(rate.Limit(cfg.MsgRate), cfg.MsgBurst)
	}
	return in
}

// eventsFor is room for the events that decoding buf will most likely give:
// a line per LF and at most an event per IAC, or one (the last line at the
// end of input).
func eventsFor(buf []byte) int {
	return min(max(bytes.Count(buf, []byte{'\n'})+bytes.Count(buf, []byte{telnet.IAC}), 1), 16)
}

// decoder returns the session's Telnet decoder, taking one from the pool
// if the session has given its own back.
func (in *input) decoder() *telnet.Decoder {
	if in.dec == nil {
		pool := &in.s.srv.bufs.decoders
		if d, ok := pool.Get().(*telnet.Decoder); ok {
			in.dec = d
		} else {
			in.dec = telnet.NewDecoder(telnet.Config{MaxLine: in.s.srv.cfg.MaxLine})
		}
	}
	return in.dec
}

// releaseDecoder gives the decoder back to the pool when it is at rest
// (between lines, no Telnet option on), so that an idle session holds none.
func (in *input) releaseDecoder() {
	if in.dec != nil && in.dec.Idle() {
		in.s.srv.bufs.decoders.Put(in.dec)
		in.dec = nil
	}
}

// stop makes the reader end with reason r once the events handled so far
// have gone to the hub.
func (in *input) stop(r hub.Reason) {
	if !in.stopping {
		in.stopping, in.reason = true, r
	}
}

// read waits for the next input and decodes it into events for nextLine.
// It returns false when the reader is ending.
//
//go:noinline
func (in *input) read() bool {
	s := in.s
	if in.stopping {
		return false
	}
	// An idle session keeps no event array. The next one is taken here
	// rather than grown by the decoder's appends, whose frames are deeper
	// on the stack (and an allocation can take the runtime's deep slow
	// path).
	s.srv.bufs.putEvents(in.events)
	in.events, in.next = nil, 0
	buf, err := in.rd.read()
	if len(buf) > 0 || err != nil {
		in.events = s.srv.bufs.events(eventsFor(buf))
	}
	if len(buf) > 0 {
		s.bytesIn.Add(int64(len(buf)))
		if !s.isFinishing() { // when finishing: read and discard until EOF
			// Events hold copies, so the buffer goes back to the pool now.
			in.events = in.decoder().Feed(in.events, buf)
		}
	}
	in.rd.release()
	if err == nil {
		in.releaseDecoder()
		return true
	}
	in.ended, in.eof = true, errors.Is(err, io.EOF)
	if s.isFinishing() {
		in.stopping = true
		return false
	}
	if in.eof {
		// Half-close: every complete line, and the unterminated last
		// one, is processed before the session ends (nextLine then
		// stops the reader).
		in.eof = true
		in.events = in.decoder().Finish(in.events)
		return true
	}
	r := hub.Reason{Kind: hub.KindHangup}
	if f := s.writerFailure(); f != writeOK {
		r = f.reason()
	} else if errors.Is(err, syscall.ECONNRESET) {
		r.Text = "connection reset"
	} else if !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) {
		r.Text = "read error"
	}
	in.stop(r)
	return false
}

// end tells the hub why the reader ended, unless the session was already
// finishing; then, when the reader stopped before its input ended (a flood,
// or the hub stopped), it reads and discards that input until the writer
// closes the connection.
//
//go:noinline
func (in *input) end() {
	if in.reason.Kind != "" {
		in.s.leave(in.reason)
	}
	if !in.ended {
		in.s.discardUntilClosed(&in.rd)
	}
}

// toHub sends the line nextLine found to the hub.
//
//go:noinline
func (in *input) toHub() {
	s := in.s
	if err := s.srv.cfg.Hub.Input(s.hc, in.events[in.next-1].Line, in.altered); err != nil {
		in.stop(hub.Reason{Kind: hub.KindShutdown})
	}
}

// nextLine handles the decoded events up to the next line for the hub:
// it queues replies to Telnet negotiation, tells the client about long
// lines, and applies the rate limit. It returns true when it found one (the
// last event handled, its Line replaced by the sanitized text), or false
// when the events are used up or the reader is stopping.
//
//go:noinline
func (in *input) nextLine() bool {
	s := in.s
	cfg := &s.srv.cfg
	for !in.stopping && int(in.next) < len(in.events) {
		ev := &in.events[in.next]
		in.next++
		switch ev.Kind {
		case telnet.EventReply:
			s.sendControl(ev.Data)
		case telnet.EventSubnegTooLong:
			s.sendLocal("! Garbled input: a Telnet subnegotiation (IAC SB) over " + itoa(telnet.DefaultMaxSub) + " bytes was dropped up to the line end")
		case telnet.EventLine:
			if ev.Truncated {
				s.sendLocal("! Line too long: cut to " + itoa(cfg.MaxLine) + " bytes")
			}
			line := usertext.Sanitize(ev.Line)
			altered := line != strings.TrimSpace(ev.Line)
			if line == "" && !altered {
				continue // an empty line; one that was all escape codes still gets an answer
			}
			if in.limiter != nil && !in.limiter.Allow() {
				if in.fl.drop(time.Now(), cfg.FloodDrops) {
					s.sendLocal("! Disconnected for flooding")
					in.stop(hub.Reason{Kind: hub.KindFlood})
				} else if in.fl.shouldWarn() {
					s.sendLocal("! You are sending too fast; message dropped")
				}
				continue
			}
			ev.Line, in.altered = line, altered
			return true
		}
	}
	if in.eof {
		in.stop(hub.Reason{Kind: hub.KindHangup})
	}
	return false
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

// writeFailure is why the writer gave up.
type writeFailure uint8

const (
	writeOK      writeFailure = iota
	writeStalled              // no progress for the write timeout
	writeError                // the socket failed
)

// reason is how the hub reports the failure.
func (f writeFailure) reason() hub.Reason {
	if f == writeStalled {
		return hub.Reason{Kind: hub.KindSlow}
	}
	return hub.Reason{Kind: hub.KindHangup, Text: "write error"}
}

func (s *Session) writerFailure() writeFailure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failure
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

// writeLoop is the writer goroutine: it writes whatever is queued, as one
// batch per wake-up, until the session finishes or a write fails.
func (s *Session) writeLoop() {
	var batch [][]byte
	var taken int64
	for {
		var finishing, abrupt bool
		batch, taken, finishing, abrupt = s.next(batch, taken)
		if abrupt {
			s.closeNow(true)
			return
		}
		if len(batch) > 0 {
			if err := s.write(batch); err != nil {
				s.fail(err)
				return
			}
			continue // more may have arrived while writing
		}
		if finishing {
			s.closeGracefully()
			return
		}
	}
}

// write writes batch with as few system calls as possible: one writev for
// many buffers, a plain write for one.
//
// A write that makes no progress for the write timeout is a stalled
// consumer. The deadline is set in slices of a quarter of the write
// timeout, and progress is credited at the end of the slice it happened in,
// so a consumer is cut once no byte went out for the write timeout (plus at
// most a slice); one deadline per write timeout would let a write that made
// progress only at its start buy a whole second timeout. A deadline still
// at least half a slice away is kept rather than set again: setting one
// moves a runtime timer, a measurable part of a small write.
func (s *Session) write(batch [][]byte) error {
	bufs := batch
	timeout := s.srv.cfg.WriteTimeout
	slice := max(timeout/4, time.Millisecond)
	now := time.Now()
	lastProgress := now
	for len(bufs) > 0 {
		if s.out.deadline.Sub(now) < slice/2 {
			s.out.deadline = now.Add(slice)
			_ = s.conn.SetWriteDeadline(s.out.deadline)
			if s.isAbrupt() {
				// Finish(slow) may have set its "now" deadline just before ours.
				return os.ErrDeadlineExceeded
			}
		}
		var n int64
		var err error
		bufs, n, err = s.out.write(bufs)
		s.bytesOut.Add(n)
		if err == nil {
			continue
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || s.isAbrupt() {
			return err // including Finish(slow)'s "now" deadline
		}
		if now = time.Now(); n > 0 {
			lastProgress = now
		} else if now.Sub(lastProgress) >= timeout {
			return errStalled
		}
	}
	return nil
}

func (s *Session) isAbrupt() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abrupt
}

// fail records why the writer gave up and resets the connection, which
// ends the reader, which reports the reason to the hub. A reset, not a
// close: the writer failed because the peer stopped taking data (stalled,
// or cut as slow, which interrupts the write) or is gone, and what the
// kernel still holds for it must be discarded, not left to drain from an
// orphaned socket.
func (s *Session) fail(err error) {
	f := writeError
	if errors.Is(err, errStalled) {
		f = writeStalled
	}
	s.mu.Lock()
	if s.failure == writeOK {
		s.failure = f
	}
	s.mu.Unlock()
	s.debug().Err(err).Msg("writer failed")
	s.closeNow(true)
}

// closeGracefully half-closes after the flush, lingers reading (and
// discarding) until the peer's EOF or the linger timeout, then closes. This
// way a goodbye is never destroyed by a reset caused by unread input.
func (s *Session) closeGracefully() {
	s.setState(StateClosing)
	_ = s.conn.CloseWrite()
	_ = s.conn.SetReadDeadline(time.Now().Add(s.srv.cfg.Linger))
	s.readerDone.Wait()
	s.closeConn()
}

// closeNow closes without flushing and waits for the reader to end. With
// reset (a slow consumer), unsent data in the kernel is discarded and the
// peer gets a reset, so a stalled client cannot pin socket memory.
func (s *Session) closeNow(reset bool) {
	s.setState(StateClosing)
	if reset {
		_ = s.conn.SetLinger(0)
	}
	s.closeConn()
	s.readerDone.Wait()
}

// closeConn closes the connection; closing it again is harmless.
func (s *Session) closeConn() {
	_ = s.conn.Close()
}

// flood counts dropped lines in a sliding 10-second window.
type flood struct {
	start  time.Time
	drops  int
	warned bool
}

// drop records one dropped line and reports whether more than limit lines
// were dropped in the window (never when limit is 0).
func (f *flood) drop(now time.Time, limit int) bool {
	if now.Sub(f.start) > 10*time.Second {
		f.start, f.drops, f.warned = now, 0, false
	}
	f.drops++
	return limit > 0 && f.drops > limit
}

// shouldWarn is true once per window.
func (f *flood) shouldWarn() bool {
	if f.warned {
		return false
	}
	f.warned = true
	return true
}
