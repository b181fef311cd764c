package telnet_test

import (
	"strings"
	"testing"

	"telchat/telnet"
)

// BenchmarkDecoder measures decoding throughput on typical input read in 4 KiB chunks.
func BenchmarkDecoder(b *testing.B) {
	inputs := []struct {
		name string
		data []byte
	}{
		{"ascii lines", []byte(strings.Repeat("hello everyone, this is a fairly ordinary chat line\r\n", 80))},
		{"utf8 lines", []byte(strings.Repeat("héllo wörld, ça va? 日本語のテキスト €😀\r\n", 80))},
		{"char mode keys", []byte(strings.Repeat("h\x7fhello\r\x00", 400))},
		{"negotiation", append(hx(plinkBurst), hx("ff fa 1f 00 64 00 28 ff f0 ff fa 18 00 58 54 45 52 4d ff f0 ff fd 06")...)},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.data)))
			b.ReportAllocs()
			d := telnet.NewDecoder(telnet.Config{})
			evs := make([]telnet.Event, 0, 512)
			for b.Loop() {
				for p := in.data; len(p) > 0; {
					n := min(4096, len(p))
					evs = d.Feed(evs[:0], p[:n])
					p = p[n:]
				}
			}
		})
	}
}

// BenchmarkAppendText measures encoding a chat message for the wire.
func BenchmarkAppendText(b *testing.B) {
	msgs := []struct {
		name string
		text string
	}{
		{"short line", "<alice> hello everyone, how are you today?\n"},
		{"long multi-line", strings.Repeat("<bob> a longer message with some wörds in it\n", 40)},
	}
	for _, m := range msgs {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(int64(len(m.text)))
			b.ReportAllocs()
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				buf = telnet.AppendText(buf[:0], m.text)
			}
		})
	}
}
