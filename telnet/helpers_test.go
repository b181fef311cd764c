package telnet_test

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"telchat/telnet"
)

// hx parses space-separated hex bytes, e.g. hx("ff fb 01").
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(fmt.Sprintf("bad hex %q: %v", s, err))
	}
	return b
}

// bs concatenates parts into bytes: a string adds its bytes, an int adds one byte, a []byte
// adds itself.
func bs(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v...)
		case int:
			out = append(out, byte(v))
		case []byte:
			out = append(out, v...)
		default:
			panic(fmt.Sprintf("bs: unsupported part %T", p))
		}
	}
	return out
}

// chunks is a shorthand for the reads a client produced.
func chunks(c ...[]byte) [][]byte { return c }

func line(s string) telnet.Event { return telnet.Event{Kind: telnet.EventLine, Line: s} }
func trunc(s string) telnet.Event {
	return telnet.Event{Kind: telnet.EventLine, Line: s, Truncated: true}
}
func reply(h string) telnet.Event { return telnet.Event{Kind: telnet.EventReply, Data: hx(h)} }
func size(w, h int) telnet.Event {
	return telnet.Event{Kind: telnet.EventWindowSize, Width: w, Height: h}
}
func ttype(s string) telnet.Event { return telnet.Event{Kind: telnet.EventTerminalType, Text: s} }

var intr = telnet.Event{Kind: telnet.EventInterrupt}

// tooLong reports a subnegotiation dropped for passing MaxSub.
var tooLong = telnet.Event{Kind: telnet.EventSubnegTooLong}

// replyText is the reply to IAC AYT.
func replyText() telnet.Event {
	return telnet.Event{Kind: telnet.EventReply, Data: []byte(telnet.AYTAnswer)}
}

// decode feeds the chunks to a new Decoder, then calls Finish if finish is set.
func decode(cfg telnet.Config, in [][]byte, finish bool) []telnet.Event {
	d := telnet.NewDecoder(cfg)
	var evs []telnet.Event
	for _, c := range in {
		evs = d.Feed(evs, c)
	}
	if finish {
		evs = d.Finish(evs)
	}
	return evs
}

// join concatenates chunks into one.
func join(in [][]byte) []byte {
	var all []byte
	for _, c := range in {
		all = append(all, c...)
	}
	return all
}

// bytewise splits the input into one chunk per byte.
func bytewise(in [][]byte) [][]byte {
	var out [][]byte
	for _, b := range join(in) {
		out = append(out, []byte{b})
	}
	return out
}

// normalize merges adjacent replies (and character-mode data), the only difference Feed allows between splits, and
// gives empty Data a canonical nil form so events compare with reflect.DeepEqual.
func normalize(evs []telnet.Event) []telnet.Event {
	var out []telnet.Event
	for _, e := range evs {
		if (e.Kind == telnet.EventReply || e.Kind == telnet.EventData) && len(out) > 0 && out[len(out)-1].Kind == e.Kind {
			last := &out[len(out)-1]
			last.Data = append(last.Data[:len(last.Data):len(last.Data)], e.Data...)
			continue
		}
		if len(e.Data) == 0 {
			e.Data = nil
		}
		out = append(out, e)
	}
	return out
}

// format renders events one per line for failure messages.
func format(evs []telnet.Event) string {
	if len(evs) == 0 {
		return "  (none)\n"
	}
	var sb strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&sb, "  %v\n", e)
	}
	return sb.String()
}

// checkInvariants reports events that break the Decoder's guarantees.
func checkInvariants(t *testing.T, cfg telnet.Config, evs []telnet.Event) {
	t.Helper()
	maxLine := cfg.MaxLine
	if maxLine <= 0 {
		maxLine = telnet.DefaultMaxLine
	}
	for i, e := range evs {
		switch e.Kind {
		case telnet.EventLine:
			if !utf8.ValidString(e.Line) {
				t.Errorf("event %d: line %q is not valid UTF-8", i, e.Line)
			}
			if len(e.Line) > maxLine {
				t.Errorf("event %d: line has %d bytes, max %d", i, len(e.Line), maxLine)
			}
			if strings.ContainsAny(e.Line, "\r\n\x00\x03\x04\x08\x15\x7f") {
				t.Errorf("event %d: line %q holds a line end or editing byte", i, e.Line)
			}
			if e.Line == "" && !e.Truncated {
				t.Errorf("event %d: empty line event", i)
			}
		case telnet.EventReply:
			if len(e.Data) == 0 {
				t.Errorf("event %d: empty reply", i)
			}
		case telnet.EventInterrupt:
		case telnet.EventWindowSize:
			if e.Width < 1 || e.Width > telnet.MaxWidth || e.Height < 1 || e.Height > telnet.MaxHeight {
				t.Errorf("event %d: window size %dx%d out of range", i, e.Width, e.Height)
			}
		case telnet.EventSubnegTooLong:
			if e.Line != "" || e.Truncated || e.Data != nil || e.Width != 0 || e.Height != 0 || e.Text != "" {
				t.Errorf("event %d: %v has fields set", i, e)
			}
		case telnet.EventTerminalType:
			if e.Text == "" || len(e.Text) > telnet.MaxTermTypeLen {
				t.Errorf("event %d: terminal type %q has bad length", i, e.Text)
			}
			for _, c := range []byte(e.Text) {
				if c <= ' ' || c >= 0x7f {
					t.Errorf("event %d: terminal type %q holds byte %#x", i, e.Text, c)
				}
			}
		case telnet.EventData:
			if len(e.Data) == 0 {
				t.Errorf("event %d: empty data", i)
			}
		case telnet.EventEraseChar, telnet.EventEraseLine:
		case telnet.EventMode:
			if !cfg.Echo {
				t.Errorf("event %d: %v without Config.Echo", i, e)
			}
			if !utf8.ValidString(e.Line) || len(e.Line) > maxLine || !e.CharMode && e.Line != "" {
				t.Errorf("event %d: %v carries a bad line", i, e)
			}
		default:
			t.Errorf("event %d: unknown kind %v", i, e.Kind)
		}
	}
}
