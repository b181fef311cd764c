package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// payloadMarker starts every line body that loadgen sends, so receivers can
// tell load lines apart from chat by other clients.
const payloadMarker = '#'

// payloadPad is the byte used to pad a payload up to the requested size.
const payloadPad = 'x'

// errNotPayload is returned by parsePayload for text that is not a loadgen payload.
var errNotPayload = errors.New("not a loadgen payload")

// payload is what every load line carries besides the run id: which sender
// produced it, its sequence number within that sender, and when it was sent.
type payload struct {
	Sender   int   // index of the sending client (0-based)
	Seq      int   // sequence number within the sender (0-based)
	SentNano int64 // send time, Unix nanoseconds
}

// appendPayload appends the text form of run and p to dst, padded with
// payloadPad up to size bytes (no line end). A size smaller than the unpadded form yields
// the unpadded form.
//
// Format: "#RUN:SENDER:SEQ:SENTNANO:" followed by padding.
func appendPayload(dst []byte, run string, p payload, size int) []byte {
	start := len(dst)
	dst = append(dst, payloadMarker)
	dst = append(dst, run...)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, int64(p.Sender), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, int64(p.Seq), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, p.SentNano, 10)
	dst = append(dst, ':')
	for len(dst)-start < size {
		dst = append(dst, payloadPad)
	}
	return dst
}

// parsePayload parses text produced by appendPayload and returns the run id
// (a sub-slice of text) and the payload. Bytes after the last field
// separator (the padding) are not checked.
func parsePayload(text []byte) (run []byte, p payload, err error) {
	if len(text) == 0 || text[0] != payloadMarker {
		return nil, p, errNotPayload
	}
	run, rest, ok := bytes.Cut(text[1:], []byte{':'})
	if !ok || len(run) == 0 {
		return nil, p, fmt.Errorf("run field: %w", errNotPayload)
	}
	sender, rest, err := cutNumber(rest)
	if err != nil {
		return nil, p, fmt.Errorf("sender field: %w", err)
	}
	seq, rest, err := cutNumber(rest)
	if err != nil {
		return nil, p, fmt.Errorf("seq field: %w", err)
	}
	sent, _, err := cutNumber(rest)
	if err != nil {
		return nil, p, fmt.Errorf("time field: %w", err)
	}
	if sender > maxSenderIndex || seq > maxSequence {
		return nil, p, fmt.Errorf("sender %d seq %d out of range: %w", sender, seq, errNotPayload)
	}
	p.Sender = int(sender)
	p.Seq = int(seq)
	p.SentNano = sent
	return run, p, nil
}

// maxSenderIndex bounds the sender field so a corrupt line cannot make a
// receiver allocate a huge tracker table.
const maxSenderIndex = 1 << 20

// maxSequence bounds the seq field for the same reason.
const maxSequence = 1 << 28

// cutNumber parses a non-negative decimal number terminated by ':' at the
// start of b and returns it with the bytes after the ':'.
func cutNumber(b []byte) (int64, []byte, error) {
	var n uint64
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if i >= 19 {
				return 0, nil, fmt.Errorf("number too long: %w", errNotPayload)
			}
			n = n*10 + uint64(c-'0')
		case c == ':' && i > 0:
			if n > math.MaxInt64 {
				return 0, nil, fmt.Errorf("number overflows int64: %w", errNotPayload)
			}
			return int64(n), b[i+1:], nil
		default:
			return 0, nil, fmt.Errorf("byte %q at %d: %w", c, i, errNotPayload)
		}
	}
	return 0, nil, fmt.Errorf("unterminated number: %w", errNotPayload)
}

// parseChatLine splits a server line of the form "<NICK> text" into the
// nickname and the text. ok is false for any other line (notices, history,
// errors).
func parseChatLine(line []byte) (nick, text []byte, ok bool) {
	if len(line) < 3 || line[0] != '<' {
		return nil, nil, false
	}
	end := bytes.Index(line, []byte("> "))
	if end < 2 {
		return nil, nil, false
	}
	return line[1:end], line[end+2:], true
}

// nickFor returns the nickname of client i in the given run.
func nickFor(run string, i int) string {
	return "lg" + run + strconv.Itoa(i)
}
