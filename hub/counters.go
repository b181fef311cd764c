package hub

import (
	"sync/atomic"
	"time"
)

// Counters are the hub's monotonic counters, readable from any goroutine.
type Counters struct {
	ConnectionsTotal atomic.Int64
	ConnectionsNow   atomic.Int64
	Messages         atomic.Int64
	Deliveries       atomic.Int64
	SlowDrops        atomic.Int64
	FloodDrops       atomic.Int64
	Refused          atomic.Int64
}

// rateWindow counts messages over the last few seconds for /stats.
type rateWindow struct {
	sec    int64
	counts [8]int64
}

func (w *rateWindow) add(now time.Time) {
	s := now.Unix()
	w.advance(s)
	w.counts[s%int64(len(w.counts))]++
}

func (w *rateWindow) advance(s int64) {
	if s == w.sec {
		return
	}
	for i := w.sec + 1; i <= s && i <= w.sec+int64(len(w.counts)); i++ {
		w.counts[i%int64(len(w.counts))] = 0
	}
	w.sec = s
}

// perSecond is the average over the last complete seconds.
func (w *rateWindow) perSecond(now time.Time) float64 {
	s := now.Unix()
	w.advance(s)
	var total int64
	for i := int64(1); i < int64(len(w.counts)); i++ {
		total += w.counts[(s-i+int64(len(w.counts)))%int64(len(w.counts))]
	}
	return float64(total) / float64(len(w.counts)-1)
}
