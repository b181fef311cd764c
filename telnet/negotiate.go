package telnet

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

// LocalEnabled reports whether option opt is enabled on our side (we sent or accepted WILL).
func (d *Decoder) LocalEnabled(opt byte) bool { return d.option(opt).us == qYes }

// LocalPending reports whether our request about option opt (RequestLocal) still waits
// for the peer's answer.
func (d *Decoder) LocalPending(opt byte) bool {
	us := d.option(opt).us
	return us == qWantYes || us == qWantNo
}

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

// acceptLocal is the policy for the peer's DO: which options we agree to enable on our side.
// We suppress go-ahead; we do not echo.
// With Config.Echo we also agree to echo (character mode).
func (d *Decoder) acceptLocal(opt byte) bool { return opt == OptSGA || opt == OptEcho && d.echo }

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
			if d.acceptLocal(opt) {
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
	if d.echo && opt == OptEcho && (o.us == qYes) != d.charMode {
		d.modeChanged(o.us == qYes)
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

// modeChanged switches character mode on or off when ECHO on our side has just been
// turned on or off, and reports it with EventMode.
//
//go:noinline
func (d *Decoder) modeChanged(on bool) {
	partial := d.SetCharMode(on)
	d.events = append(d.events, Event{Kind: EventMode, CharMode: on, Line: partial})
}
