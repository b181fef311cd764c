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
// the origin server and the ban as JSON), an /unban puts a record that
// says so and names its server too (a delete carries no origin, and
// does not tell the server that made it its revision, which the hub
// compares: see hub/cluster_admin.go), and
// every server watches the bucket, applying what it takes (and, at start,
// everything already there). So a ban refuses the address on every server
// and holds across restarts of any of them, and a quick ban, unban, ban
// ends the same everywhere. The puts run on the link's key-value worker,
// in order (see adminstate.go); the unban records are deleted by the next
// server that starts and finds them. An unban record has no ban in it, so
// a server of an older version, which deleted, ignores it as a bad record
// rather than taking it for a ban.

// BanBucket is the name of the key-value bucket of a cluster's bans.
func BanBucket(name string) string { return "telchat_" + name + "_bans" }

// banRecord is a ban in the bucket, or (Unban) the record of its end.
type banRecord struct {
	Origin string    `json:"origin"`
	Ban    store.Ban `json:"ban"` // zero with Unban
	Unban  bool      `json:"unban,omitempty"`
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

// putBan writes a ban (or, with unban, the record of its end) in the
// bucket and returns its revision; on the worker.
func (l *Link) putBan(b store.Ban, unban bool) (uint64, error) {
	if !l.nc.IsConnected() {
		l.log.Warn().Str("mask", b.Mask).Msg("ban not shared: the NATS connection is down (it holds on this server)")
		return 0, errLinkDown
	}
	ctx, cancel := l.opContext()
	defer cancel()
	r := banRecord{Origin: l.cfg.ServerID, Ban: b}
	if unban {
		r = banRecord{Origin: l.cfg.ServerID, Unban: true}
	}
	v, err := json.Marshal(r)
	var rev uint64
	if err == nil {
		rev, err = l.bans.Put(ctx, banKey(b.Mask), v)
	}
	if err != nil {
		l.log.Warn().Err(err).Str("mask", b.Mask).Bool("unban", unban).Msg("ban not shared")
		return 0, fmt.Errorf("cluster: storing the ban on %s: %w", b.Mask, err)
	}
	return rev, nil
}

// banEvent turns an entry of the ban bucket into the event the hub
// applies. initial says that the entry was there when the watch started.
func (l *Link) banEvent(e jetstream.KeyValueEntry, initial bool) (hub.ClusterEvent, bool) {
	mask, ok := maskOfKey(e.Key())
	if !ok {
		return hub.ClusterEvent{}, false
	}
	unban := hub.ClusterEvent{Kind: hub.ClusterBan, Rev: e.Revision(), Ban: store.Ban{Mask: mask}, Unban: true}
	if e.Operation() != jetstream.KeyValuePut {
		return unban, true // an unban record deleted (or an older server's unban)
	}
	var r banRecord
	if err := json.Unmarshal(e.Value(), &r); err != nil || !r.Unban && r.Ban.Mask != mask {
		l.log.Warn().Str("key", e.Key()).Msg("bad ban record in the bucket")
		return hub.ClusterEvent{}, false
	}
	if r.Unban {
		if initial {
			l.enqueueOp(claimOp{kind: opDeleteDead, key: e.Key(), rev: e.Revision()})
		}
		unban.Origin = r.Origin
		return unban, true
	}
	return hub.ClusterEvent{Kind: hub.ClusterBan, Origin: r.Origin, Rev: e.Revision(), Ban: r.Ban}, true
}

// openBans opens the ban bucket and starts watching it.
func (l *Link) openBans(ctx context.Context, js jetstream.JetStream) error {
	kv, err := openBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      BanBucket(l.cfg.Name),
		Description: "telchat bans: key = b. and the mask in hex, value = origin server and ban",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    l.cfg.Replicas,
	}, l.cfg.setupTimeout())
	if err != nil {
		return err
	}
	l.bans = kv
	return nil
}
