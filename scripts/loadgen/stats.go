package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// histSubBits is the number of mantissa bits kept per power of two: values
// are recorded with a relative error below 1/2^histSubBits (about 3 %).
const histSubBits = 5

// histSub is the number of buckets per power of two.
const histSub = 1 << histSubBits

// histBuckets covers every non-negative int64.
const histBuckets = (64 - histSubBits + 1) * histSub

// latencyHistogram is a log-linear histogram of durations in nanoseconds,
// safe for concurrent use. The zero value is ready to use.
type latencyHistogram struct {
	counts [histBuckets]atomic.Uint64
	total  atomic.Uint64
	max    atomic.Int64
}

// bucketIndex returns the bucket of a non-negative value.
func bucketIndex(v int64) int {
	if v < histSub {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - histSubBits - 1
	return (shift+1)*histSub + int(uint64(v)>>uint(shift)) - histSub
}

// bucketUpper returns the largest value that falls into bucket i.
func bucketUpper(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	shift := i/histSub - 1
	mant := int64(i%histSub + histSub)
	upper := (mant+1)<<uint(shift) - 1
	if upper < 0 { // top bucket overflows int64
		return math.MaxInt64
	}
	return upper
}

// record adds one observation. Negative durations (clock skew) count as 0.
func (h *latencyHistogram) record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketIndex(v)].Add(1)
	h.total.Add(1)
	for {
		old := h.max.Load()
		if v <= old || h.max.CompareAndSwap(old, v) {
			return
		}
	}
}

// count returns the number of observations.
func (h *latencyHistogram) count() uint64 { return h.total.Load() }

// maximum returns the largest observation (exact).
func (h *latencyHistogram) maximum() time.Duration { return time.Duration(h.max.Load()) }

// quantile returns an upper bound of the q-quantile (0 < q <= 1), at most
// the exact maximum; 0 when empty.
func (h *latencyHistogram) quantile(q float64) time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(time.Duration(bucketUpper(i)), h.maximum())
		}
	}
	return h.maximum()
}

// seqTracker checks the sequence numbers that one receiver gets from one
// sender. It is used by a single goroutine.
type seqTracker struct {
	seen      []uint64 // bitset of received sequence numbers
	maxSeq    int      // highest sequence number received, -1 if none
	unique    int      // distinct sequence numbers received
	dups      int      // arrivals of a sequence number already received
	reordered int      // arrivals below maxSeq that were not duplicates
}

// newSeqTracker returns an empty tracker.
func newSeqTracker() seqTracker { return seqTracker{maxSeq: -1} }

// seqOutcome classifies one arrival.
type seqOutcome int

// Outcomes of seqTracker.observe.
const (
	seqInOrder   seqOutcome = iota // new and above every earlier one
	seqDuplicate                   // already received
	seqReordered                   // new but below an earlier one
)

// observe records the arrival of seq (>= 0) and classifies it.
func (t *seqTracker) observe(seq int) seqOutcome {
	word, bit := seq/64, uint(seq%64)
	if word >= len(t.seen) {
		grown := make([]uint64, max(word+1, 2*len(t.seen)))
		copy(grown, t.seen)
		t.seen = grown
	}
	if t.seen[word]&(1<<bit) != 0 {
		t.dups++
		return seqDuplicate
	}
	t.seen[word] |= 1 << bit
	t.unique++
	if seq < t.maxSeq {
		t.reordered++
		return seqReordered
	}
	t.maxSeq = seq
	return seqInOrder
}

// lost returns how many of the sequence numbers 0..expected-1 never arrived.
func (t *seqTracker) lost(expected int) int {
	got := 0
	for w, word := range t.seen {
		if w*64 >= expected {
			break
		}
		if end := expected - w*64; end < 64 {
			word &= 1<<uint(end) - 1
		}
		got += bits.OnesCount64(word)
	}
	return expected - got
}
