package telnet

import (
	"fmt"
	"unicode/utf8"
)

// Config sets the limits of a Decoder. The zero value is ready to use.
type Config struct {
	MaxLine int // max bytes of text in one line; 0 (or less) means DefaultMaxLine
	MaxSub  int // max bytes of one subnegotiation payload; 0 (or less) means DefaultMaxSub
}

// EventKind says what an Event reports.
type EventKind uint8

// Kinds of Event.
const (
	EventLine          EventKind = iota + 1 // Event.Line holds one complete line
	EventReply                              // Event.Data holds bytes to send to the peer promptly (negotiation answers, AYT answer)
	EventInterrupt                          // IAC IP, IAC ABORT, IAC BRK or raw ^C (0x03): the partial line was discarded
	EventWindowSize                         // NAWS: Event.Width, Event.Height (0 replaced by 80x24 defaults, clamped)
	EventTerminalType                       // TTYPE IS: Event.Text (sanitized printable ASCII, max 40 bytes)
	EventSubnegTooLong                      // a subnegotiation payload passed MaxSub bytes: it is dropped, up to its IAC SE or the next CR or LF; no fields
)

// String returns the name of the kind, e.g. "Line".
func (k EventKind) String() string {
	switch k {
	case EventLine:
		return "Line"
	case EventReply:
		return "Reply"
	case EventInterrupt:
		return "Interrupt"
	case EventWindowSize:
		return "WindowSize"
	case EventTerminalType:
		return "TerminalType"
	case EventSubnegTooLong:
		return "SubnegTooLong"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is one result of decoding. Which fields are set depends on Kind.
type Event struct {
	Kind          EventKind
	Line          string // EventLine: the text without line end; always valid UTF-8 (invalid bytes -> U+FFFD)
	Truncated     bool   // EventLine: the line was longer than MaxLine; Line holds its first MaxLine bytes cut at a rune boundary, the rest up to the line end was discarded
	Data          []byte // EventReply: bytes to write to the peer (owned by the receiver: a fresh slice, not reused)
	Width, Height int    // EventWindowSize: the client's window in character cells
	Text          string // EventTerminalType: the terminal type name
}

// String formats the event for logs and test failures, e.g. `Line("hi")` or `Reply(ff fb 06)`.
func (e Event) String() string {
	switch e.Kind {
	case EventLine:
		if e.Truncated {
			return fmt.Sprintf("Line(%q, truncated)", e.Line)
		}
		return fmt.Sprintf("Line(%q)", e.Line)
	case EventReply:
		return fmt.Sprintf("Reply(% x)", e.Data)
	case EventInterrupt:
		return "Interrupt"
	case EventWindowSize:
		return fmt.Sprintf("WindowSize(%dx%d)", e.Width, e.Height)
	case EventTerminalType:
		return fmt.Sprintf("TerminalType(%q)", e.Text)
	}
	return e.Kind.String()
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

// qState is one side of one option in the RFC 1143 Q method. The server never changes its
// mind while a request is pending, so the queue bit is not needed.
type qState uint8

const (
	qNo      qState = iota // disabled
	qYes                   // enabled
	qWantNo                // we asked to disable, waiting for the answer
	qWantYes               // we asked to enable, waiting for the answer
)

// option is the Q method state of both sides of one option.
type option struct {
	code byte
	us   qState // our side (WILL/WONT)
	him  qState // the peer's side (DO/DONT)
}

// Control bytes with an editing meaning.
const (
	ctrlC = 0x03 // interrupt: discard the line
	ctrlD = 0x04 // dropped
	ctrlU = 0x15 // kill the line
	bs    = 0x08 // erase the last rune
	del   = 0x7f // erase the last rune
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

	state     parseState
	verb      byte // WILL, WONT, DO or DONT waiting for its option byte
	crPending bool // a CR ended the last line; swallow one LF or NUL right after it

	line      []byte            // the line being assembled: valid UTF-8, never longer than maxLine
	pend      [utf8.UTFMax]byte // an incomplete UTF-8 sequence not yet in line
	npend     int               // used bytes of pend
	truncated bool              // the line overflowed; discard text until the line ends

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
	d := &Decoder{maxLine: cfg.MaxLine, maxSub: cfg.MaxSub}
	if d.maxLine <= 0 {
		d.maxLine = DefaultMaxLine
	}
	if d.maxSub <= 0 {
		d.maxSub = DefaultMaxSub
	}
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
			if d.npend == 0 {
				// Fast path: copy a run of printable ASCII and valid UTF-8 at once.
				if j := textRun(p, i); j > i {
					d.crPending = false
					d.appendRun(p[i:j])
					i = j - 1
					continue
				}
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
	d.crPending = false
	d.endLine()
	return d.end()
}

// RequestLocal asks to enable (IAC WILL opt) or disable (IAC WONT opt) an option on our
// side, following the RFC 1143 Q method. It returns the bytes to send, or nil when nothing
// needs sending: the option is already in the requested state or a request for it is still
// pending (requests are not queued). The answer arrives through Feed; LocalEnabled reports
// the outcome. TIMING-MARK is answered statelessly and should not be requested.
func (d *Decoder) RequestLocal(opt byte, enable bool) []byte {
	o := d.option(opt)
	b := request(&o.us, opt, enable, WILL, WONT)
	d.setOption(o)
	return b
}

// RequestRemote asks the peer to enable (IAC DO opt) or disable (IAC DONT opt) an option on
// its side, following the RFC 1143 Q method. It returns the bytes to send, or nil like
// RequestLocal. When TTYPE becomes enabled this way, Feed emits the SEND request.
func (d *Decoder) RequestRemote(opt byte, enable bool) []byte {
	o := d.option(opt)
	b := request(&o.him, opt, enable, DO, DONT)
	d.setOption(o)
	return b
}

// Idle reports whether the Decoder is at rest: no partial line, command or
// subnegotiation, no CR waiting for its LF, and every option off with no request
// pending. An idle Decoder decodes what follows exactly as a new one with the same
// Config would, so a connection between lines can give it back to a pool and take
// another one (see NewDecoder) when more input arrives.
func (d *Decoder) Idle() bool {
	return d.state == stateData && !d.crPending && d.npend == 0 && len(d.line) == 0 &&
		!d.truncated && len(d.opts) == 0
}

// LocalEnabled reports whether option opt is enabled on our side (we sent or accepted WILL).
func (d *Decoder) LocalEnabled(opt byte) bool { return d.option(opt).us == qYes }

// RemoteEnabled reports whether option opt is enabled on the peer's side (it sent or
// accepted WILL).
func (d *Decoder) RemoteEnabled(opt byte) bool { return d.option(opt).him == qYes }

// option returns the state of opt: both sides off when it has no entry.
func (d *Decoder) option(opt byte) option {
	for _, o := range d.opts {
		if o.code == opt {
			return o
		}
	}
	return option{code: opt}
}

// setOption stores the state of o.code; an option back to off on both sides loses its
// entry.
func (d *Decoder) setOption(o option) {
	off := o.us == qNo && o.him == qNo
	for i := range d.opts {
		if d.opts[i].code != o.code {
			continue
		}
		if off {
			last := len(d.opts) - 1
			d.opts[i] = d.opts[last]
			d.opts = d.opts[:last]
		} else {
			d.opts[i] = o
		}
		return
	}
	if !off {
		d.opts = append(d.opts, o)
	}
}

// request is the sending half of the Q method for one side of one option.
func request(q *qState, opt byte, enable bool, yes, no byte) []byte {
	switch {
	case enable && *q == qNo:
		*q = qWantYes
		return []byte{IAC, yes, opt}
	case !enable && *q == qYes:
		*q = qWantNo
		return []byte{IAC, no, opt}
	}
	return nil
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

// textRun returns the end of the run starting at p[i] of bytes that are plain text: printable
// ASCII and complete, valid UTF-8 sequences. Such a run goes to the line unchanged.
func textRun(p []byte, i int) int {
	for i < len(p) {
		c := p[i]
		if c >= 0x20 && c < del {
			i++
			continue
		}
		if c < utf8.RuneSelf || c == IAC {
			break
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size <= 1 {
			break // invalid or incomplete: the byte path handles it
		}
		i += size
	}
	return i
}

// data handles one data byte: line ends, editing keys, then text.
func (d *Decoder) data(b byte) {
	if d.crPending {
		d.crPending = false
		if b == '\n' || b == 0 {
			return // second half of CR LF or CR NUL
		}
	}
	switch b {
	case '\r':
		d.endLine()
		d.crPending = true
	case '\n':
		d.endLine()
	case 0, ctrlD:
		// NUL is a no-op on the NVT printer; ^D has no meaning inside a chat line.
	case bs, del:
		d.eraseRune()
	case ctrlU:
		d.eraseLine()
	case ctrlC:
		d.interrupt()
	default:
		d.text(b)
	}
}

// command handles the byte after IAC (outside a subnegotiation, or ending one by error).
func (d *Decoder) command(b byte) {
	d.state = stateData
	switch b {
	case IAC:
		d.data(IAC)
	case WILL, WONT, DO, DONT:
		d.verb = b
		d.state = stateOption
	case SB:
		d.state = stateSBOption
	case AYT:
		d.reply([]byte(AYTAnswer)...)
	case EC:
		d.eraseRune()
	case EL:
		d.eraseLine()
	case IP, ABORT, BRK:
		d.interrupt()
	default:
		// NOP, GA, DM, EOR, SUSP, EOF, AO, a stray SE and undefined bytes: ignored, and the
		// line being typed continues.
	}
}

// text adds one byte of text to the line, assembling UTF-8. Invalid sequences become
// U+FFFD, one per byte, exactly as utf8.DecodeRune would split them.
func (d *Decoder) text(b byte) {
	if d.npend == 0 && b < utf8.RuneSelf {
		d.appendText([]byte{b})
		return
	}
	d.pend[d.npend] = b
	d.npend++
	for d.npend > 0 && utf8.FullRune(d.pend[:d.npend]) {
		d.takeRune()
	}
}

// takeRune moves the first rune (or one invalid byte, as U+FFFD) from pend to the line.
func (d *Decoder) takeRune() {
	r, size := utf8.DecodeRune(d.pend[:d.npend])
	if r == utf8.RuneError && size <= 1 {
		size = 1
		d.appendRuneError()
	} else {
		d.appendText(d.pend[:size])
	}
	d.npend = copy(d.pend[:], d.pend[size:d.npend])
}

// appendText appends valid UTF-8 to the line unless that would make it longer than maxLine.
func (d *Decoder) appendText(s []byte) {
	if d.reserve(len(s)) {
		d.line = append(d.line, s...)
	}
}

// appendRun appends valid UTF-8 text to the line, as many whole runes as fit in maxLine.
func (d *Decoder) appendRun(s []byte) {
	if room := d.maxLine - len(d.line); len(s) > room && !d.truncated {
		cut := room
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		d.appendText(s[:cut])
		d.truncated = true
		return
	}
	d.appendText(s)
}

// appendRuneError appends U+FFFD to the line unless that would make it longer than maxLine.
func (d *Decoder) appendRuneError() {
	if d.reserve(utf8.RuneLen(utf8.RuneError)) {
		d.line = utf8.AppendRune(d.line, utf8.RuneError)
	}
}

// reserve reports whether n more bytes fit in the line, and makes room for them. When they
// do not fit, the line is marked truncated and all further text up to the line end is
// dropped. The buffer grows in steps but never beyond maxLine.
func (d *Decoder) reserve(n int) bool {
	if d.truncated {
		return false
	}
	need := len(d.line) + n
	if need > d.maxLine {
		d.truncated = true
		return false
	}
	if need > cap(d.line) {
		c := max(2*cap(d.line), need, 64)
		c = min(c, d.maxLine)
		grown := make([]byte, len(d.line), c)
		copy(grown, d.line)
		d.line = grown
	}
	return true
}

// eraseRune removes the last rune of the line (BS, DEL, IAC EC). An incomplete UTF-8
// sequence counts as the last rune. Once the line is truncated, erasing is ignored.
func (d *Decoder) eraseRune() {
	switch {
	case d.truncated:
	case d.npend > 0:
		d.npend = 0
	case len(d.line) > 0:
		_, size := utf8.DecodeLastRune(d.line)
		d.line = d.line[:len(d.line)-size]
	}
}

// eraseLine discards the line being assembled (^U, IAC EL, and the interrupts).
func (d *Decoder) eraseLine() {
	d.line = d.line[:0]
	d.npend = 0
	d.truncated = false
}

// interrupt discards the line and reports it (^C, IAC IP, IAC ABORT, IAC BRK).
func (d *Decoder) interrupt() {
	d.eraseLine()
	d.events = append(d.events, Event{Kind: EventInterrupt})
}

// endLine emits the line being assembled, if it is not empty, and starts a new one.
func (d *Decoder) endLine() {
	for d.npend > 0 {
		d.takeRune() // an incomplete sequence at the line end is invalid
	}
	if len(d.line) > 0 || d.truncated {
		d.events = append(d.events, Event{Kind: EventLine, Line: string(d.line), Truncated: d.truncated})
	}
	d.line = d.line[:0]
	d.truncated = false
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

// acceptLocal is the policy for the peer's DO: which options we agree to enable on our side.
// We suppress go-ahead; we do not echo.
func acceptLocal(opt byte) bool { return opt == OptSGA }

// acceptRemote is the policy for the peer's WILL: which options we let the peer enable.
func acceptRemote(opt byte) bool {
	switch opt {
	case OptSGA, OptNAWS, OptTType:
		return true
	}
	return false
}

// negotiate is the receiving half of the RFC 1143 Q method. It sends at most one answer
// (one reply call keeps the frame of this function small: it is on the stack of every
// connection's reader).
func (d *Decoder) negotiate(verb, opt byte) {
	if verb == DO && opt == OptTimingMark {
		// RFC 860: every DO TM is answered, and no state is kept. inetutils and netkit
		// hide all output after Ctrl-C until this answer arrives.
		d.reply(IAC, WILL, OptTimingMark)
		return
	}
	o := d.option(opt)
	var answer byte // WILL, WONT, DO or DONT to send; 0 for none
	enabled := false
	switch verb {
	case WILL:
		switch o.him {
		case qNo:
			if acceptRemote(opt) {
				o.him, answer, enabled = qYes, DO, true
			} else {
				answer = DONT
			}
		case qWantYes:
			o.him, enabled = qYes, true // the answer to our DO
		case qWantNo:
			o.him = qNo // peer error: WILL in answer to DONT
		case qYes:
			// Already enabled: no reply (RFC 854 loop rule b).
		}
	case WONT:
		switch o.him {
		case qYes:
			o.him, answer = qNo, DONT
		case qWantYes, qWantNo:
			o.him = qNo
		case qNo:
			// Already off: no reply.
		}
	case DO:
		switch o.us {
		case qNo:
			if acceptLocal(opt) {
				o.us, answer = qYes, WILL
			} else {
				answer = WONT
			}
		case qWantYes:
			o.us = qYes
		case qWantNo:
			o.us = qNo
		case qYes:
		}
	case DONT:
		switch o.us {
		case qYes:
			o.us, answer = qNo, WONT
		case qWantYes, qWantNo:
			o.us = qNo
		case qNo:
		}
	}
	d.setOption(o)
	if answer != 0 {
		d.reply(IAC, answer, opt)
	}
	if enabled {
		d.remoteEnabled(opt)
	}
}

// remoteEnabled runs when the peer's side of opt has just become enabled.
func (d *Decoder) remoteEnabled(opt byte) {
	if opt == OptTType {
		d.reply(IAC, SB, OptTType, TTypeSend, IAC, SE)
	}
}

// startSubneg handles the option byte after IAC SB.
func (d *Decoder) startSubneg(opt byte) {
	d.sbOpt = opt
	d.sbLen = 0
	d.sbOverflow = false
	d.sb = d.sb[:0]
	// Only payloads of agreed options the client is meant to send are kept.
	d.sbKeep = (opt == OptNAWS || opt == OptTType) && d.option(opt).him == qYes
	d.state = stateSBData
	if opt == IAC {
		// IAC SB IAC ...: read the second IAC as the start of IAC SE, IAC IAC or an error.
		d.sbKeep = false
		d.state = stateSBIAC
	}
}

// subnegByte handles one (unescaped) payload byte. The first byte past maxSub marks the
// payload as overflowed and emits EventSubnegTooLong, once per subnegotiation; it and all
// later payload bytes are dropped.
func (d *Decoder) subnegByte(b byte) {
	if d.sbLen >= d.maxSub {
		if !d.sbOverflow {
			d.sbOverflow = true
			d.events = append(d.events, Event{Kind: EventSubnegTooLong})
		}
		return
	}
	d.sbLen++
	if !d.sbKeep {
		return
	}
	if len(d.sb) == cap(d.sb) {
		grown := make([]byte, len(d.sb), min(max(2*cap(d.sb), 32), d.maxSub))
		copy(grown, d.sb)
		d.sb = grown
	}
	d.sb = append(d.sb, b)
}

// endSubneg handles IAC SE: it interprets a complete, kept payload.
func (d *Decoder) endSubneg() {
	if !d.sbKeep || d.sbOverflow {
		return
	}
	p := d.sb
	switch d.sbOpt {
	case OptNAWS:
		if len(p) != 4 {
			return // RFC 1073 payloads are exactly 4 bytes after unescaping
		}
		w := windowDim(int(p[0])<<8|int(p[1]), DefaultWidth, MaxWidth)
		h := windowDim(int(p[2])<<8|int(p[3]), DefaultHeight, MaxHeight)
		d.events = append(d.events, Event{Kind: EventWindowSize, Width: w, Height: h})
	case OptTType:
		if len(p) == 0 || p[0] != TTypeIs {
			return // SEND comes from the server, never from the client
		}
		if name := termTypeName(p[1:]); name != "" {
			d.events = append(d.events, Event{Kind: EventTerminalType, Text: name})
		}
	}
}

// windowDim maps a NAWS value to a usable size: 0 ("not sent", RFC 1073) becomes def, and
// huge values are clamped to limit.
func windowDim(v, def, limit int) int {
	if v == 0 {
		return def
	}
	return min(v, limit)
}

// termTypeName keeps the visible ASCII bytes (0x21–0x7E) of a TTYPE IS name, at most
// MaxTermTypeLen of them. Names are NVT ASCII letters, digits, '-' and '/' (RFC 1010).
func termTypeName(p []byte) string {
	var buf [MaxTermTypeLen]byte
	n := 0
	for _, b := range p {
		if b > ' ' && b < del && n < len(buf) {
			buf[n] = b
			n++
		}
	}
	return string(buf[:n])
}
