package client

import (
	"time"
)

// flood counts dropped lines in a sliding 10-second window.
type flood struct {
	start  time.Time
	drops  int
	warned bool
}

// drop records one dropped line and reports whether more than limit lines
// were dropped in the window (never when limit is 0).
func (f *flood) drop(now time.Time, limit int) bool {
	if now.Sub(f.start) > 10*time.Second {
		f.start, f.drops, f.warned = now, 0, false
	}
	f.drops++
	return limit > 0 && f.drops > limit
}

// shouldWarn is true once per window.
func (f *flood) shouldWarn() bool {
	if f.warned {
		return false
	}
	f.warned = true
	return true
}
