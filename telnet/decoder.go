package telnet

import "telchat/linemode"

// Config sets the limits of a Decoder. The zero value is ready to use.
type Config struct {
	MaxLine int // max bytes of text in one line; 0 (or less) means DefaultMaxLine
	MaxSub  int // max bytes of one subnegotiation payload; 0 (or less) means DefaultMaxSub
	// Echo makes the Decoder agree to a client's DO ECHO (the server echoes and edits:
	// character mode, see SetCharMode); without it ECHO is refused.
	Echo bool
}

// parseState is where the Decoder is inside the Telnet command syntax.
type parseState uint8

const (
	stateData     parseState = iota // plain data; IAC starts a command
	stateIAC                        // after IAC
	stateOption                     // after IAC WILL/WONT/DO/DONT, expecting the option byte
	stateSBOption                   // after IAC SB, expecting the option byte
	stateSBData                     // inside the subnegotiation payload
	stateSBIAC                      // after IAC inside the payload
)

// Decoder turns the bytes a Telnet (or raw TCP) client sends into Events. It is a byte state
// machine whose state survives between Feed calls, so input may be split anywhere. It also
// keeps the RFC 1143 option state of the connection. See the package documentation for what
// it does with each construct.
//
// Its memory is bounded by Config.MaxLine and Config.MaxSub, and no input can stall it: a
// subnegotiation (IAC SB) whose payload passes MaxSub bytes is reported once with
// EventSubnegTooLong and abandoned. Its payload bytes are dropped, never delivered, up to
// its IAC SE or up to the first CR or LF from the overflowing byte on, whichever comes
// first; that CR or LF is then decoded as ordinary data (it ends the line typed before the
// IAC SB, if any), so a client that sent a stray IAC SB, such as an nc user pasting
// binary, is heard again from its next line on.
//
// A Decoder is not safe for concurrent use: call Feed, Finish and the Request methods from
// one goroutine, or under one lock.
type Decoder struct {
	maxLine, maxSub int
	echo            bool // Config.Echo
	charMode        bool // data bytes go out as EventData (SetCharMode)

	state parseState
	verb  byte // WILL, WONT, DO or DONT waiting for its option byte

	line linemode.Assembler // line mode's line being assembled from the data bytes

	sbOpt      byte   // option of the subnegotiation being read
	sbKeep     bool   // the payload is wanted (agreed NAWS or TTYPE); otherwise it is only counted
	sbLen      int    // payload bytes seen (unescaped), counted against maxSub
	sbOverflow bool   // the payload exceeded maxSub: reported, discarded, and ended early by CR or LF
	sb         []byte // the kept payload, never longer than maxSub

	// opts holds the options that are not off on both sides, in no order. A connection
	// enables a handful at most (the peer can only get the ones acceptLocal and
	// acceptRemote allow), so a short list searched linearly takes the place of two
	// 256-entry tables that every connection would carry.
	opts []option

	events    []Event // output of the current Feed or Finish call
	feedStart int     // index in events where this call began; replies merge only after it
}

// NewDecoder returns a Decoder in the initial NVT state: every option off, no line.
func NewDecoder(cfg Config) *Decoder {
	d := &Decoder{maxLine: cfg.MaxLine, maxSub: cfg.MaxSub, echo: cfg.Echo}
	if d.maxLine <= 0 {
		d.maxLine = DefaultMaxLine
	}
	if d.maxSub <= 0 {
		d.maxSub = DefaultMaxSub
	}
	d.line = linemode.New(d.maxLine)
	return d
}

// Feed decodes p (any chunk of the stream) and appends the resulting events to dst.
// Events come in stream order. Several replies produced by one Feed call may be merged into
// one EventReply; apart from that, the events do not depend on how the stream is split.
func (d *Decoder) Feed(dst []Event, p []byte) []Event {
	d.begin(dst)
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch d.state {
		case stateData:
			if b == IAC {
				d.state = stateIAC
				continue
			}
			if d.charMode {
				// Character mode: every data byte is a key for the line editor.
				j := i + 1
				for j < len(p) && p[j] != IAC {
					j++
				}
				d.charData(p[i:j]...)
				i = j - 1
				continue
			}
			// Fast path: a run of printable ASCII and valid UTF-8 at once.
			if n := d.line.Text(p[i:]); n > 0 {
				i += n - 1
				continue
			}
			d.data(b)
		case stateIAC:
			d.command(b)
		case stateOption:
			d.state = stateData
			d.negotiate(d.verb, b)
		case stateSBOption:
			d.startSubneg(b)
		case stateSBData:
			switch {
			case b == IAC:
				d.state = stateSBIAC
			case (b == '\r' || b == '\n') && d.sbLen >= d.maxSub:
				// A runaway subnegotiation (no IAC SE in sight): abandon it at the first line
				// end past the cap, and let that line end through as data.
				d.subnegByte(b) // reports the overflow if this byte is the first one past the cap
				d.state = stateData
				d.data(b)
			default:
				d.subnegByte(b)
			}
		case stateSBIAC:
			switch b {
			case SE:
				d.state = stateData
				d.endSubneg()
			case IAC:
				d.state = stateSBData
				d.subnegByte(IAC)
			default:
				// Protocol error: drop the subnegotiation and read IAC b as a command.
				d.command(b)
			}
		}
	}
	return d.end()
}

// Finish is called at end of input (peer half-closed): it appends the final unterminated
// line, if any (an incomplete IAC sequence or subnegotiation is discarded). Afterwards the
// Decoder holds no partial input; option state is kept.
func (d *Decoder) Finish(dst []Event) []Event {
	d.begin(dst)
	d.state = stateData
	d.emit(d.line.Finish())
	return d.end()
}

// Idle reports whether the Decoder is at rest: no partial line, command or
// subnegotiation, no CR waiting for its LF, and every option off with no request
// pending. An idle Decoder decodes what follows exactly as a new one with the same
// Config would, so a connection between lines can give it back to a pool and take
// another one (see NewDecoder) when more input arrives.
func (d *Decoder) Idle() bool {
	return d.state == stateData && d.line.Idle() && len(d.opts) == 0 && !d.charMode
}

// SetCharMode switches character mode on or off; with Config.Echo the Decoder does it
// itself when ECHO on our side is turned on or off, and reports it (EventMode). In character mode the Decoder assembles no
// lines: every data byte (IAC IAC as one 0xFF) is reported as it comes, in EventData, for a
// line editor; IAC EC and IAC EL are reported as EventEraseChar and EventEraseLine, and the
// interrupts as EventInterrupt. Telnet commands, negotiation and subnegotiation are decoded
// as in line mode. Switching on returns the line typed so far in line mode (and forgets it),
// so that the editor can carry it over.
func (d *Decoder) SetCharMode(on bool) (partial string) {
	if on && !d.charMode {
		partial = d.line.Take()
	}
	d.charMode = on
	return partial
}

// CharMode reports whether the Decoder is in character mode (SetCharMode).
func (d *Decoder) CharMode() bool { return d.charMode }

// charData reports data bytes in character mode, merged with the EventData just before in
// this call. It is not inlined, for the reason given at reply: inlined, it more than
// doubled the frames of Feed and command on every reader's stack.
//
//go:noinline
func (d *Decoder) charData(b ...byte) {
	if n := len(d.events); n > d.feedStart && d.events[n-1].Kind == EventData {
		d.events[n-1].Data = append(d.events[n-1].Data, b...)
		return
	}
	data := make([]byte, len(b), max(len(b), 16))
	copy(data, b)
	d.events = append(d.events, Event{Kind: EventData, Data: data})
}

// begin starts a Feed or Finish call appending to dst.
func (d *Decoder) begin(dst []Event) {
	d.events, d.feedStart = dst, len(dst)
}

// end finishes a Feed or Finish call, dropping the Decoder's reference to the caller's slice.
func (d *Decoder) end() []Event {
	out := d.events
	d.events = nil
	return out
}

// command handles the byte after IAC (outside a subnegotiation, or ending one by error).
func (d *Decoder) command(b byte) {
	d.state = stateData
	switch b {
	case IAC:
		if d.charMode {
			d.charData(IAC)
			return
		}
		d.data(IAC)
	case WILL, WONT, DO, DONT:
		d.verb = b
		d.state = stateOption
	case SB:
		d.state = stateSBOption
	case AYT:
		d.reply([]byte(AYTAnswer)...)
	case EC:
		if d.charMode {
			d.events = append(d.events, Event{Kind: EventEraseChar})
			return
		}
		d.line.EraseRune()
	case EL:
		if d.charMode {
			d.events = append(d.events, Event{Kind: EventEraseLine})
			return
		}
		d.line.EraseLine()
	case IP, ABORT, BRK:
		if d.charMode {
			d.events = append(d.events, Event{Kind: EventInterrupt})
			return
		}
		d.interrupt()
	default:
		// NOP, GA, DM, EOR, SUSP, EOF, AO, a stray SE and undefined bytes: ignored, and the
		// line being typed continues.
	}
}

// reply queues bytes for the peer, merging with a reply emitted just before in this call.
// It is not inlined: at each call site its temporaries would add to the caller's frame,
// and those frames are on the stack of every connection's reader.
//
//go:noinline
func (d *Decoder) reply(b ...byte) {
	if n := len(d.events); n > d.feedStart && d.events[n-1].Kind == EventReply {
		d.events[n-1].Data = append(d.events[n-1].Data, b...)
		return
	}
	data := make([]byte, len(b), max(len(b), 16))
	copy(data, b)
	d.events = append(d.events, Event{Kind: EventReply, Data: data})
}
