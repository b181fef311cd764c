package lineedit

// Config sets up an [Editor]. The zero value is usable: no prompt, 80
// columns, 1024-byte lines, 100 lines of history, no completion.
type Config struct {
	// Prompt is shown before the line. It may hold SGR colour sequences
	// (ESC [ ... m; end them with a reset); every other control character
	// and escape sequence is removed, and invalid UTF-8 becomes U+FFFD.
	Prompt string
	// Width is the terminal's width in columns (0: 80). See [Editor.SetWidth].
	Width int
	// MaxLine caps a line in bytes of UTF-8 (0: 1024). Input that does not
	// fit is dropped with a bell, and the line's Event has Truncated set.
	MaxLine int
	// History is how many submitted lines Up and Down recall (0: 100; a
	// negative value keeps none).
	History int
	// HistoryBytes bounds the text the history keeps besides the newest
	// line (0: 16 KiB), so that a session's memory stays small even when
	// every line is as long as MaxLine; the oldest lines go first.
	HistoryBytes int
	// Complete, when not nil, is called on Tab; see [Completer].
	Complete Completer
	// Private, when not nil, is asked about each submitted line: a line
	// for which it returns true (one that holds a password, say) is not
	// kept in the history.
	Private func(line string) bool
}

// A Completer proposes completions for the word before the cursor. line is
// the line and pos the cursor as a byte offset in it. It returns the byte
// offset where the word to complete starts (0 <= start <= pos) and the
// words that may replace line[start:pos]; an answer that does not fit these
// rules is ignored. The choices are sanitized like typed text.
//
// On Tab, a single choice replaces the word and is followed by a space;
// several choices complete their longest common prefix (when it is longer
// than the word), and a second Tab in a row lists them all below the line.
type Completer func(line string, pos int) (start int, choices []string)

// Defaults and bounds of Config.
const (
	DefaultWidth   = 80
	DefaultMaxLine = 1024
	DefaultHistory = 100
	// DefaultHistoryBytes is Config.HistoryBytes's default.
	DefaultHistoryBytes = 16 << 10
	// MinWidth and MaxWidth bound the width given to SetWidth.
	MinWidth = 4
	MaxWidth = 4096
	// maxListed is the most completion choices a listing shows.
	maxListed = 100
)

// Bytes a caller writes around a session in character mode.
const (
	// EnableBracketedPaste asks the terminal to mark pasted text
	// (ESC [ ? 2004 h), so that a paste arrives as lines of text.
	EnableBracketedPaste = "\x1b[?2004h"
	// DisableBracketedPaste undoes EnableBracketedPaste.
	DisableBracketedPaste = "\x1b[?2004l"
)
