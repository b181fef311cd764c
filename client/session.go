package client

import (
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
// (outbound queue -> writev, with a deadline on every write).
type Session struct {
	id   string
	conn *net.TCPConn
	srv  *Server
	hc   *hub.Conn

	state    atomic.Int32
	bytesIn  atomic.Int64
	bytesOut atomic.Int64

	// Outbound queue, shared by the hub (Deliver), the reader (replies to
	// Telnet negotiation) and the writer.
	mu        sync.Mutex
	queue     [][]byte
	ctrl      [][]byte // Telnet replies, written before queued chat
	spare     [][]byte
	pending   int64
	finishing bool
	reason    hub.Reason
	failure   hub.Reason // set by the writer when it gives up

	wake       chan struct{} // cap 1: the queue went from empty to non-empty
	finish     chan struct{} // closed by Finish
	readerDone chan struct{}
	closeOnce  sync.Once
}

// debug starts a debug log line carrying the session id and address. The
// fields are added per line rather than kept in a child logger, which would
// cost every idle connection its own encoded copy.
func (s *Session) debug() *zerolog.Event {
	return s.srv.cfg.Log.Debug().Str("session", s.id).Str("remote", s.hc.Remote)
}

// ID is the session id carried by every log line of the connection.
func (s *Session) ID() string { return s.id }

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
	cfg := &s.srv.cfg
	s.mu.Lock()
	if s.finishing {
		s.mu.Unlock()
		return true
	}
	if s.pending+int64(len(msg)) > cfg.MaxQueueBytes || len(s.queue) >= cfg.MaxQueueMsgs {
		s.mu.Unlock()
		return false
	}
	signal := len(s.queue) == 0 && len(s.ctrl) == 0
	s.queue = append(s.queue, msg)
	s.pending += int64(len(msg))
	s.mu.Unlock()
	if signal {
		s.signal()
	}
	return true
}

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
	if s.finishing && s.reason.Abrupt() ||
		s.pending+int64(len(b)) > cfg.MaxQueueBytes || len(s.queue)+len(s.ctrl) >= cfg.MaxQueueMsgs {
		s.mu.Unlock()
		return
	}
	signal := len(s.queue) == 0 && len(s.ctrl) == 0
	s.ctrl = append(s.ctrl, b)
	s.pending += int64(len(b))
	s.mu.Unlock()
	if signal {
		s.signal()
	}
}

func (s *Session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
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
	s.finishing = true
	s.reason = r
	if r.Abrupt() {
		s.queue, s.ctrl, s.pending = nil, nil, 0
	}
	s.mu.Unlock()
	if r.Abrupt() {
		// Interrupt a write that is stuck on a peer that does not read.
		_ = s.conn.SetWriteDeadline(time.Now())
	}
	close(s.finish)
}

func (s *Session) isFinishing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finishing
}

// take swaps out everything queued.
func (s *Session) take() (batch [][]byte, finishing, abrupt bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	finishing, abrupt = s.finishing, s.finishing && s.reason.Abrupt()
	if len(s.ctrl) == 0 && len(s.queue) == 0 {
		return nil, finishing, abrupt
	}
	batch = s.spare[:0]
	batch = append(batch, s.ctrl...)
	batch = append(batch, s.queue...)
	clear(s.ctrl)
	clear(s.queue)
	s.ctrl, s.queue = s.ctrl[:0], s.queue[:0]
	s.pending = 0
	s.spare = nil
	return batch, finishing, abrupt
}

// giveBack returns a written batch's backing array for reuse.
func (s *Session) giveBack(batch [][]byte) {
	clear(batch)
	if cap(batch) > 1024 {
		return // do not keep a huge array after a burst
	}
	s.mu.Lock()
	if s.spare == nil {
		s.spare = batch[:0]
	}
	s.mu.Unlock()
}

// serve runs the reader on the calling goroutine and the writer on a new
// one, and returns when both have ended and the connection is closed.
func (s *Session) serve() {
	// The reader often ends first (EOF, reset) while the writer still
	// flushes and closes: wait for it too, so that the session counts as
	// closed (Server.Active, StateClosed, Shutdown) only once it is.
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeLoop()
	}()
	s.setState(StateNew)
	if err := s.srv.cfg.Hub.Connect(s.hc); err != nil {
		s.Finish(hub.Reason{Kind: hub.KindShutdown})
	} else {
		s.setState(StateActive)
	}
	s.readLoop()
	<-writerDone
}

// readLoop is the reader goroutine. It is kept small: while it waits for
// input only this frame and the poller's are on the stack, so an idle
// session's stack can shrink to the minimum; the decoding state lives in
// an input value on the heap and the work in its non-inlined methods.
func (s *Session) readLoop() {
	defer close(s.readerDone)
	in := s.newInput()
	for {
		buf, err := in.rd.read()
		if in.process(buf, err) {
			return
		}
	}
}

// input is the reader goroutine's state.
type input struct {
	s       *Session
	rd      *reader
	dec     *telnet.Decoder
	limiter *rate.Limiter
	fl      flood
	events  []telnet.Event
}

func (s *Session) newInput() *input {
	cfg := &s.srv.cfg
	in := &input{s: s, rd: s.srv.newReader(s.conn), fl: flood{limit: cfg.FloodDrops},
		dec: telnet.NewDecoder(telnet.Config{MaxLine: cfg.MaxLine})}
	if cfg.MsgRate > 0 {
		in.limiter = rate.NewLimiter(rate.Limit(cfg.MsgRate), cfg.MsgBurst)
	}
	return in
}

// process handles one read's result and reports whether the reader is done.
//
//go:noinline
func (in *input) process(buf []byte, err error) (done bool) {
	s := in.s
	if len(buf) > 0 {
		s.bytesIn.Add(int64(len(buf)))
		if !s.isFinishing() { // when finishing: read and discard until EOF
			in.events = in.dec.Feed(in.events[:0], buf)
			if r, stop := s.handle(in.events, in.limiter, &in.fl); stop {
				in.rd.release()
				s.leave(r)
				s.discardUntilClosed(in.rd)
				return true
			}
		}
	}
	in.rd.release()
	if len(in.events) > 8 {
		in.events = nil // do not keep a big event array on an idle session
	}
	if err == nil {
		return false
	}
	if s.isFinishing() {
		return true
	}
	r := hub.Reason{Kind: hub.KindHangup}
	if errors.Is(err, io.EOF) {
		// Half-close: every complete line, and the unterminated last
		// one, is processed before the session ends.
		in.events = in.dec.Finish(in.events[:0])
		if r2, stop := s.handle(in.events, in.limiter, &in.fl); stop {
			r = r2
		}
	} else if f := s.writerFailure(); f.Kind != "" {
		r = f
	} else if errors.Is(err, syscall.ECONNRESET) {
		r.Text = "connection reset"
	} else if !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) {
		r.Text = "read error"
	}
	s.leave(r)
	return true
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

func (s *Session) writerFailure() hub.Reason {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failure
}

// leave reports the end of the session to the hub, or finishes it directly
// when the hub has stopped.
func (s *Session) leave(r hub.Reason) {
	s.debug().Str("reason", r.String()).Msg("reader ended")
	if err := s.srv.cfg.Hub.Leave(s.hc, r); err != nil {
		s.Finish(r)
	}
}

// handle processes decoded events. It reports stop when the client must be
// disconnected (flood).
func (s *Session) handle(events []telnet.Event, limiter *rate.Limiter, fl *flood) (hub.Reason, bool) {
	cfg := &s.srv.cfg
	for i := range events {
		ev := &events[i]
		switch ev.Kind {
		case telnet.EventReply:
			s.sendControl(ev.Data)
		case telnet.EventLine:
			if ev.Truncated {
				s.sendLocal("! Line too long: cut to " + itoa(cfg.MaxLine) + " bytes")
			}
			line := usertext.Sanitize(ev.Line)
			altered := line != strings.TrimSpace(ev.Line)
			if line == "" && !altered {
				continue // an empty line; one that was all escape codes still gets an answer
			}
			if limiter != nil && !limiter.Allow() {
				if fl.drop(time.Now()) {
					s.sendLocal("! Disconnected for flooding")
					return hub.Reason{Kind: hub.KindFlood}, true
				}
				if fl.shouldWarn() {
					s.sendLocal("! You are sending too fast; message dropped")
				}
				continue
			}
			if err := cfg.Hub.Input(s.hc, line, altered); err != nil {
				return hub.Reason{Kind: hub.KindShutdown}, true
			}
		}
	}
	return hub.Reason{}, false
}

func (s *Session) writeLoop() {
	for {
		select {
		case <-s.wake:
		case <-s.finish:
		}
		batch, finishing, abrupt := s.take()
		if abrupt {
			s.closeNow(true)
			return
		}
		if len(batch) > 0 {
			err := s.write(batch)
			s.giveBack(batch)
			if err != nil {
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
// many buffers, a plain write for one (which also spares an idle connection
// the iovec array that writev keeps per socket). Every write has a
// deadline; a write that makes progress gets a fresh one, and one that
// makes none for the whole write timeout is a stalled consumer.
func (s *Session) write(batch [][]byte) error {
	bufs := net.Buffers(batch)
	// The deadline is set in slices of a quarter of the write timeout and
	// progress is credited at the end of the slice it happened in, so a
	// consumer is cut once no byte went out for the write timeout (plus at
	// most a slice). One deadline per write timeout let a write that made
	// progress only at its start buy a whole second timeout.
	timeout := s.srv.cfg.WriteTimeout
	slice := max(timeout/4, time.Millisecond)
	lastProgress := time.Now()
	for len(bufs) > 0 {
		_ = s.conn.SetWriteDeadline(time.Now().Add(slice))
		if s.isAbrupt() {
			// Finish(slow) may have set its "now" deadline just before ours.
			return os.ErrDeadlineExceeded
		}
		var n int64
		var err error
		if len(bufs) == 1 {
			var m int
			m, err = s.conn.Write(bufs[0])
			n = int64(m)
			if bufs[0] = bufs[0][m:]; len(bufs[0]) == 0 {
				bufs = bufs[1:]
			}
		} else {
			n, err = bufs.WriteTo(s.conn)
		}
		s.bytesOut.Add(n)
		if err == nil {
			continue
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || s.isAbrupt() {
			return err
		}
		if now := time.Now(); n > 0 {
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
	return s.finishing && s.reason.Abrupt()
}

// fail records why the writer gave up and closes the connection, which
// ends the reader, which reports the reason to the hub.
func (s *Session) fail(err error) {
	r := hub.Reason{Kind: hub.KindHangup, Text: "write error"}
	if errors.Is(err, errStalled) {
		r = hub.Reason{Kind: hub.KindSlow}
	}
	s.mu.Lock()
	if s.failure.Kind == "" {
		s.failure = r
	}
	s.mu.Unlock()
	s.debug().Err(err).Msg("writer failed")
	s.closeNow(errors.Is(err, errStalled))
}

// closeGracefully half-closes after the flush, lingers reading (and
// discarding) until the peer's EOF or the linger timeout, then closes. This
// way a goodbye is never destroyed by a reset caused by unread input.
func (s *Session) closeGracefully() {
	s.setState(StateClosing)
	_ = s.conn.CloseWrite()
	_ = s.conn.SetReadDeadline(time.Now().Add(s.srv.cfg.Linger))
	<-s.readerDone
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
	<-s.readerDone
}

func (s *Session) closeConn() {
	s.closeOnce.Do(func() {
		_ = s.conn.Close()
	})
}

// flood counts dropped lines in a sliding 10-second window.
type flood struct {
	limit  int
	start  time.Time
	drops  int
	warned bool
}

// drop records one dropped line and reports whether the limit is passed.
func (f *flood) drop(now time.Time) bool {
	if now.Sub(f.start) > 10*time.Second {
		f.start, f.drops, f.warned = now, 0, false
	}
	f.drops++
	return f.limit > 0 && f.drops > f.limit
}

// shouldWarn is true once per window.
func (f *flood) shouldWarn() bool {
	if f.warned {
		return false
	}
	f.warned = true
	return true
}
