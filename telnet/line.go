package telnet

import "telchat/linemode"

// data hands one data byte of line mode to the line assembler (package
// linemode) and reports what it completed.
func (d *Decoder) data(b byte) { d.emit(d.line.Byte(b)) }

// emit reports what the line assembler completed: a line or an interrupt.
func (d *Decoder) emit(r linemode.Result) {
	switch r.Kind {
	case linemode.Line:
		d.events = append(d.events, Event{Kind: EventLine, Line: r.Line, Truncated: r.Truncated})
	case linemode.Interrupt:
		d.events = append(d.events, Event{Kind: EventInterrupt})
	}
}

// interrupt discards the line and reports it (IAC IP, IAC ABORT, IAC BRK).
func (d *Decoder) interrupt() {
	d.line.EraseLine()
	d.events = append(d.events, Event{Kind: EventInterrupt})
}
