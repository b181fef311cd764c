package cluster

import (
	"context"
	"encoding/hex"
	"encoding/json"
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
// the link's key-value worker, in order (see adminstate.go).

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
func (l *Link) putBan(b store.Ban, unban bool) error {
	if !l.nc.IsConnected() {
		l.log.Warn().Str("mask", b.Mask).Msg("ban not shared: the NATS connection is down (it holds on this server)")
		return errLinkDown
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
		return fmt.Errorf("cluster: storing the ban on %s: %w", b.Mask, err)
	}
	return nil
}

func (l *Link) banEvent(e jetstream.KeyValueEntry, _ bool) (hub.ClusterEvent, bool) {
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
