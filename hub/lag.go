package hub

import (
	"sync/atomic"
	"time"
)

// LagBounds are the upper bounds of LagHistogram's buckets; a last bucket
// takes everything slower.
var lagBounds = [...]time.Duration{
	10 * time.Microsecond, 25 * time.Microsecond, 50 * time.Microsecond,
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second,
}

// LagHistogram counts how long events waited between arriving at the hub
// (a session's line, a connect, a leave) and being handled: the hub loop's
// lag. The hub goroutine is its only writer; it never locks, and any
// goroutine may take a Snapshot.
type LagHistogram struct {
	buckets [len(lagBounds) + 1]atomic.Uint64
	sum     atomic.Int64 // nanoseconds
}

// observe records one lag.
func (l *LagHistogram) observe(d time.Duration) {
	i := 0
	for i < len(lagBounds) && d > lagBounds[i] {
		i++
	}
	l.buckets[i].Add(1)
	l.sum.Add(int64(d))
}

// LagSnapshot is a LagHistogram at one moment.
type LagSnapshot struct {
	// Bounds are the buckets' upper bounds; Cumulative[i] counts the lags
	// at most Bounds[i].
	Bounds     []time.Duration
	Cumulative []uint64
	// Count is every lag observed (the +Inf bucket), Sum their total.
	Count uint64
	Sum   time.Duration
}

// Snapshot reads the histogram. The counts are consistent with each other
// (Count is the sum of the buckets read); Sum may be a few events ahead.
func (l *LagHistogram) Snapshot() LagSnapshot {
	s := LagSnapshot{Bounds: lagBounds[:], Cumulative: make([]uint64, len(lagBounds))}
	var total uint64
	for i := range l.buckets {
		total += l.buckets[i].Load()
		if i < len(lagBounds) {
			s.Cumulative[i] = total
		}
	}
	s.Count = total
	s.Sum = time.Duration(l.sum.Load())
	return s
}
