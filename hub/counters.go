package hub

import (
	"sync/atomic"
	"time"

	"telchat/logsample"
)

// Counters are the hub's counters, readable from any goroutine (metrics
// read them at scrape time). Each is a plain atomic updated where the event
// happens; none is looked up by name on the hot path.
type Counters struct {
	ConnectionsTotal atomic.Int64
	ConnectionsNow   atomic.Int64
	// Messages counts room messages (chat lines, /me, Publish),
	// PrivateMessages private ones (/msg, /reply).
	Messages        atomic.Int64
	PrivateMessages atomic.Int64
	Deliveries      atomic.Int64
	SlowDrops       atomic.Int64
	FloodDrops      atomic.Int64
	// Refused counts every refused connection (the client package adds its
	// limit refusals); RefusedBanned those the hub refused for a ban.
	Refused       atomic.Int64
	RefusedBanned atomic.Int64
	// Disconnects counts the connections the hub removed, by the reason's
	// kind, indexed like DisconnectKinds.
	Disconnects [len(disconnectKinds)]atomic.Int64
	// Rooms, Named, Bans and Accounts (registered nicknames) are gauges of the hub's state, refreshed every
	// second.
	Rooms, Named, Bans, Accounts atomic.Int64
	// Lag is how long events wait in the hub's inbox before being handled.
	Lag LagHistogram
}

// disconnectKinds are the reason kinds Counters.Disconnects tells apart;
// the last, "other", takes any kind not listed.
var disconnectKinds = [...]string{KindQuit, KindHangup, KindKicked, KindSlow, KindTimeout, KindFlood, KindBanned, KindShutdown, "other"}

// DisconnectKinds returns the reason kinds of Counters.Disconnects, in
// index order.
func DisconnectKinds() []string { return disconnectKinds[:] }

// countDisconnect counts one removal for r.
func (c *Counters) countDisconnect(r Reason) {
	i := len(disconnectKinds) - 1
	for j, k := range disconnectKinds[:i] {
		if k == r.Kind {
			i = j
			break
		}
	}
	c.Disconnects[i].Add(1)
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

// LogSamples returns the samplers that bound the log lines strangers cause
// (Config.LogPerSecond), for the client package's refusals and for
// metrics. Safe from any goroutine.
func (h *Hub) LogSamples() *logsample.Set { return h.samples }
