package hub

import (
	"testing"
	"time"
)

func TestLagHistogram(t *testing.T) {
	var l LagHistogram
	for _, d := range []time.Duration{0, 10 * time.Microsecond, 11 * time.Microsecond, time.Millisecond, 2 * time.Second} {
		l.observe(d)
	}
	s := l.Snapshot()
	tests := []struct {
		le   time.Duration
		want uint64
	}{
		{10 * time.Microsecond, 2}, // bounds are inclusive
		{25 * time.Microsecond, 3},
		{500 * time.Microsecond, 3},
		{time.Millisecond, 4},
		{time.Second, 4},
	}
	for _, tc := range tests {
		i := 0
		for i < len(s.Bounds) && s.Bounds[i] != tc.le {
			i++
		}
		if i == len(s.Bounds) {
			t.Fatalf("no bucket with bound %v", tc.le)
		}
		if s.Cumulative[i] != tc.want {
			t.Errorf("le %v: %d, want %d", tc.le, s.Cumulative[i], tc.want)
		}
	}
	if s.Count != 5 || s.Sum != 2*time.Second+time.Millisecond+21*time.Microsecond {
		t.Errorf("count %d sum %v", s.Count, s.Sum)
	}
}

func TestCountDisconnect(t *testing.T) {
	var c Counters
	for _, r := range []Reason{{Kind: KindQuit}, {Kind: KindQuit, Text: "bye"}, {Kind: KindSlow}, {Kind: "weird"}} {
		c.countDisconnect(r)
	}
	want := map[string]int64{KindQuit: 2, KindSlow: 1, "other": 1}
	for i, k := range DisconnectKinds() {
		if got := c.Disconnects[i].Load(); got != want[k] {
			t.Errorf("%s: %d, want %d", k, got, want[k])
		}
	}
}
