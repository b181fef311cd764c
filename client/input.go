package client

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/time/rate"

	"telchat/hub"
	"telchat/lineedit"
	"telchat/telnet"
	"telchat/usertext"
)

// readLoop is the reader goroutine's loop. It is kept shallow because the
// reader's stack is one of the two stacks every connection pays for: a
// goroutine starts with 2 KiB, of which only about 1 KiB can be used before
// the stack is doubled, and a doubled stack is not shrunk back while more
// than a quarter of it is in use, which the poller's frames of a waiting
// reader already are. So the decoding state is on the heap, the work runs
// in non-inlined methods of input that return before the next one starts,
// and the deepest of them, what goes to the hub (a line, a notice, a
// request for the names Tab completes: the hub's select may park the
// reader while its inbox is full), are called from here.
func (s *Session) readLoop(raw syscall.RawConn) {
	in := s.newInput(raw)
	for in.read() {
		for in.nextLine() {
			switch in.send {
			case sendNotice:
				in.notice(in.line)
			case sendNames:
				s.refreshNames()
			default:
				if in.pace() {
					in.toHub()
				}
			}
		}
	}
	in.end()
	s.readerDone.Done()
}

// input is the reader goroutine's state.
type input struct {
	s        *Session
	rd       reader
	listings *rate.Limiter // the listing budget (hub.ListingRate), made at the first listing
	held     time.Time     // since when every line has had to wait for the message rate (zero: the last one did not)

	events []telnet.Event // decoded from the last read (at most one read buffer's worth)
	reason hub.Reason     // why the reader stops, for the hub (none when the session was finishing)

	next    int32     // index in events of the next event to handle
	altered bool      // sanitizing changed the line nextLine found
	phase   readPhase // where the reader is in its own life
	heard   bool      // input came: a client that negotiates later did not open with it
	send    sendKind  // what nextLine found for the hub
	names   bool      // the line editor may want fresh names to complete (see refreshNames)
	line    string    // the line (or notice) nextLine found

	// In character mode, the line editor's events from the last keys.
	edEvents []lineedit.Event
	edNext   int
}

// sendKind is what nextLine found for the hub: a line the user sent, a
// notice for the user, or a request for the names Tab completes. The last
// two are sent from readLoop too, not from deeper frames, for the reason
// given there.
type sendKind uint8

const (
	sendLine sendKind = iota
	sendNotice
	sendNames
)

// readPhase is where the reader goroutine is: reading, handling the last
// input, or stopping before or after the input ended.
type readPhase uint8

const (
	readOpen     readPhase = iota // reading
	readLast                      // the peer half-closed: events hold the last input; then the reader stops (hangup)
	readStopping                  // stopping before the input ended: the rest is read and discarded until the writer closes
	readEnded                     // the input ended (EOF or a failed read) and the reader stops
)

func (s *Session) newInput(raw syscall.RawConn) *input {
	in := &input{s: s}
	in.rd.init(raw, s.srv.bufs)
	return in
}

// eventsFor is room for the events that decoding buf will most likely give:
// a line per LF and at most an event per IAC, or one (the last line at the
// end of input).
func eventsFor(buf []byte) int {
	return min(max(bytes.Count(buf, []byte{'\n'})+bytes.Count(buf, []byte{telnet.IAC}), 1), 16)
}

// stop makes the reader end with reason r once the events handled so far
// have gone to the hub.
func (in *input) stop(r hub.Reason) {
	switch in.phase {
	case readOpen:
		in.phase, in.reason = readStopping, r
	case readLast:
		in.phase, in.reason = readEnded, r
	}
}

// read waits for the next input and decodes it into events for nextLine.
// It returns false when the reader is ending.
//
//go:noinline
func (in *input) read() bool {
	s := in.s
	if in.phase >= readStopping {
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
		// Events hold copies, so the buffer goes back to the pool now.
		in.events = s.feed(in.events, buf)
		if !in.heard {
			in.heard = true
			if opensWithNegotiation(buf) {
				s.offer() // a Telnet client: it may have character mode
			}
		}
	}
	in.rd.release()
	if err == nil {
		s.releaseDecoder()
		return true
	}
	in.phase = readEnded
	e := s.ending()
	if r, ok := e.writerReason(); ok {
		in.reason = r // the writer failed and reset the connection
		return false
	}
	if e != endNone {
		return false // the hub ended the session: it needs no reason
	}
	if errors.Is(err, io.EOF) {
		// Half-close: every complete line, and the unterminated last
		// one, is processed before the session ends (nextLine then
		// stops the reader).
		in.phase = readLast
		in.events = s.finishInput(in.events)
		return true
	}
	in.reason = hub.Reason{Kind: hub.KindHangup}
	if errors.Is(err, syscall.ECONNRESET) {
		in.reason.Text = "connection reset"
	} else if !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) {
		in.reason.Text = "read error"
	}
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
	if in.phase == readStopping {
		in.s.discardUntilClosed(&in.rd)
	}
}

// toHub sends the line nextLine found to the hub.
//
//go:noinline
func (in *input) toHub() {
	s := in.s
	if err := s.srv.cfg.Hub.Input(s.hc, in.line, in.altered); err != nil {
		in.stop(hub.Reason{Kind: hub.KindShutdown})
	}
}

// notice has the hub tell the client something about its own input, in
// order with the replies to the lines before it.
//
//go:noinline
func (in *input) notice(text string) {
	s := in.s
	if err := s.srv.cfg.Hub.Notice(s.hc, text); err != nil {
		in.stop(hub.Reason{Kind: hub.KindShutdown})
	}
}

// nextLine handles the decoded events up to the next line for the hub:
// it queues replies to Telnet negotiation and tells the client about long
// lines (pace then applies the message rate). It returns true when it found one (the
// last event handled, its Line replaced by the sanitized text), or false
// when the events are used up or the reader is stopping.
//
//go:noinline
func (in *input) nextLine() bool {
	s := in.s
	cfg := &s.srv.cfg
	for in.phase < readStopping && (in.names || in.edNext < len(in.edEvents) || int(in.next) < len(in.events)) {
		if in.names {
			in.names, in.send = false, sendNames
			return true
		}
		if in.edNext < len(in.edEvents) {
			if in.edited() {
				return true
			}
			continue
		}
		ev := &in.events[in.next]
		in.next++
		switch ev.Kind {
		case telnet.EventReply:
			s.sendControl(ev.Data)
		case telnet.EventData:
			in.keys(ev.Data, lineedit.Key{})
		case telnet.EventEraseChar:
			in.keys(nil, lineedit.Key{Code: lineedit.KeyBackspace})
		case telnet.EventEraseLine:
			in.keys(nil, lineedit.Key{Code: lineedit.KeyKillStart})
		case telnet.EventInterrupt:
			in.keys(nil, lineedit.Key{Code: lineedit.KeyInterrupt})
		case telnet.EventMode:
			if in.line, in.names = s.switchMode(ev.CharMode, ev.Line); in.line != "" {
				in.send = sendNotice
				return true
			}
		case telnet.EventWindowSize:
			s.windowSize(ev.Width, ev.Height)
		case telnet.EventTerminalType:
			s.terminalType(ev.Text)
		case telnet.EventSubnegTooLong:
			in.notice("! Garbled input: a Telnet subnegotiation (IAC SB) over " + itoa(telnet.DefaultMaxSub) + " bytes was dropped up to the line end")
		case telnet.EventLine:
			if ev.Truncated {
				in.notice("! Line too long: cut to " + itoa(cfg.MaxLine) + " bytes")
			}
			line := usertext.Sanitize(ev.Line)
			// Altered means sanitizing removed something, not only that it
			// collapsed white space ("/nick  bob" is not altered).
			altered := line != strings.TrimSpace(ev.Line) && line != strings.Join(strings.Fields(ev.Line), " ")
			s.answered()
			if line == "" && !altered {
				continue // an empty line; one that was all escape codes still gets an answer
			}
			in.line, in.altered, in.send = line, altered, sendLine
			return true
		}
	}
	if in.phase == readLast {
		in.stop(hub.Reason{Kind: hub.KindHangup})
	}
	return false
}

// keys feeds the line editor data (or, with no data, the key k) in
// character mode, queues the echo, and keeps the editor's events for
// nextLine.
//
//go:noinline
func (in *input) keys(data []byte, k lineedit.Key) {
	s := in.s
	s.mu.Lock()
	t := s.term
	if t == nil || t.ed == nil {
		s.mu.Unlock()
		return
	}
	var out []byte
	in.edEvents, in.edNext = in.edEvents[:0], 0
	if data != nil {
		out, in.edEvents = t.ed.Feed(nil, in.edEvents, data)
	} else {
		out, in.edEvents = t.ed.HandleKey(nil, in.edEvents, k)
	}
	s.ctrlLocked(out)
	in.names = in.names || t.wantNames
	s.mu.Unlock()
}

// edited handles the next event of the line editor. It reports true when
// it is a line for the hub (in.line).
//
//go:noinline
func (in *input) edited() bool {
	s := in.s
	ev := in.edEvents[in.edNext]
	in.edNext++
	line := ev.Text
	switch ev.Kind {
	case lineedit.EventEOF:
		line = "/quit" // Ctrl-D on an empty line
	case lineedit.EventLine:
		if ev.Truncated {
			in.notice("! Line too long: cut to " + itoa(s.srv.cfg.MaxLine) + " bytes")
		}
	default:
		return false // Ctrl-C cleared the line
	}
	s.mu.Lock()
	if t := s.term; t != nil && ev.Secret && t.secret != "" {
		line = t.secret + line
		t.secret = ""
	}
	s.answeredLocked()
	s.mu.Unlock()
	if ev.Pasted && strings.HasPrefix(line, "/") && !strings.HasPrefix(line, "//") {
		line = "/" + line // a pasted line is said, never run as a command
	}
	if line = usertext.Sanitize(line); line == "" {
		return false
	}
	in.line, in.altered, in.send = line, false, sendLine
	return true
}

// opensWithNegotiation reports whether the first input of a connection
// starts with option negotiation (IAC WILL, WONT, DO or DONT, other than
// DO TIMING-MARK, which line-mode telnet sends with Ctrl-C): what Telnet
// clients such as PuTTY, and inetutils on port 23, send at connect.
func opensWithNegotiation(buf []byte) bool {
	if len(buf) < 2 || buf[0] != telnet.IAC || buf[1] < telnet.WILL || buf[1] > telnet.DONT {
		return false
	}
	return len(buf) < 3 || buf[2] != telnet.OptTimingMark
}
