package telnet_test

import (
	"fmt"
	"strings"
	"testing"

	"telchat/telnet"
)

func TestIdle(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		req  func(d *telnet.Decoder) // optional request before the input
		want bool
	}{
		{"new", nil, nil, true},
		{"partial line", []byte("hi"), nil, false},
		{"line with LF", []byte("hi\n"), nil, true},
		{"line with CR LF", []byte("hi\r\n"), nil, true},
		{"line with CR NUL", []byte("hi\r\x00"), nil, true},
		{"CR waiting for LF", []byte("hi\r"), nil, false},
		{"incomplete UTF-8", []byte{0xc3}, nil, false},
		{"long line, cut, no end", []byte(strings.Repeat("x", telnet.DefaultMaxLine+1)), nil, false},
		{"long line, cut, ended", []byte(strings.Repeat("x", telnet.DefaultMaxLine+1) + "\n"), nil, true},
		{"IAC alone", hx("ff"), nil, false},
		{"IAC WILL, no option byte", hx("ff fb"), nil, false},
		{"refused option", hx("ff fb 01"), nil, true},
		{"accepted option (SGA)", hx("ff fb 03"), nil, false},
		{"accepted then off (SGA)", hx("ff fb 03 ff fc 03"), nil, true},
		{"timing mark", hx("ff fd 06"), nil, true},
		{"AYT", hx("ff f6"), nil, true},
		{"inside a subnegotiation", hx("ff fa 18 00 61"), nil, false},
		{"after a subnegotiation", hx("ff fa 18 00 61 ff f0"), nil, true},
		{"request pending", nil, func(d *telnet.Decoder) { d.RequestLocal(telnet.OptEcho, true) }, false},
		{"request refused", hx("ff fe 01"), func(d *telnet.Decoder) { d.RequestLocal(telnet.OptEcho, true) }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := telnet.NewDecoder(telnet.Config{})
			if c.req != nil {
				c.req(d)
			}
			d.Feed(nil, c.in)
			if got := d.Idle(); got != c.want {
				t.Fatalf("Idle() = %v after %q, want %v", got, c.in, c.want)
			}
			if !c.want {
				return
			}
			// An idle decoder must decode what follows exactly as a new one.
			for _, next := range [][]byte{[]byte("\nab\r\n"), hx("ff fb 03 ff fa 1f 00 50 00 18 ff f0"), []byte("\x00x\n")} {
				got := fmt.Sprint(d.Feed(nil, next))
				want := fmt.Sprint(telnet.NewDecoder(telnet.Config{}).Feed(nil, next))
				if got != want {
					t.Fatalf("after %q then %q: got %s, a new decoder gives %s", c.in, next, got, want)
				}
				d = telnet.NewDecoder(telnet.Config{})
				if c.req != nil {
					c.req(d)
				}
				d.Feed(nil, c.in)
			}
		})
	}
}

// FuzzIdle checks Idle's promise on any stream: wherever a decoder says it is idle,
// decoding the rest of the stream with it gives the same events as with a new decoder.
func FuzzIdle(f *testing.F) {
	seeds := [][]byte{
		[]byte("hello\r\nworld\n"),
		hx("ff fb 03 ff fd 01 ff fa 1f 00 50 00 18 ff f0 61 0d 0a"),
		bs("a\r", hx("ff f6"), "\x00b\n", hx("ff fb 18 ff fa 18 00"), "vt100", hx("ff f0")),
		bs(hx("ff fc 03 ff fe 06 c3"), "\xa9\n\r"),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	cfg := telnet.Config{MaxLine: 16, MaxSub: 8}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 512 {
			return // the check is quadratic
		}
		d := telnet.NewDecoder(cfg)
		for i := 0; i <= len(data); i++ {
			if d.Idle() {
				used := telnet.NewDecoder(cfg)
				used.Feed(nil, data[:i])
				got := fmt.Sprint(used.Feed(nil, data[i:]))
				want := fmt.Sprint(telnet.NewDecoder(cfg).Feed(nil, data[i:]))
				if got != want {
					t.Fatalf("idle after %q: the rest %q gives %s, a new decoder %s", data[:i], data[i:], got, want)
				}
			}
			if i < len(data) {
				d.Feed(nil, data[i:i+1])
			}
		}
	})
}
