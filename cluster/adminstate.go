package cluster

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"telchat/hub"
)

// The rest of the admin state (mutes, the message of the day and the kept
// topics) is shared like the bans, through the key-value bucket
// AdminBucket(name):
//
//	m.HEX  a mute; HEX is the nickname's key in hex
//	motd   the message of the day
//	t.HEX  a kept topic (an admin's, or the lobby's); HEX is the room key in hex
//
// Each value is JSON and names the server that put it. A change made on a
// server is put by the link's key-value worker, in the order the hub made
// them, and the hub hears when it is stored, with its revision
// (hub.ClusterEvent.Done). Every server watches the bucket (watch.go) and
// hands the hub each value it takes, its own included, in the bucket's
// order and with its revision (also everything there when it starts), so
// every server ends with the bucket's last value (the hub compares
// revisions: see hub/cluster_admin.go). /unmute puts a record that says
// so; the records of mutes lifted or run out are deleted by the next
// server that starts and finds them so.

// AdminBucket is the name of the key-value bucket of a cluster's mutes,
// MOTD and kept topics.
func AdminBucket(name string) string { return "telchat_" + name + "_admin" }

// The keys of the admin bucket.
const (
	mutePrefix  = "m."
	topicPrefix = "t."
	motdKey     = "motd"
)

// muteRecord is a mute in the bucket.
type muteRecord struct {
	Origin string `json:"origin"`
	Nick   string `json:"nick"`
	By     string `json:"by,omitempty"`
	Until  int64  `json:"until,omitempty"` // Unix milliseconds; 0: until /unmute
	For    int64  `json:"for,omitempty"`   // the duration the admin gave, in milliseconds
	Off    bool   `json:"off,omitempty"`   // lifted
}

// motdRecord is the message of the day in the bucket.
type motdRecord struct {
	Origin string `json:"origin"`
	Text   string `json:"text"`
	By     string `json:"by,omitempty"`
}

// topicRecord is a kept topic in the bucket.
type topicRecord struct {
	Origin string `json:"origin"`
	Room   string `json:"room"` // display name
	Topic  string `json:"topic"`
	By     string `json:"by,omitempty"`
}

// adminKind reports whether events of kind k are changes to the shared
// admin state, which go to the key-value worker.
func adminKind(k hub.ClusterKind) bool {
	return k == hub.ClusterBan || k == hub.ClusterMute || k == hub.ClusterMOTD || k == hub.ClusterRoomTopic
}

// hexKey is prefix and s in hex: any name fits the bucket's key alphabet.
func hexKey(prefix, s string) string { return prefix + hex.EncodeToString([]byte(s)) }

// adminRecord returns the key and value of e in the admin bucket.
func (l *Link) adminRecord(e hub.ClusterEvent) (string, any, error) {
	switch e.Kind {
	case hub.ClusterMute:
		m := e.Mute
		if m.Key == "" {
			return "", nil, fmt.Errorf("cluster: mute on %q without a key", m.Nick)
		}
		r := muteRecord{Origin: l.cfg.ServerID, Nick: m.Nick, By: m.By, Off: m.Off, For: m.For.Milliseconds()}
		if !m.Until.IsZero() {
			r.Until = m.Until.UnixMilli()
		}
		return hexKey(mutePrefix, m.Key), r, nil
	case hub.ClusterMOTD:
		return motdKey, motdRecord{Origin: l.cfg.ServerID, Text: e.Text, By: e.By}, nil
	case hub.ClusterRoomTopic:
		return hexKey(topicPrefix, strings.ToLower(e.User.Room)),
			topicRecord{Origin: l.cfg.ServerID, Room: e.User.Room, Topic: e.Topic, By: e.By}, nil
	}
	return "", nil, fmt.Errorf("cluster: event kind %d is not admin state", e.Kind)
}

// putAdmin stores a change to the admin state (a ban, or a record in the
// admin bucket) and reports to its Done; on the worker.
func (l *Link) putAdmin(e hub.ClusterEvent) {
	var rev uint64
	var err error
	if e.Kind == hub.ClusterBan {
		rev, err = l.putBan(e.Ban, e.Unban)
	} else {
		rev, err = l.putRecord(e)
	}
	if e.Done != nil {
		e.Done(rev, err)
	}
}

// putRecord puts a record in the admin bucket and returns its revision.
func (l *Link) putRecord(e hub.ClusterEvent) (uint64, error) {
	if !l.nc.IsConnected() {
		return 0, errLinkDown
	}
	k, r, err := l.adminRecord(e)
	if err != nil {
		return 0, err
	}
	v, err := json.Marshal(r)
	if err != nil {
		return 0, fmt.Errorf("cluster: encoding %s: %w", k, err)
	}
	ctx, cancel := l.opContext()
	defer cancel()
	rev, err := l.admin.Put(ctx, k, v)
	if err != nil {
		l.log.Warn().Err(err).Str("key", k).Msg("admin change not shared")
		return 0, fmt.Errorf("cluster: storing %s: %w", k, err)
	}
	return rev, nil
}

// deleteDead deletes the record of a mute lifted or run out, or of a ban
// lifted (a key of the ban bucket: "b."), unless it changed since (rev);
// on the worker.
func (l *Link) deleteDead(k string, rev uint64) {
	if !l.nc.IsConnected() {
		return
	}
	kv := l.admin
	if _, ban := maskOfKey(k); ban {
		kv = l.bans
	}
	ctx, cancel := l.opContext()
	defer cancel()
	if err := kv.Delete(ctx, k, jetstream.LastRevision(rev)); err != nil {
		l.log.Debug().Err(err).Str("key", k).Msg("old record not deleted")
	}
}

// adminEvent turns an entry of the admin bucket into the event the hub
// applies. initial says that the entry was there when the watch started.
func (l *Link) adminEvent(e jetstream.KeyValueEntry, initial bool) (hub.ClusterEvent, bool) {
	if e.Operation() != jetstream.KeyValuePut {
		return hub.ClusterEvent{}, false // deletes only clear dead records
	}
	k := e.Key()
	bad := func() (hub.ClusterEvent, bool) {
		l.log.Warn().Str("key", k).Msg("bad record in the admin bucket")
		return hub.ClusterEvent{}, false
	}
	switch {
	case k == motdKey:
		var r motdRecord
		if json.Unmarshal(e.Value(), &r) != nil {
			return bad()
		}
		return hub.ClusterEvent{Kind: hub.ClusterMOTD, Origin: r.Origin, Rev: e.Revision(), Text: r.Text, By: r.By}, true
	case strings.HasPrefix(k, topicPrefix):
		var r topicRecord
		if json.Unmarshal(e.Value(), &r) != nil || hexKey(topicPrefix, strings.ToLower(r.Room)) != k {
			return bad()
		}
		return hub.ClusterEvent{Kind: hub.ClusterRoomTopic, Origin: r.Origin, Rev: e.Revision(), User: hub.Presence{Room: r.Room},
			Topic: r.Topic, By: r.By}, true
	case strings.HasPrefix(k, mutePrefix):
		var r muteRecord
		if json.Unmarshal(e.Value(), &r) != nil || r.Nick == "" {
			return bad()
		}
		m := hub.Mute{Nick: r.Nick, By: r.By, Off: r.Off, For: time.Duration(r.For) * time.Millisecond}
		if r.Until != 0 {
			m.Until = time.UnixMilli(r.Until)
		}
		dead := m.Off || !m.Until.IsZero() && !time.Now().Before(m.Until)
		if initial && dead {
			l.enqueueOp(claimOp{kind: opDeleteDead, key: k, rev: e.Revision()})
		}
		return hub.ClusterEvent{Kind: hub.ClusterMute, Origin: r.Origin, Rev: e.Revision(), Mute: m}, true
	}
	return hub.ClusterEvent{}, false
}

// openAdmin opens (creating it if needed) the admin bucket.
func (l *Link) openAdmin(ctx context.Context, js jetstream.JetStream) error {
	kv, err := openBucket(ctx, js, jetstream.KeyValueConfig{
		Bucket:      AdminBucket(l.cfg.Name),
		Description: "telchat admin state: m.HEX mutes, motd, t.HEX kept topics",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    l.cfg.Replicas,
	}, l.cfg.setupTimeout())
	if err != nil {
		return err
	}
	l.admin = kv
	return nil
}

var errNoBucket = errors.New("cluster: bucket not open")

// errAdminBusy refuses an admin change when the worker's queue is full.
var errAdminBusy = errors.New("cluster: the change could not be queued (the link is closing, or too many changes are waiting)")

// startWatch watches every key of kv, handing the hub what event turns
// each entry into, until the link closes (see watch.go). It returns once
// the hub has been handed everything the bucket held (or after
// Config.OpTimeout), so that a server that just started applies the
// cluster's bans, mutes, MOTD and topics before its first user comes.
func (l *Link) startWatch(kv jetstream.KeyValue, bucket string, event func(jetstream.KeyValueEntry, bool) (hub.ClusterEvent, bool)) error {
	loaded, err := l.watchBucket(kv, bucket, func(e jetstream.KeyValueEntry, initial bool) {
		if ev, ok := event(e, initial); ok {
			l.toSink(ev)
		}
	})
	if err != nil {
		return err
	}
	t := time.NewTimer(l.cfg.OpTimeout)
	defer t.Stop()
	select {
	case <-loaded:
	case <-l.stop:
	case <-t.C:
		l.log.Warn().Str("bucket", bucket).Msg("still reading the bucket; starting meanwhile")
	}
	return nil
}
