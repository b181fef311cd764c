package cluster

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"telchat/store"
)

// Offline messages (a /msg to a registered user who is not connected) are
// kept in the JetStream stream OfflineStream(name), one subject per
// recipient (OfflineSubject: the nickname key in hex), so that a message
// sent on one server waits for its recipient's login on any server. The
// stream keeps at most OfflineMax messages per recipient (a new one past
// that is refused: discard new, per subject) for OfflineAge. At a login
// the recipient's messages are read in stream order and each is deleted
// by its sequence before it is handed out: a message whose delete fails
// because another server deleted it first is not handed out, so each
// message reaches its recipient once even if they log in on two servers
// at the same moment. The subjects lie outside telchat.NAME.>, which the
// servers subscribe to: an offline message reaches nobody but the stream.

// The limits of the offline stream, as for the disk store.
const (
	OfflineMax = 100
	OfflineAge = 30 * 24 * time.Hour
)

// OfflineStream is the name of the stream of a cluster's offline
// messages.
func OfflineStream(name string) string { return "telchat_" + name + "_offline" }

// OfflineSubject is the subject of the offline messages for the
// registered user with nickname key to.
func OfflineSubject(name, to string) string {
	return "telchat-offline." + name + "." + hex.EncodeToString([]byte(to))
}

// openOffline creates (or opens) the offline stream.
func (a *accounts) openOffline(ctx context.Context, js jetstream.JetStream) error {
	l := a.l
	ctx, cancel := context.WithTimeout(ctx, l.cfg.setupTimeout())
	defer cancel()
	sc := jetstream.StreamConfig{
		Name:                 OfflineStream(l.cfg.Name),
		Description:          "telchat offline messages: one subject per recipient (nickname key in hex), the message record",
		Subjects:             []string{"telchat-offline." + l.cfg.Name + ".*"},
		MaxMsgsPerSubject:    OfflineMax,
		MaxAge:               OfflineAge,
		Discard:              jetstream.DiscardNew,
		DiscardNewPerSubject: true,
		Storage:              jetstream.FileStorage,
		Replicas:             l.cfg.Replicas,
	}
	s, err := js.CreateStream(ctx, sc)
	if err != nil {
		if s, err = js.Stream(ctx, sc.Name); err != nil {
			return fmt.Errorf("cluster: offline stream %s (is JetStream enabled for this account?): %w", sc.Name, err)
		}
	}
	a.offline, a.js = s, js
	return nil
}

// putOffline stores o for to; store.ErrMailboxFull when they have
// OfflineMax waiting.
func (a *accounts) putOffline(to string, o store.Offline) error {
	if err := a.up(); err != nil {
		return err
	}
	ctx, cancel := a.l.opContext()
	defer cancel()
	_, err := a.js.Publish(ctx, OfflineSubject(a.l.cfg.Name, to), store.EncodeOffline(o))
	switch {
	case err == nil:
		return nil
	case mailboxFull(err):
		return store.ErrMailboxFull
	}
	return unavailable("keeping an offline message", err)
}

// jsStoreFailed is JetStream's error code for a message the stream did
// not store (JSStreamStoreFailedF); its description says why.
const jsStoreFailed jetstream.ErrorCode = 10077

// mailboxFull reports whether err refuses a message past the per-subject
// limit (discard new, per subject).
func mailboxFull(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jsStoreFailed &&
		strings.Contains(apiErr.Description, "maximum messages per subject")
}

// takeOffline reads and deletes the messages waiting for to, oldest
// first: only those this call deleted are returned.
func (a *accounts) takeOffline(to string) ([]store.Offline, error) {
	if err := a.up(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*a.l.cfg.OpTimeout)
	defer cancel()
	subject := OfflineSubject(a.l.cfg.Name, to)
	var out []store.Offline
	seq := uint64(1)
	// Bounded: the stream keeps at most OfflineMax per subject, and a few
	// more may come meanwhile.
	for range 2 * OfflineMax {
		m, err := a.offline.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return out, unavailable("reading offline messages", err)
		}
		seq = m.Sequence + 1
		if err := a.offline.DeleteMsg(ctx, m.Sequence); err != nil {
			if errors.Is(err, jetstream.ErrMsgNotFound) || errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) {
				continue // taken by another server a moment ago
			}
			return out, unavailable("taking offline messages", err)
		}
		o, err := store.DecodeOffline(m.Data)
		if err != nil {
			a.l.log.Error().Err(err).Str("subject", subject).Uint64("seq", m.Sequence).Msg("an offline message cannot be read; it is skipped")
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

// purgeOffline removes every message waiting for to.
func (a *accounts) purgeOffline(to string) error {
	if err := a.up(); err != nil {
		return err
	}
	ctx, cancel := a.l.opContext()
	defer cancel()
	if err := a.offline.Purge(ctx, jetstream.WithPurgeSubject(OfflineSubject(a.l.cfg.Name, to))); err != nil {
		return unavailable("removing offline messages", err)
	}
	return nil
}

// PutOffline keeps a private message for the registered user with
// nickname key to in the offline stream (hub.Archive); done gets
// store.ErrMailboxFull when they have OfflineMax waiting. The messages of
// one server go in the order sent.
func (a *Archive) PutOffline(to string, o store.Offline, done func(error)) {
	ac := a.link.acc
	ac.write(func() { replyNow(done, ac.putOffline(to, o)) }, done)
}

// TakeOffline hands out, and removes, the messages waiting for to
// (hub.Archive): those in the offline stream, and any this server kept on
// its disk before it joined the cluster, oldest first.
func (a *Archive) TakeOffline(to string, done func([]store.Offline, error)) {
	a.Archive.TakeOffline(to, func(local []store.Offline, lerr error) {
		a.link.acc.readFn(func() {
			shared, err := a.link.acc.takeOffline(to)
			all := append(local, shared...)
			sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
			done(all, errors.Join(lerr, err))
		}, func(err error) { done(local, errors.Join(lerr, err)) })
	})
}
