package cluster

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"telchat/hub"
	"telchat/store"
)

// Bans are shared through the key-value bucket BanBucket(name): a /ban
// on any server puts the ban there (key "b." and the mask in hex, value
// the origin server and the ban as JSON), an /unban deletes it, and every
// server watches the bucket, applying what the others put (and, at start,
// everything already there). So a ban refuses the address on every server
// and holds across restarts of any of them. The puts and deletes run on
// the link's key-value worker, in order.

// BanBucket is the name of the key-value bucket of a cluster's bans.
func BanBucket(name string) string { return "telchat_" + name + "_bans" }

// banRecord is a ban in the bucket.
type banRecord struct {
	Origin string    `json:"origin"`
	Ban    store.Ban `json:"ban"`
}

func banKey(mask string) string { return "b." + hex.EncodeToString([]byte(mask)) }

func maskOfKey(key string) (string, bool) {
	h, ok := strings.CutPrefix(key, "b.")
	if !ok {
		return "", false
	}
	b, err := hex.DecodeString(h)
	return string(b), err == nil
}

// putBan writes (or deletes) a ban in the bucket; on the worker.
func (l *Link) putBan(b store.Ban, unban bool) {
	if !l.nc.IsConnected() {
		l.log.Warn().Str("mask", b.Mask).Msg("ban not shared: the NATS connection is down (it holds on this server)")
		return
	}
	ctx, cancel := l.opContext()
	defer cancel()
	k := banKey(b.Mask)
	var err error
	if unban {
		err = l.bans.Delete(ctx, k)
	} else {
		var v []byte
		if v, err = json.Marshal(banRecord{Origin: l.cfg.ServerID, Ban: b}); err == nil {
			_, err = l.bans.Put(ctx, k, v)
		}
	}
	if err != nil {
		l.log.Warn().Err(err).Str("mask", b.Mask).Bool("unban", unban).Msg("ban not shared")
	}
}

// watchBans hands the hub every ban in the bucket and every change to it,
// until the link closes.
func (l *Link) watchBans(w jetstream.KeyWatcher, cancel context.CancelFunc) {
	defer l.wg.Done()
	defer cancel()
	defer func() {
		if l.nc.IsConnected() {
			// Stopping asks the server to remove the watch's consumer:
			// with the link down it would wait for its timeout.
			_ = w.Stop()
		}
	}()
	for {
		select {
		case <-l.stop:
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				continue // the end of what was there at start
			}
			if ev, ok := l.banEvent(e); ok {
				l.toSink(ev)
			}
		}
	}
}

func (l *Link) banEvent(e jetstream.KeyValueEntry) (hub.ClusterEvent, bool) {
	mask, ok := maskOfKey(e.Key())
	if !ok {
		return hub.ClusterEvent{}, false
	}
	if e.Operation() != jetstream.KeyValuePut {
		return hub.ClusterEvent{Kind: hub.ClusterBan, Ban: store.Ban{Mask: mask}, Unban: true}, true
	}
	var r banRecord
	if err := json.Unmarshal(e.Value(), &r); err != nil || r.Ban.Mask != mask {
		l.log.Warn().Str("key", e.Key()).Msg("bad ban record in the bucket")
		return hub.ClusterEvent{}, false
	}
	return hub.ClusterEvent{Kind: hub.ClusterBan, Origin: r.Origin, Ban: r.Ban}, true
}

// openBans opens the ban bucket and starts watching it.
func (l *Link) openBans(ctx context.Context, js jetstream.JetStream) error {
	kv, err := openBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      BanBucket(l.cfg.Name),
		Description: "telchat bans: key = b. and the mask in hex, value = origin server and ban",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    l.cfg.Replicas,
	}, l.cfg.OpTimeout)
	if err != nil {
		return err
	}
	l.bans = kv
	return nil
}

var errNoBans = errors.New("cluster: ban bucket not open")

func (l *Link) startBanWatch() error {
	if l.bans == nil {
		return errNoBans
	}
	// The watch lives as long as ctx: cancelled when the watch ends.
	ctx, cancel := context.WithCancel(context.Background())
	w, err := l.bans.WatchAll(ctx)
	if err != nil {
		cancel()
		return fmt.Errorf("cluster: watching %s: %w", BanBucket(l.cfg.Name), err)
	}
	l.wg.Add(1)
	go l.watchBans(w, cancel)
	return nil
}
