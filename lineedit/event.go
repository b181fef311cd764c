package lineedit

// EventKind tells what an [Event] reports.
type EventKind uint8

// The kinds of [Event].
const (
	EventLine      EventKind = iota + 1 // a line was submitted, in Event.Text
	EventInterrupt                      // Ctrl-C: the line was discarded
	EventEOF                            // Ctrl-D on an empty line: the user wants to leave
)

// An Event is something the caller must act on.
type Event struct {
	Kind EventKind
	// Text is the submitted line for EventLine: valid UTF-8 with only
	// printable characters (see [Key]), at most MaxLine bytes. It may be
	// empty.
	Text string
	// Pasted is set when the line was ended by a line end inside a
	// bracketed paste rather than by the user's Enter. A caller may choose
	// not to run commands from such lines.
	Pasted bool
	// Secret is set when the line was typed in secret mode
	// ([Editor.StartSecret]); it is not in the history.
	Secret bool
	// Truncated is set when input was dropped because the line was full.
	Truncated bool
}
