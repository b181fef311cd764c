package client

import (
	"strconv"
	"time"

	"telchat/hub"
)

// pace holds the line nextLine found until the client's message rate
// allows it, as IRC servers do with "fakelag": a client over its rate is
// slowed, not cut, so a paste arrives whole and in order, a little late.
// While the reader waits it reads nothing, so the client's further input
// waits in the kernel and, past its buffers, in the client (TCP
// backpressure): a fast sender costs the server no memory.
//
// The flood rule: a client whose lines have all had to wait, without a
// pause that lets it catch up, for longer than Config.FloodTime is
// disconnected (reason flood), after a notice that follows the replies to
// everything it sent before.
//
// pace reports whether the line may go to the hub; when it may not, the
// reader is stopping.
//
//go:noinline
func (in *input) pace() bool {
	if in.limiter == nil {
		return true
	}
	s := in.s
	cfg := &s.srv.cfg
	now := time.Now()
	r := in.limiter.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	if wait <= 0 {
		in.held = time.Time{}
		return true
	}
	s.srv.totals.linesPaced.Add(1)
	if in.held.IsZero() {
		in.held = now
	}
	if cfg.FloodTime > 0 && now.Add(wait).Sub(in.held) > cfg.FloodTime {
		in.notice("! Disconnected for flooding: more than " + strconv.FormatFloat(float64(in.limiter.Limit()), 'g', -1, 64) +
			" lines a second for " + cfg.FloodTime.String())
		in.stop(hub.Reason{Kind: hub.KindFlood})
		return false
	}
	if s.pause(wait) {
		return true
	}
	// Halted: the session is finishing (the hub knows), or the writer
	// failed and closed the connection (the hub must be told why).
	e := s.ending()
	if r, ok := e.writerReason(); ok {
		in.stop(r)
	} else if e != endNone {
		in.stop(hub.Reason{}) // the hub needs no reason
	} else {
		in.stop(hub.Reason{Kind: hub.KindHangup})
	}
	return false
}
