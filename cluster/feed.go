package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"telchat/hub"
)

// Cluster traffic goes through the JetStream stream FeedStream(name),
// which captures every subject of the cluster (telchat.NAME.>: the events
// subject and the rooms' subjects). Each server publishes its events into
// it with acknowledgements (publish.go) and reads all of them back through
// one ordered consumer, which resumes at the next stream sequence when it
// was cut (a reconnect to another NATS node, a stream leader that moved,
// missed heartbeats): a NATS node that dies costs no message. The feed is
// a replay window, not an archive: it keeps feedAge of traffic (at most
// feedBytes), enough for a reconnect or an election. Room history is kept
// by the history stream, which sources the room subjects from the feed
// (history.go).

const (
	// feedAge is how long the feed keeps an event; a server cut off for
	// longer misses what was said meanwhile (its users were told the
	// link was lost). It is also the duplicate window of the retries.
	feedAge = 2 * time.Minute
	// feedBytes caps the feed (the oldest events go first).
	feedBytes = 256 << 20
	// feedExpiry and feedHeartbeat are the consumer's pull request life
	// and idle heartbeat: two missed heartbeats make it start again from
	// the next sequence (on another node if its node died).
	feedExpiry    = 5 * time.Second
	feedHeartbeat = time.Second
	// feedInactive: NATS deletes a consumer not pulled from this long.
	feedInactive = 30 * time.Second
)

// FeedStream is the name of the stream that carries a cluster's traffic.
func FeedStream(name string) string { return "telchat_" + name + "_feed" }

// feedSubjects is the feed's subject filter: all of the cluster's.
func feedSubjects(name string) string { return "telchat." + name + ".>" }

// openFeed creates (or opens) the feed stream.
func (l *Link) openFeed(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.setupTimeout())
	defer cancel()
	sc := jetstream.StreamConfig{
		Name:        FeedStream(l.cfg.Name),
		Description: "telchat cluster traffic: every server's events and room lines, a short replay window",
		Subjects:    []string{feedSubjects(l.cfg.Name)},
		MaxAge:      feedAge,
		MaxBytes:    feedBytes,
		Duplicates:  feedAge,
		Discard:     jetstream.DiscardOld,
		Storage:     jetstream.FileStorage,
		Replicas:    l.cfg.Replicas,
	}
	s, err := l.js.CreateStream(ctx, sc)
	if err != nil {
		if s, err = l.js.Stream(ctx, sc.Name); err != nil {
			return fmt.Errorf("cluster: feed stream %s (is JetStream enabled for this account?): %w", sc.Name, err)
		}
	}
	l.feed = s
	return nil
}

// consume starts the ordered consumer of the feed, at the event after the
// last one stored now.
func (l *Link) consume() error {
	ctx, cancel := l.opContext()
	defer cancel()
	info, err := l.feed.Info(ctx)
	if err != nil {
		return fmt.Errorf("cluster: reading the feed stream: %w", err)
	}
	cc, err := l.newConsumer(ctx, info.State.LastSeq+1)
	if err != nil {
		return err
	}
	l.feedMu.Lock()
	l.lastSeq, l.cc = info.State.LastSeq, cc
	l.feedMu.Unlock()
	return nil
}

// feedResets is how often the ordered consumer tries to start again on
// its own before feedWatch takes over.
const feedResets = 2

// newConsumer starts an ordered consumer of the feed at seq.
func (l *Link) newConsumer(ctx context.Context, seq uint64) (jetstream.ConsumeContext, error) {
	cons, err := l.feed.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy:    jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:      seq,
		MaxResetAttempts: feedResets,
		// A consumer replaced by feedWatch is gone soon after.
		InactiveThreshold: feedInactive,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: consumer of the feed: %w", err)
	}
	cc, err := cons.Consume(l.fromFeed,
		jetstream.PullExpiry(feedExpiry), jetstream.PullHeartbeat(feedHeartbeat),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if l.closed.Load() || l.killed.Load() {
				return
			}
			l.log.Debug().Err(err).Msg("feed consumer (it starts again from the next event)")
		}))
	if err != nil {
		return nil, fmt.Errorf("cluster: consuming the feed: %w", err)
	}
	return cc, nil
}

// feedWatch checks every feedHeartbeat*2 that the consumer makes progress:
// when the feed held events past the last one read at one check and none
// came by the next, it starts a new consumer after the last one read. (The
// ordered consumer starts again on its own after most cuts, but not after
// all: right after a NATS node died, creating a consumer can take seconds
// and fail until the JetStream cluster has settled, and the ordered
// consumer gives up after feedResets attempts.) Both may deliver for a
// while: fromFeed drops what was read already.
func (l *Link) feedWatch() {
	defer l.wg.Done()
	t := time.NewTicker(2 * feedHeartbeat)
	defer t.Stop()
	var seen, stored uint64 // at the check before: the last event read, and stored
	for {
		select {
		case <-t.C:
		case <-l.stop:
			return
		}
		if !l.nc.IsConnected() || l.killed.Load() {
			continue
		}
		ctx, cancel := l.opContext()
		info, err := l.feed.Info(ctx)
		cancel()
		if err != nil {
			l.log.Debug().Err(err).Msg("feed stream not answering")
			continue
		}
		l.feedMu.Lock()
		last, old := l.lastSeq, l.cc
		l.feedMu.Unlock()
		// Stalled: the feed held events past the last one read at the
		// check before, and none has come since.
		stalled := last == seen && stored > last
		seen, stored = last, info.State.LastSeq
		if !stalled {
			continue
		}
		l.log.Warn().Uint64("read", last).Uint64("stored", info.State.LastSeq).Msg("feed consumer stalled; starting a new one")
		l.setHealth(&l.consStuck, true)
		if old != nil {
			old.Stop()
		}
		ctx, cancel = l.opContext()
		cc, err := l.newConsumer(ctx, last+1)
		cancel()
		if err != nil {
			l.log.Warn().Err(err).Msg("feed consumer not started again; trying later")
			continue
		}
		l.feedMu.Lock()
		l.cc = cc
		l.feedMu.Unlock()
		if l.closed.Load() {
			cc.Stop()
			return
		}
		seen, stored = 0, 0
	}
}

// fromFeed handles one event of the feed, on a consumer's goroutine.
func (l *Link) fromFeed(m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		return
	}
	l.feedMu.Lock()
	defer l.feedMu.Unlock()
	if meta.Sequence.Stream <= l.lastSeq {
		return // a replaced consumer's, read already
	}
	l.lastSeq = meta.Sequence.Stream
	if l.consStuck.Load() {
		l.setHealth(&l.consStuck, false)
	}
	l.proved(&l.consUnproven)
	it, err := decodeItem(m.Data())
	if err != nil {
		l.log.Warn().Err(err).Msg("dropped an event")
		return
	}
	before := l.seq.skipped
	l.ready = l.seq.accept(it, time.Now(), l.ready[:0])
	if len(l.ready) == 0 {
		l.log.Debug().Str("server", it.e.Origin).Uint64("number", it.st.seq).Uint64("stream_seq", meta.Sequence.Stream).Msg("cluster event held or dropped (out of its server's order)")
	}
	if n := l.seq.skipped - before; n > 0 {
		l.log.Warn().Str("server", it.e.Origin).Int64("events", n).Msg("cluster events from this server never came; going on without them")
	}
	for i := range l.ready {
		l.receive(l.ready[i])
		l.ready[i] = item{}
	}
}

// stopConsuming ends the feed consumer and waits (a while) until its
// handler has returned.
func (l *Link) stopConsuming() {
	l.feedMu.Lock()
	cc := l.cc
	l.feedMu.Unlock()
	if cc == nil {
		return
	}
	cc.Stop()
	select {
	case <-cc.Closed():
	case <-time.After(l.cfg.OpTimeout):
	}
}

// receive hands one event of the feed, in its origin's order, to the hub.
func (l *Link) receive(it item) {
	e := it.e
	own := e.Origin == l.cfg.ServerID
	if own && !(l.cfg.StreamOrder && roomLine(e) && !it.shown) {
		return // our own, back from NATS: never delivered twice
	}
	if !own {
		l.received.Add(1)
	}
	if it.n > 1 {
		var ok bool
		if e, ok = l.assemble(e, it.p, it.n); !ok {
			return
		}
	}
	b := l.sink.Load()
	if b == nil {
		return
	}
	if e.Kind == hub.ClusterLine {
		_ = b.s.Publish(e.Msg)
		return
	}
	_ = b.s.Cluster(e)
}
