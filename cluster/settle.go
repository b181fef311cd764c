package cluster

import "time"

// settler decides what the hub is told of the link (hub.ClusterLink) from
// the link's health as observed: a link that fails is told down at once,
// but one that works again is told up only once it has worked for settle
// without a break. While JetStream settles after a NATS outage the health
// flips (the connection is back, then the oldest event is found unstored
// or the consumer stalled, then both work), and users would otherwise see
// several pairs of "cluster link lost" and "restored" for one outage. It
// does no I/O and reads no clock: its caller passes the time (health.go).
type settler struct {
	settle time.Duration
	told   bool      // what the hub was last told: the link is up
	since  time.Time // when the health last turned good while told down; zero: not good
}

// observe takes the link's health at now. It reports whether to tell the
// hub (the state to tell is s.told), and, when the link is good but not yet
// told up, how long to wait before observing again.
func (s *settler) observe(good bool, now time.Time) (tell bool, wait time.Duration) {
	if !good {
		s.since = time.Time{}
		if s.told {
			s.told = false
			return true, 0
		}
		return false, 0
	}
	if s.told {
		return false, 0
	}
	if s.since.IsZero() {
		s.since = now
	}
	if held := now.Sub(s.since); held < s.settle {
		return false, s.settle - held
	}
	s.told, s.since = true, time.Time{}
	return true, 0
}

// settleTime is how long the link must work again before the hub is told
// it is back: two of feedWatch's checks (a consumer that stalls right
// after it read once is found by then). Right after a NATS outage the
// connection is back before JetStream answers, so the link is not called
// well on the connection alone but on proof: an event stored and an event
// read since it came back (health.go). The link publishes meanwhile, so
// no other server counts this one lost.
func (c *Config) settleTime() time.Duration {
	return 2 * feedHeartbeat
}
