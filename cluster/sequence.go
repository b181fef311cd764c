package cluster

import (
	"time"
)

// Every server numbers the events it publishes (a run, the time its link
// was dialed, and a number in that run, from 1), and every server reads
// the feed through a sequencer that hands each origin's events on in that
// order, once. The feed stream keeps them in the order it stored them,
// which is an origin's order except after a publish was retried: a line
// lost with a dying NATS node, or not stored during a leader election, is
// published again and stored after the lines that followed it. The
// sequencer holds those later lines until the retried one comes (the gap
// fills), and drops what it has handed on already (a retry whose first
// copy was stored too, outside the stream's duplicate window).
//
// A gap that does not fill within the wait (the origin gave up, or died)
// is skipped, and so is one that holds more than the limit of later
// events. The sequencer runs on the feed consumer's goroutine only.

// seqHoldMax bounds the events held behind one origin's gap.
const seqHoldMax = 8192

// sequencer orders each origin's events.
type sequencer struct {
	start   int64         // this link's run: an origin run begun later is seen from its first event
	wait    time.Duration // how long a gap may hold events back
	origins map[string]*originSeq
	skipped int64 // events never seen (gaps skipped)
}

// originSeq is what the sequencer knows of one origin.
type originSeq struct {
	run   int64
	next  uint64 // the number expected next
	held  map[uint64]item
	since time.Time // when the current gap began to hold events
}

func newSequencer(start int64, wait time.Duration) *sequencer {
	return &sequencer{start: start, wait: wait, origins: make(map[string]*originSeq)}
}

// accept takes one event from the feed and appends to out the events of
// its origin that can be handed on now, in order.
func (s *sequencer) accept(it item, now time.Time, out []item) []item {
	if it.st.seq == 0 { // from a server that does not number its events
		return append(out, it)
	}
	o := s.origins[it.e.Origin]
	if o == nil || o.run != it.st.run {
		if o != nil && it.st.run < o.run {
			return out // an older run's, retried late: its server restarted since
		}
		next := it.st.seq
		if it.st.run > s.start {
			next = 1 // that run began after this one: all of it is ahead in the feed
		}
		o = &originSeq{run: it.st.run, next: next}
		s.origins[it.e.Origin] = o
	}
	switch {
	case it.st.seq < o.next:
		return out // handed on already
	case it.st.seq > o.next:
		if o.held == nil {
			o.held = make(map[uint64]item)
		}
		if len(o.held) == 0 {
			o.since = now
		}
		o.held[it.st.seq] = it
		if len(o.held) <= seqHoldMax && now.Sub(o.since) < s.wait {
			return out
		}
		s.skip(o)
	default:
		out = append(out, it)
		o.next++
	}
	for {
		h, ok := o.held[o.next]
		if !ok {
			break
		}
		delete(o.held, o.next)
		out = append(out, h)
		o.next++
	}
	if len(o.held) > 0 {
		o.since = now // a gap further on: its wait starts now
	}
	return out
}

// skip gives up on o's gap: the next expected is the first held.
func (s *sequencer) skip(o *originSeq) {
	first := uint64(0)
	for q := range o.held {
		if first == 0 || q < first {
			first = q
		}
	}
	s.skipped += int64(first - o.next)
	o.next = first
}
