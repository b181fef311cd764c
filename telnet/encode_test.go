package telnet_test

import (
	"bytes"
	"reflect"
	"testing"

	"telchat/telnet"
)

func TestAppendText(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []byte
	}{
		{"empty", "", nil},
		{"plain", "hello", bs("hello")},
		{"LF", "line1\nline2\n", bs("line1\r\nline2\r\n")},
		{"CR LF kept", "LINE3\r\nLINE4\r\n", bs("LINE3\r\nLINE4\r\n")},
		{"lone CR", "NUL\rx-", bs("NUL\r", 0, "x-")},
		{"CR at end", "a\r", bs("a\r", 0)},
		{"CR CR LF", "a\r\r\n", bs("a\r", 0, "\r\n")},
		{"LF CR", "\n\r", bs("\r\n\r", 0)},
		{"0xFF doubled", "MID\xfff", bs("MID", 0xff, 0xff, "f")},
		{"only 0xFF", "\xff\xff", hx("ff ff ff ff")},
		{"UTF-8 untouched", "héllo €\n", bs("héllo €\r\n")},
		{"NUL and ESC untouched", "a\x00\x1b", bs("a\x00\x1b")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prefix := []byte("> ")
			got := telnet.AppendText(prefix, c.in)
			if want := append([]byte("> "), c.want...); !bytes.Equal(got, want) {
				t.Errorf("AppendText(%q) = % x, want % x", c.in, got, want)
			}
		})
	}
}

// TestAppendTextRoundTrip checks that the decoder reads back what AppendText wrote.
func TestAppendTextRoundTrip(t *testing.T) {
	in := "héllo\nwörld\r\nlast\r"
	evs := decode(telnet.Config{}, [][]byte{telnet.AppendText(nil, in)}, false)
	want := []telnet.Event{line("héllo"), line("wörld"), line("last")}
	if got := normalize(evs); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%swant\n%s", format(got), format(want))
	}
}
