package telnet

import (
	"bytes"
	"strings"
	"testing"
)

// TestLongLineBoundedMemory feeds 1 MiB without a line end, in several shapes, and checks
// that the line buffer never grows past MaxLine and the line is delivered truncated.
func TestLongLineBoundedMemory(t *testing.T) {
	const mib = 1 << 20
	cases := []struct {
		name  string
		text  []byte
		chunk int
		want  string
	}{
		{"ASCII in 4 KiB reads", bytes.Repeat([]byte("a"), mib), 4096, strings.Repeat("a", DefaultMaxLine)},
		{"ASCII in one read", bytes.Repeat([]byte("a"), mib), mib, strings.Repeat("a", DefaultMaxLine)},
		{"3-byte runes", bytes.Repeat([]byte("€"), mib/3), 1000, strings.Repeat("€", DefaultMaxLine/3)},
		{"invalid bytes", bytes.Repeat([]byte{0x80}, mib), 4096, strings.Repeat("\uFFFD", DefaultMaxLine/3)},
		{"IAC IAC pairs", bytes.Repeat([]byte{IAC, IAC}, mib/2), 4096, strings.Repeat("\uFFFD", DefaultMaxLine/3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(Config{})
			var evs []Event
			for p := c.text; len(p) > 0; {
				n := min(c.chunk, len(p))
				evs = d.Feed(evs, p[:n])
				p = p[n:]
				if d.line.Cap() > DefaultMaxLine {
					t.Fatalf("line buffer cap %d > MaxLine %d", d.line.Cap(), DefaultMaxLine)
				}
			}
			if len(evs) != 0 {
				t.Fatalf("events before the line end: %v", evs)
			}
			evs = d.Feed(evs, []byte("\r\n"))
			if len(evs) != 1 || evs[0].Kind != EventLine || !evs[0].Truncated || evs[0].Line != c.want {
				t.Fatalf("got %d events, first %.40v; want one truncated line of %d bytes", len(evs), evs, len(c.want))
			}
			// The next line is normal.
			if evs = d.Feed(nil, []byte("ok\n")); len(evs) != 1 || evs[0].Line != "ok" || evs[0].Truncated {
				t.Errorf("next line: %v", evs)
			}
		})
	}
}

// TestLongSubnegBoundedMemory floods an agreed TTYPE subnegotiation without a line end and
// checks the payload buffer stays within MaxSub, the overflow is reported once and no
// payload byte leaks into a line.
func TestLongSubnegBoundedMemory(t *testing.T) {
	d := NewDecoder(Config{})
	evs := d.Feed(nil, []byte{IAC, WILL, OptTType, IAC, SB, OptTType, TTypeIs})
	chunk := bytes.Repeat([]byte("x\x00\t"), 1000)
	chunk = append(chunk, IAC, IAC)
	for range 300 {
		evs = d.Feed(evs, chunk)
		if cap(d.sb) > DefaultMaxSub {
			t.Fatalf("payload buffer cap %d > MaxSub %d", cap(d.sb), DefaultMaxSub)
		}
	}
	evs = d.Feed(evs, []byte{IAC, SE, 'h', 'i', '\n'})
	if len(evs) != 3 || evs[0].Kind != EventReply || evs[1].Kind != EventSubnegTooLong || evs[2].Line != "hi" {
		t.Errorf("got %v, want the DO TTYPE reply, SubnegTooLong and line hi", evs)
	}
}

// TestAllocs checks the allocation budget: one string per line, nothing per byte.
func TestAllocs(t *testing.T) {
	d := NewDecoder(Config{})
	evs := make([]Event, 0, 64)
	lines := []byte(strings.Repeat("hello, this is a chat line\r\n", 8))
	d.Feed(evs, lines) // warm up the line buffer
	if n := testing.AllocsPerRun(100, func() { evs = d.Feed(evs[:0], lines) }); n > 8 {
		t.Errorf("Feed of 8 ASCII lines: %v allocations, want at most 8", n)
	}
	utf := []byte(strings.Repeat("héllo wörld €😀\x7f", 20))
	d.Feed(evs[:0], utf)
	if n := testing.AllocsPerRun(100, func() { evs = d.Feed(evs[:0], utf) }); n > 0 {
		t.Errorf("Feed of text without a line end: %v allocations, want 0", n)
	}
}

// TestCRPending checks the pending-CR state through the line assembler's idleness (no
// partial line is left in these cases, so only a pending CR keeps it busy): it is not
// visible in events, because the empty line a stray LF would end produces no event.
func TestCRPending(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"a\r", true},
		{"a\r\n", false},
		{"a\r\x00", false},
		{"a\r\xff\xf1", true}, // a command does not clear it
		{"a\r\xff\xfd\x06", true},
		{"a\r\r", true},
		{"a\rb\n", false},
		{"a\n", false},
	}
	for _, c := range cases {
		d := NewDecoder(Config{})
		d.Feed(nil, []byte(c.in))
		if pending := !d.line.Idle(); pending != c.want {
			t.Errorf("after %q: CR pending = %v, want %v", c.in, pending, c.want)
		}
	}
}
