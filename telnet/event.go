package telnet

import (
	"fmt"
)

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
	EventData                               // character mode: Event.Data holds data bytes (keys) as they came
	EventEraseChar                          // character mode: IAC EC
	EventEraseLine                          // character mode: IAC EL
	EventMode                               // with Config.Echo, ECHO was turned on or off: Event.CharMode says which; switching on, Event.Line holds the line typed so far
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
	case EventData:
		return "Data"
	case EventEraseChar:
		return "EraseChar"
	case EventEraseLine:
		return "EraseLine"
	case EventMode:
		return "Mode"

	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is one result of decoding. Which fields are set depends on Kind.
type Event struct {
	Kind          EventKind
	Line          string // EventLine: the text without line end; always valid UTF-8 (invalid bytes -> U+FFFD)
	Truncated     bool   // EventLine: the line was longer than MaxLine; Line holds its first MaxLine bytes cut at a rune boundary, the rest up to the line end was discarded
	CharMode      bool   // EventMode: the Decoder is now in character mode
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
	case EventData:
		return fmt.Sprintf("Data(%q)", e.Data)
	case EventMode:
		if e.CharMode {
			return fmt.Sprintf("Mode(char, %q)", e.Line)
		}
		return "Mode(line)"
	}
	return e.Kind.String()
}
