package telnet

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
		if b > ' ' && b < 0x7f && n < len(buf) {
			buf[n] = b
			n++
		}
	}
	return string(buf[:n])
}
