package cluster

import (
	"sync/atomic"
	"time"

	"telchat/hub"
)

// The hub is told that the link is down (hub.ClusterLink, Up false: its
// users see "cluster link lost, local chat only") when the NATS
// connection is lost, and also when the feed stops working while the
// connection stays up: the publisher's oldest event has waited
// Config.OpTimeout without being stored (JetStream without a majority, a
// feed without a leader for long), or feedWatch found the consumer
// stalled. It is told that the link is up again once all three are well
// and proven (the connection is back, and since then an event was stored
// and an event was read: the link publishes a sync request as the
// connection comes back to prove it with) and have stayed so for
// Config.settleTime (settle.go): one outage gives one
// "lost" and one "restored", however often the health flips while
// JetStream settles. While it thinks the link down, the hub shows its
// users' room lines at once also with -cluster-order stream, so a feed
// that stores nothing does not hold back a server's own chat.

// updateHealth tells the hub when the link's state changed: a failure at
// once, a recovery once it has lasted settleTime (the settle timer calls
// it again then).
func (l *Link) updateHealth() {
	l.healthMu.Lock()
	defer l.healthMu.Unlock()
	if l.closed.Load() || l.killed.Load() {
		return
	}
	conn, pub, cons := !l.connDown.Load(), !l.pubStuck.Load(), !l.consStuck.Load()
	proven := !l.pubUnproven.Load() && !l.consUnproven.Load()
	tell, wait := l.health.observe(conn && pub && cons && proven, time.Now())
	if wait > 0 {
		if l.settleTimer == nil {
			l.settleTimer = time.AfterFunc(wait, l.updateHealth)
		} else {
			l.settleTimer.Reset(wait)
		}
	}
	if !tell {
		return
	}
	up := l.health.told
	if conn {
		ev := l.log.Warn().Bool("publishes_stored", pub).Bool("consumer_reading", cons)
		if up {
			ev.Msg("cluster feed working again")
		} else {
			ev.Msg("cluster feed not working: local chat only")
		}
	}
	l.toSink(hub.ClusterEvent{Kind: hub.ClusterLink, Up: up})
}

// stopSettling stops the settle timer (Close, Kill).
func (l *Link) stopSettling() {
	l.healthMu.Lock()
	defer l.healthMu.Unlock()
	if l.settleTimer != nil {
		l.settleTimer.Stop()
	}
}

// setHealth sets one of the link's health flags (true: that part is
// failing) and tells the hub if that changed the link's state.
func (l *Link) setHealth(flag *atomic.Bool, failing bool) {
	if flag.Swap(failing) != failing {
		l.updateHealth()
	}
}

// proved clears one of the proofs the link waits for after a reconnect
// (pubUnproven, consUnproven) and tells the hub if that made it well.
func (l *Link) proved(unproven *atomic.Bool) {
	if unproven.Load() && unproven.Swap(false) {
		l.updateHealth()
	}
}
