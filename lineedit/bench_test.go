package lineedit

import (
	"strings"
	"testing"
)

// BenchmarkTyping types a 60-character line one key per read, as a
// character-mode client sends it, and submits it.
func BenchmarkTyping(b *testing.B) {
	e := New(Config{Prompt: "> "})
	line := strings.Repeat("hello wörld ", 5)
	var out []byte
	var evs []Event
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < len(line); i++ {
			out, evs = e.Feed(out[:0], evs[:0], []byte{line[i]})
		}
		out, evs = e.Feed(out[:0], evs[:0], []byte("\r\x00"))
	}
}

// BenchmarkRedraw measures the bytes a writer adds around a batch of output.
func BenchmarkRedraw(b *testing.B) {
	e := New(Config{Prompt: "> "})
	e.Feed(nil, nil, []byte(strings.Repeat("x", 200)+"\x1b[D"))
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		out = e.AppendRedraw(e.AppendErase(out[:0]))
	}
}
