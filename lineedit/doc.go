// Package lineedit is the line a user types when the server echoes
// (Telnet character mode): it turns the bytes a terminal sends into keys,
// the keys into an edited line, and the line into the bytes that show it.
// It is modelled on golang.org/x/term's Terminal, split by idea: a
// [Decoder] (bytes to keys), a line buffer with history and completion
// (keys to line state) and a renderer (line state to bytes). It does no
// I/O, starts no goroutines, holds no locks and imports nothing of telchat.
//
// # Use
//
//	ed := lineedit.New(lineedit.Config{Prompt: "> ", Width: 80, MaxLine: 1024, Complete: f})
//	out = append(out, lineedit.EnableBracketedPaste...)
//	out = ed.AppendRedraw(out)             // show the prompt
//	// for each read, after Telnet decoding (data bytes only):
//	out, evs = ed.Feed(out[:0], evs[:0], data)
//	// write out (echo); then act on evs: EventLine (Text, Pasted, Secret,
//	// Truncated), EventInterrupt (Ctrl-C: the line was cleared), EventEOF
//	// (Ctrl-D on an empty line).
//	// to write other output while the user types, in one write:
//	batch = ed.AppendErase(batch)          // CR NUL ESC [ K
//	batch = append(batch, messages...)     // each ending in CR LF
//	batch = ed.AppendRedraw(batch)         // prompt, line, cursor in place
//
// The Editor is not safe for concurrent use. A session whose reader feeds
// keys while a writer writes other output must serialize them, and the
// bytes must reach the terminal in the order the Editor produced them: the
// echo from Feed before the erase and redraw of a later batch. (The erase
// bytes are constant, and every redraw starts with a carriage return, so
// only the order matters, not where the cursor is on the row.) On a window
// size report call SetWidth, then AppendErase and AppendRedraw.
//
// Telnet commands that edit are not bytes of the data stream; the caller
// passes them as keys with HandleKey: IAC EC as KeyBackspace, IAC EL as
// KeyKillStart, IAC IP, ABORT and BRK as KeyInterrupt. The data bytes
// themselves go to Feed as they come (IAC IAC as one byte 0xFF, which
// arrives as U+FFFD); CR NUL and CR LF are handled here.
//
// # Keys
//
// Printable characters insert (UTF-8, wide East Asian characters take two
// columns, combining marks none and travel with the character before
// them). Backspace (DEL or Ctrl-H) and Delete erase; Left/Right (Ctrl-B/F),
// Home/End (Ctrl-A/E), Ctrl- or Alt-Left/Right (Alt-B/F) move; Ctrl-U kills
// to the start, Ctrl-K to the end, Ctrl-W (Alt-Backspace) the word before
// the cursor; Up/Down (Ctrl-P/N) recall the last Config.History lines
// (100, within Config.HistoryBytes, 16 KiB); Tab completes through Config.Complete; Ctrl-L redraws the line;
// Ctrl-C clears it ("^C" is shown) and reports EventInterrupt; Ctrl-D is
// EventEOF on an empty line and Delete otherwise; Enter submits. Other keys
// are ignored. See [Decoder] for the byte sequences.
//
// A bracketed paste inserts its text; each line end in it submits the line
// with Event.Pasted set, so pasted text never acts as keys (a pasted Ctrl-C
// or escape sequence is dropped, a pasted Tab is a space). The text after
// the last line end stays on the line for the user to finish.
//
// # Lines
//
// A submitted line holds only printable characters: no C0 or C1 control
// characters, no DEL, no escape sequences, no bidi or other format
// characters except ZWJ and ZWNJ; invalid UTF-8 arrives as U+FFFD per byte.
// It is at most Config.MaxLine bytes (1024): input that does not fit is
// dropped with a bell (BEL) and the Event has Truncated set. Empty lines are
// reported too. Secret lines ([Editor.StartSecret]) show nothing or a mask
// and never enter the history; neither do empty lines or a repeat of the
// previous line.
//
// # Output
//
// The bytes are ready for the wire: every line end is CR LF, a carriage
// return alone is CR NUL, and they never hold the byte 0xFF (all text is
// valid UTF-8 and the prompt is sanitized), so they must not go through a
// Telnet text encoder again. They use only VT100 controls: BS, BEL,
// ESC [ K, ESC [ n C and ESC [ n D, plus whatever SGR colours the prompt
// holds.
//
// The prompt and the visible part of the line take one row and never its
// last column, so the terminal never wraps them; a longer line scrolls
// horizontally to keep the cursor in view. When a line is submitted it is
// shown whole (it may wrap then) and stays above the next prompt; the
// Editor does not echo it again. A prompt too wide to leave 8 columns for
// the line is not shown while the line is edited. Completion choices
// (a second Tab) are listed in columns, at most 100 of them.
package lineedit
