package cluster

import (
	"testing"
	"time"
)

// TestSettler feeds the settler sequences of health observations on a
// fake clock: a failure is told at once and once, a recovery only after
// settle without a break.
func TestSettler(t *testing.T) {
	const settle = 2 * time.Second
	type obs struct {
		at   time.Duration // since the start
		good bool
		tell string        // "", "up" or "down"
		wait time.Duration // the wait returned
	}
	tests := []struct {
		name string
		seq  []obs
	}{
		{"steady", []obs{{0, true, "", 0}, {time.Second, true, "", 0}}},
		{"down at once", []obs{{0, false, "down", 0}, {10 * time.Millisecond, false, "", 0}}},
		{"up after settle", []obs{
			{0, false, "down", 0},
			{time.Second, true, "", settle},
			{2 * time.Second, true, "", time.Second},
			{3 * time.Second, true, "up", 0},
			{4 * time.Second, true, "", 0},
		}},
		{"flapping while settling: one lost, one restored", []obs{
			{0, false, "down", 0},
			{time.Second, true, "", settle},
			{1500 * time.Millisecond, false, "", 0},
			{1600 * time.Millisecond, true, "", settle},
			{2 * time.Second, false, "", 0},
			{2500 * time.Millisecond, true, "", settle},
			{4 * time.Second, true, "", 500 * time.Millisecond},
			{4500 * time.Millisecond, true, "up", 0},
		}},
		{"down again after told up", []obs{
			{0, false, "down", 0},
			{0, true, "", settle},
			{settle, true, "up", 0},
			{settle + time.Millisecond, false, "down", 0},
			{settle + 2*time.Millisecond, true, "", settle},
		}},
	}
	start := time.Date(2026, 12, 6, 23, 44, 21, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := settler{settle: settle, told: true}
			for i, o := range tt.seq {
				tell, wait := s.observe(o.good, start.Add(o.at))
				got := ""
				if tell && s.told {
					got = "up"
				} else if tell {
					got = "down"
				}
				if got != o.tell || wait != o.wait {
					t.Errorf("observation %d (%v at %v): told %q, wait %v; want %q, %v", i, o.good, o.at, got, wait, o.tell, o.wait)
				}
			}
		})
	}
}
