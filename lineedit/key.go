package lineedit

import "strconv"

// A Code names a key after decoding: an editing action, not the bytes that
// produced it. Several byte sequences map to one Code (Ctrl-A, ESC [ H,
// ESC O H and ESC [ 1 ~ are all KeyHome).
type Code uint8

// The keys a [Decoder] produces.
const (
	KeyRune      Code = iota + 1 // a printable character, in Key.Rune
	KeyPaste                     // text from a bracketed paste, in Key.Text
	KeyEnter                     // CR, CR LF, CR NUL or LF
	KeyBackspace                 // DEL (0x7F) or Ctrl-H (0x08)
	KeyDelete                    // ESC [ 3 ~: delete the character under the cursor
	KeyCtrlD                     // Ctrl-D: end of input on an empty line, else KeyDelete
	KeyLeft                      // ESC [ D, ESC O D, Ctrl-B
	KeyRight                     // ESC [ C, ESC O C, Ctrl-F
	KeyUp                        // ESC [ A, ESC O A, Ctrl-P
	KeyDown                      // ESC [ B, ESC O B, Ctrl-N
	KeyHome                      // Ctrl-A, ESC [ H, ESC O H, ESC [ 1 ~, ESC [ 7 ~
	KeyEnd                       // Ctrl-E, ESC [ F, ESC O F, ESC [ 4 ~, ESC [ 8 ~
	KeyWordLeft                  // Alt-B, Ctrl- or Alt-Left
	KeyWordRight                 // Alt-F, Ctrl- or Alt-Right
	KeyKillStart                 // Ctrl-U: delete from the start of the line to the cursor
	KeyKillEnd                   // Ctrl-K: delete from the cursor to the end of the line
	KeyKillWord                  // Ctrl-W, Alt-Backspace: delete the word before the cursor
	KeyTab                       // Tab (0x09): completion
	KeyRedraw                    // Ctrl-L
	KeyInterrupt                 // Ctrl-C
	KeyEscape                    // a lone ESC that started no known sequence
)

var codeNames = [...]string{
	KeyRune: "Rune", KeyPaste: "Paste", KeyEnter: "Enter", KeyBackspace: "Backspace",
	KeyDelete: "Delete", KeyCtrlD: "CtrlD", KeyLeft: "Left", KeyRight: "Right", KeyUp: "Up",
	KeyDown: "Down", KeyHome: "Home", KeyEnd: "End", KeyWordLeft: "WordLeft",
	KeyWordRight: "WordRight", KeyKillStart: "KillStart", KeyKillEnd: "KillEnd",
	KeyKillWord: "KillWord", KeyTab: "Tab", KeyRedraw: "Redraw", KeyInterrupt: "Interrupt",
	KeyEscape: "Escape",
}

// String returns the key's name, such as "Enter".
func (c Code) String() string {
	if int(c) < len(codeNames) && codeNames[c] != "" {
		return codeNames[c]
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// A Key is one decoded key press, or one piece of pasted text.
type Key struct {
	Code Code
	// Rune is the character for KeyRune (always printable: never a control
	// character, a C1 control or a format character other than ZWJ and ZWNJ;
	// U+FFFD stands for each byte of invalid UTF-8).
	Rune rune
	// Text is the pasted text for KeyPaste: printable characters as for
	// KeyRune and "\n" for each line end; tabs are turned into spaces, and
	// control characters and escape sequences are removed. One paste may
	// arrive as several KeyPaste keys.
	Text string
}

// String describes k for tests and logs, such as "Rune('a')" or "Enter".
func (k Key) String() string {
	switch k.Code {
	case KeyRune:
		return k.Code.String() + "(" + strconv.QuoteRune(k.Rune) + ")"
	case KeyPaste:
		return "Paste(" + strconv.Quote(k.Text) + ")"
	}
	return k.Code.String()
}
