package client

import (
	"strconv"
	"time"

	"golang.org/x/time/rate"

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
// A listing (/who, /rooms: hub.Hub.IsListing) waits for the listing budget
// too (hub.ListingRate and ListingBurst), in the same way: a paste of
// listings is answered whole, in order, a little later.
//
// pace reports whether the line may go to the hub; when it may not, the
// reader is stopping.
//
//go:noinline
func (in *input) pace() bool {
	s := in.s
	listing := s.srv.cfg.Hub.IsListing(in.line)
	if s.msgLimit == nil && !listing {
		return true
	}
	cfg := &s.srv.cfg
	now := time.Now()
	var wait time.Duration
	if s.msgLimit != nil {
		wait = s.msgLimit.ReserveN(now, 1).DelayFrom(now)
	}
	if listing {
		if in.listings == nil {
			in.listings = rate.NewLimiter(hub.ListingRate, hub.ListingBurst)
		}
		wait = max(wait, in.listings.ReserveN(now, 1).DelayFrom(now))
	}
	if wait <= 0 {
		in.held = time.Time{}
		return true
	}
	s.srv.totals.linesPaced.Add(1)
	if in.held.IsZero() {
		in.held = now
	}
	if cfg.FloodTime > 0 && now.Add(wait).Sub(in.held) > cfg.FloodTime {
		limit := rate.Limit(hub.ListingRate)
		if s.msgLimit != nil && !listing {
			limit = s.msgLimit.Limit()
		}
		in.notice("! Disconnected for flooding: more than " + strconv.FormatFloat(float64(limit), 'g', -1, 64) +
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
