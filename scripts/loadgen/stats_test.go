package main

import (
	"math"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	values := []int64{0, 1, 31, 32, 33, 63, 64, 65, 100, 1000, 123456, 1 << 40, math.MaxInt64}
	for _, v := range values {
		i := bucketIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketIndex(%d) = %d out of range", v, i)
		}
		if upper := bucketUpper(i); upper < v {
			t.Errorf("bucketUpper(bucketIndex(%d)) = %d < value", v, upper)
		}
		if i > 0 {
			if below := bucketUpper(i - 1); below >= v {
				t.Errorf("value %d also fits bucket %d (upper %d)", v, i-1, below)
			}
		}
		if upper := bucketUpper(i); v > histSub && float64(upper-v)/float64(v) > 1.0/histSub {
			t.Errorf("bucket of %d has upper %d: relative error above 1/%d", v, upper, histSub)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	tests := []struct {
		name    string
		values  []time.Duration
		q       float64
		wantMin time.Duration
		wantMax time.Duration
	}{
		{"empty", nil, 0.5, 0, 0},
		{"single", []time.Duration{time.Millisecond}, 0.99, time.Millisecond, time.Millisecond},
		{"median of 1..100 ms", msRange(1, 100), 0.5, 50 * time.Millisecond, 52 * time.Millisecond},
		{"p99 of 1..100 ms", msRange(1, 100), 0.99, 99 * time.Millisecond, 100 * time.Millisecond},
		{"max is exact", msRange(1, 100), 1, 100 * time.Millisecond, 100 * time.Millisecond},
		{"negative counts as zero", []time.Duration{-time.Second}, 0.5, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h latencyHistogram
			for _, v := range tc.values {
				h.record(v)
			}
			if got := h.quantile(tc.q); got < tc.wantMin || got > tc.wantMax {
				t.Fatalf("quantile(%v) = %v, want in [%v, %v]", tc.q, got, tc.wantMin, tc.wantMax)
			}
			if h.count() != uint64(len(tc.values)) {
				t.Fatalf("count = %d, want %d", h.count(), len(tc.values))
			}
		})
	}
}

func msRange(from, to int) []time.Duration {
	var out []time.Duration
	for i := from; i <= to; i++ {
		out = append(out, time.Duration(i)*time.Millisecond)
	}
	return out
}

func TestSeqTracker(t *testing.T) {
	tests := []struct {
		name          string
		arrivals      []int
		expected      int
		wantLost      int
		wantDups      int
		wantReordered int
	}{
		{"in order", []int{0, 1, 2, 3}, 4, 0, 0, 0},
		{"nothing", nil, 3, 3, 0, 0},
		{"gap", []int{0, 1, 3}, 4, 1, 0, 0},
		{"tail missing", []int{0, 1}, 5, 3, 0, 0},
		{"duplicate", []int{0, 1, 1, 2}, 3, 0, 1, 0},
		{"swap", []int{0, 2, 1, 3}, 4, 0, 0, 1},
		{"late duplicate", []int{0, 2, 1, 2}, 3, 0, 1, 1},
		{"across words", []int{0, 63, 64, 65, 200}, 201, 196, 0, 0},
		{"beyond expected not lost", []int{0, 1, 2, 5}, 3, 0, 0, 0},
		{"word boundary expected", seqRange(0, 64), 64, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newSeqTracker()
			for _, s := range tc.arrivals {
				tr.observe(s)
			}
			if got := tr.lost(tc.expected); got != tc.wantLost {
				t.Errorf("lost = %d, want %d", got, tc.wantLost)
			}
			if tr.dups != tc.wantDups || tr.reordered != tc.wantReordered {
				t.Errorf("dups, reordered = %d, %d; want %d, %d", tr.dups, tr.reordered, tc.wantDups, tc.wantReordered)
			}
		})
	}
}

func seqRange(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h latencyHistogram
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
}
