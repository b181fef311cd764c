package cluster

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"telchat/hub"
	"telchat/message"
	"telchat/store"
)

// Room history is shared through the JetStream stream HistoryStream(name):
// a room's chat lines and emotes are published on RoomSubject(name, room)
// into the feed stream (one publish: no second message), and the history
// stream sources that subject filter from the feed, keeping the last
// Config.HistorySize of each room's subject. It is a second stream and
// not a per-subject limit on the feed because such a limit would discard
// a room's lines that a lagging consumer has not read yet. A room that
// appears on a server (its first member joins, or the server just
// started) is filled from there, so a joiner sees the same history on
// every server; /history further back reads this server's disk. Archive
// wraps the disk store (hub.Archive) to do that.

// HistoryStream is the name of the stream of a cluster's room lines.
func HistoryStream(name string) string { return "telchat_" + name + "_history" }

// RoomSubject is the subject of the lines of the room with key room.
func RoomSubject(name, room string) string {
	return "telchat." + name + ".room." + hex.EncodeToString([]byte(room))
}

// roomSubjects is the stream's subject filter.
func roomSubjects(name string) string { return "telchat." + name + ".room.*" }

// historyConfig is the history stream's configuration.
func (l *Link) historyConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        HistoryStream(l.cfg.Name),
		Description: "telchat room lines: one subject per room, the last -history of each, sourced from the feed",
		Sources: []*jetstream.StreamSource{{
			Name:          FeedStream(l.cfg.Name),
			FilterSubject: roomSubjects(l.cfg.Name),
		}},
		MaxMsgsPerSubject: int64(l.cfg.HistorySize),
		MaxAge:            l.cfg.HistoryAge,
		Discard:           jetstream.DiscardOld,
		Storage:           jetstream.FileStorage,
		Replicas:          l.cfg.Replicas,
	}
}

// releaseRoomSubjects changes a history stream made by an older version,
// which captured the room subjects itself, to source them from the feed:
// the feed, which captures them now, cannot be made while another stream
// does. It runs before openFeed; nothing to do when there is no such
// stream.
func (l *Link) releaseRoomSubjects(ctx context.Context, js jetstream.JetStream) error {
	ctx, cancel := context.WithTimeout(ctx, l.cfg.setupTimeout())
	defer cancel()
	name := HistoryStream(l.cfg.Name)
	s, err := js.Stream(ctx, name)
	if err != nil || len(s.CachedInfo().Config.Subjects) == 0 {
		return nil
	}
	c := s.CachedInfo().Config
	c.Subjects, c.Sources = nil, l.historyConfig().Sources
	if _, err := js.UpdateStream(ctx, c); err != nil {
		return fmt.Errorf("cluster: history stream %s: sourcing it from the feed: %w", name, err)
	}
	l.log.Info().Str("stream", name).Msg("history stream now sources the room lines from the feed")
	return nil
}

// openHistory creates (or opens) the history stream, after the feed (so
// that its source is there at once).
func (l *Link) openHistory(ctx context.Context, js jetstream.JetStream) error {
	if l.cfg.HistorySize <= 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.setupTimeout())
	defer cancel()
	sc := l.historyConfig()
	s, err := js.CreateStream(ctx, sc)
	if err != nil {
		if s, err = js.Stream(ctx, sc.Name); err != nil {
			return fmt.Errorf("cluster: history stream %s (is JetStream enabled for this account?): %w", sc.Name, err)
		}
	}
	l.history = s
	l.waitSourcing(ctx)
	return nil
}

// waitSourcing waits (until ctx ends) for the history stream to source
// from the feed: NATS sets that up in the background, some time after the
// stream was made. A server that goes on sooner only has the first lines'
// copies a moment later.
func (l *Link) waitSourcing(ctx context.Context) {
	for {
		info, err := l.history.Info(ctx)
		if err == nil && len(info.Sources) > 0 && info.Sources[0].Active >= 0 {
			return
		}
		select {
		case <-ctx.Done():
			l.log.Debug().Msg("history stream not sourcing from the feed yet")
			return
		case <-time.After(20 * time.Millisecond): // a poll interval
		}
	}
}

// RoomHistory reads the lines of the room with key room kept in the
// history stream, oldest first. Safe from any goroutine.
func (l *Link) RoomHistory(room string) ([]store.Message, error) {
	if l.history == nil || !l.nc.IsConnected() {
		return nil, errLinkDown
	}
	ctx, cancel := l.opContext()
	defer cancel()
	cons, err := l.history.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{RoomSubject(l.cfg.Name, room)},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		// Deleted once read (below); should that fail, NATS drops it
		// after this long instead of its default five minutes.
		InactiveThreshold: historyConsumerIdle,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: reading history: %w", err)
	}
	defer l.deleteConsumer(cons)
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster: reading history: %w", err)
	}
	want := int(info.NumPending)
	var out []store.Message
	for len(out) < want {
		batch, err := cons.Fetch(want-len(out), jetstream.FetchMaxWait(l.cfg.OpTimeout))
		if err != nil {
			return nil, fmt.Errorf("cluster: reading history: %w", err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			e, err := decode(m.Data())
			if err != nil || e.Kind != hub.ClusterLine {
				continue
			}
			out = append(out, store.Message{Time: e.Msg.Time, Kind: uint8(e.Msg.Kind),
				FromKey: strings.ToLower(e.Msg.From), From: e.Msg.From, Text: e.Msg.Text})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return nil, fmt.Errorf("cluster: reading history: %w", err)
		}
		if n == 0 {
			break
		}
	}
	return out, nil
}

// historyConsumerIdle is how long NATS keeps a history reader's consumer
// that was not deleted (the link dropped while reading).
const historyConsumerIdle = 30 * time.Second

// deleteConsumer deletes the consumer that read a room's history: every
// room that appears on a server reads it once, and a consumer left behind
// holds state and a goroutine in the NATS server until it expires (found
// by TestClusterChurn, whose rooms come and go).
func (l *Link) deleteConsumer(cons jetstream.Consumer) {
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := l.opContext()
	defer cancel()
	if err := l.history.DeleteConsumer(ctx, info.Name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		l.log.Debug().Err(err).Str("consumer", info.Name).Msg("history reader not deleted; NATS drops it when idle")
	}
}

// Archive is a hub.Archive that reads a room's newest lines from the
// cluster's history stream, and everything else (older lines, accounts,
// offline messages) from the disk store it wraps.
type Archive struct {
	hub.Archive
	link *Link
}

// NewArchive wraps disk (which must not be nil).
func NewArchive(disk hub.Archive, link *Link) *Archive { return &Archive{Archive: disk, link: link} }

// History serves the newest n lines (before is zero, n within the stream's
// per-room limit) from the stream, falling back to the disk when it
// cannot be read; older lines come from the disk.
func (a *Archive) History(room string, before time.Time, n int, done func([]store.Message, error)) {
	if !before.IsZero() || n > a.link.cfg.HistorySize || a.link.history == nil {
		a.Archive.History(room, before, n, done)
		return
	}
	go func() {
		ms, err := a.link.RoomHistory(room)
		if err != nil {
			a.link.log.Debug().Err(err).Str("room", room).Msg("history from the disk")
			a.Archive.History(room, before, n, done)
			return
		}
		if len(ms) > n {
			ms = ms[len(ms)-n:]
		}
		done(ms, nil)
	}()
}

// roomLine reports whether e is a room line (stored in the stream).
func roomLine(e hub.ClusterEvent) bool {
	return e.Kind == hub.ClusterLine && e.Msg.Room != "" &&
		(e.Msg.Kind == message.Chat || e.Msg.Kind == message.Action)
}
