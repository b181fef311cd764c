package lineedit_test

import (
	"fmt"

	"telchat/lineedit"
)

// A session in character mode: the client's bytes go to Feed, the echo goes
// back, events are acted on, and output from elsewhere is bracketed by
// AppendErase and AppendRedraw in one write.
func ExampleEditor() {
	ed := lineedit.New(lineedit.Config{Prompt: "> ", Width: 80})
	var out []byte
	var evs []lineedit.Event

	out = ed.AppendRedraw(out[:0]) // the first prompt
	fmt.Printf("%q\n", out)

	out, evs = ed.Feed(out[:0], evs[:0], []byte("helo\x1b[D")) // typing, then Left
	fmt.Printf("%q %d events\n", out, len(evs))

	out, evs = ed.Feed(out[:0], evs[:0], []byte("l"))
	fmt.Printf("%q\n", out)

	// A message arrives while the user types.
	batch := ed.AppendErase(nil)
	batch = append(batch, "<bob> hi\r\n"...)
	batch = ed.AppendRedraw(batch)
	fmt.Printf("%q\n", batch)

	out, evs = ed.Feed(out[:0], evs[:0], []byte("\r\x00"))
	fmt.Printf("%q %q\n", out, evs[0].Text)
	// Output:
	// "\r\x00> \x1b[K"
	// "helo\b" 0 events
	// "\r\x00> hello\x1b[K\b"
	// "\r\x00\x1b[K<bob> hi\r\n\r\x00> hello\x1b[K\b"
	// "\x1b[C\r\n> " "hello"
}
