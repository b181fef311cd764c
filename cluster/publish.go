package cluster

import (
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"telchat/hub"
)

// The publisher puts this server's events into the feed stream with
// acknowledgements, up to pubWindow at a time, in order. An event whose
// acknowledgement says it failed (no stream leader during an election, a
// NATS node that died with it, the connection lost) or that does not come
// within Config.OpTimeout is published again, with the same message id
// (Nats-Msg-Id: server, run and number), so the stream stores it once
// however often it is sent. While the window is full the publisher takes
// nothing more from the link's queue (queue.go), which grows, up to its
// bounds; beyond them Link.Send drops (counted): the hub never waits.

const (
	// pubWindow bounds the events published and not yet acknowledged.
	pubWindow = 1024
	// retryMin and retryMax bound the pause before a failed event is
	// published again (it doubles while the publishes keep failing).
	retryMin = 50 * time.Millisecond
	retryMax = time.Second
)

// outMsg is an event published and not yet acknowledged.
type outMsg struct {
	msg   *nats.Msg
	fut   jetstream.PubAckFuture // nil: to be published (again)
	first time.Time              // when it was first published
}

// failed reports whether o must be published again (without waiting).
func (o *outMsg) failed() bool {
	if o.fut == nil {
		return true
	}
	select {
	case <-o.fut.Err():
		o.fut = nil
		return true
	default:
		return false
	}
}

// publisher publishes what the hub sent, in order, until the queue is
// closed and everything in it acknowledged, or the link halts.
func (l *Link) publisher() {
	defer l.wg.Done()
	var pending []*outMsg
	var taken, cur *chunk // taken from the queue; cur.ev[next] is the next to publish
	next := 0
	open := true // the queue may still give events
	var seq uint64
	wait := retryMin
	retry := time.NewTimer(wait)
	defer retry.Stop()
	retrying := true // the timer runs
	for {
		// Drop the acknowledged events at the head.
		for len(pending) > 0 && pending[0].fut != nil {
			select {
			case <-pending[0].fut.Ok():
				pending[0] = nil
				pending = pending[1:]
				wait = retryMin
				l.setHealth(&l.pubStuck, false)
				l.proved(&l.pubUnproven)
				continue
			default:
			}
			break
		}
		// Publish what waits, while the window has room.
		for len(pending) < pubWindow && open {
			if cur != nil && next == cur.n && cur.next != nil {
				cur, next = cur.next, 0
			}
			if cur == nil || next == cur.n {
				taken, open = l.out.take(taken) // its events were zeroed
				cur, next = taken, 0
				if cur == nil {
					break
				}
			}
			now := time.Now()
			for ; next < cur.n && len(pending) < pubWindow; next++ {
				e := &cur.ev[next]
				for _, m := range l.encodeOut(*e, &seq) {
					o := &outMsg{msg: m, first: now}
					l.publish(o)
					pending = append(pending, o)
				}
				l.out.release(e)
				*e = hub.ClusterEvent{}
			}
		}
		if !open && len(pending) == 0 {
			return
		}
		var ok <-chan *jetstream.PubAck
		var failed <-chan error
		if len(pending) > 0 && pending[0].fut != nil {
			ok, failed = pending[0].fut.Ok(), pending[0].fut.Err()
		} else if len(pending) > 0 && !retrying {
			retry.Reset(wait)
			retrying = true
		}
		var recv <-chan struct{}
		if open && len(pending) < pubWindow {
			recv = l.out.ready // the batch is used up: wait for more
		}
		select {
		case <-recv:
		case <-ok:
			pending[0] = nil
			pending = pending[1:]
			wait = retryMin
			l.setHealth(&l.pubStuck, false)
			l.proved(&l.pubUnproven)
		case err := <-failed:
			l.log.Debug().Err(err).Msg("cluster event not stored; publishing it again")
			pending[0].fut = nil
			l.checkStuck(pending[0])
			if !retrying {
				retry.Reset(wait)
				retrying = true
			}
		case <-retry.C:
			retrying = false
			if len(pending) > 0 {
				l.checkStuck(pending[0])
			}
			if !l.nc.IsConnected() {
				if !open {
					return // closing with the link down: what is left is lost
				}
				continue // the reconnect comes first
			}
			n := 0
			for _, o := range pending {
				if o.failed() {
					l.publish(o)
					n++
				}
			}
			if n > 0 {
				l.retried.Add(int64(n))
				wait = min(2*wait, retryMax)
			}
		case <-l.halt:
			return
		}
	}
}

// checkStuck marks the publishing stuck when the oldest event o has
// waited Config.OpTimeout without being stored while the connection is
// up (the connection's own state covers the rest).
func (l *Link) checkStuck(o *outMsg) {
	if l.nc.IsConnected() && time.Since(o.first) >= l.cfg.OpTimeout {
		l.setHealth(&l.pubStuck, true)
	}
}

// encodeOut turns e into the messages that carry it (several for a big
// heartbeat), numbered from *seq+1.
func (l *Link) encodeOut(e hub.ClusterEvent, seq *uint64) []*nats.Msg {
	parts, err := encodeStamped(e, stamp{l.run, *seq + 1})
	if err != nil {
		l.log.Error().Err(err).Msg("not sent")
		return nil
	}
	subject := l.subject
	if roomLine(e) {
		subject = RoomSubject(l.cfg.Name, strings.ToLower(e.Msg.Room))
	}
	out := make([]*nats.Msg, len(parts))
	for i, b := range parts {
		*seq++
		id := l.cfg.ServerID + "." + strconv.FormatInt(l.run, 36) + "." + strconv.FormatUint(*seq, 10)
		out[i] = &nats.Msg{Subject: subject, Data: b, Header: nats.Header{jetstream.MsgIDHeader: []string{id}}}
		l.published.Add(1)
		if e.Kind == hub.ClusterLine {
			l.lines.Add(1)
		}
	}
	return out
}

// publish sends o to the feed; a publish that fails at once is left to
// the retry.
func (l *Link) publish(o *outMsg) {
	fut, err := l.js.PublishMsgAsync(o.msg)
	if err != nil {
		o.fut = nil
		return
	}
	o.fut = fut
}
