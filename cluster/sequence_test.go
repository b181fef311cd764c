package cluster

import (
	"reflect"
	"testing"
	"time"

	"telchat/hub"
)

// TestSequencer: each origin's events come out in their numbering, once;
// a gap holds later events until it fills, or until the wait passes; a
// run begun after this link's is expected from 1, an older run's events
// are dropped, and unnumbered events pass at once.
func TestSequencer(t *testing.T) {
	const start, wait = 100, time.Second
	t0 := time.Unix(0, 0)
	type in struct {
		origin string
		run    int64
		seq    uint64
		after  time.Duration // since t0
	}
	tests := []struct {
		name string
		in   []in
		want []uint64 // the seq of what comes out, in order
		skip int64
	}{
		{"in order", []in{{"A", 50, 7, 0}, {"A", 50, 8, 0}, {"A", 50, 9, 0}}, []uint64{7, 8, 9}, 0},
		{"duplicates dropped", []in{{"A", 50, 7, 0}, {"A", 50, 8, 0}, {"A", 50, 7, 0}, {"A", 50, 8, 0}, {"A", 50, 9, 0}}, []uint64{7, 8, 9}, 0},
		{"a retried event fills its gap", []in{{"A", 50, 7, 0}, {"A", 50, 9, 0}, {"A", 50, 10, 0}, {"A", 50, 8, 0}, {"A", 50, 11, 0}}, []uint64{7, 8, 9, 10, 11}, 0},
		{"a gap not filled in time is skipped", []in{{"A", 50, 7, 0}, {"A", 50, 9, 0}, {"A", 50, 10, 2 * wait}, {"A", 50, 8, 2 * wait}}, []uint64{7, 9, 10}, 1},
		{"origins apart", []in{{"A", 50, 7, 0}, {"B", 60, 3, 0}, {"A", 50, 9, 0}, {"B", 60, 4, 0}, {"A", 50, 8, 0}}, []uint64{7, 3, 4, 8, 9}, 0},
		{"a later run starts at 1", []in{{"A", 200, 2, 0}, {"A", 200, 1, 0}}, []uint64{1, 2}, 0},
		{"a restarted origin", []in{{"A", 50, 7, 0}, {"A", 200, 1, 0}, {"A", 50, 8, 0}, {"A", 200, 2, 0}}, []uint64{7, 1, 2}, 0},
		{"unnumbered", []in{{"A", 0, 0, 0}, {"A", 0, 0, 0}}, []uint64{0, 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSequencer(start, wait)
			var got []uint64
			var out []item
			for _, e := range tt.in {
				it := item{e: hub.ClusterEvent{Kind: hub.ClusterLine, Origin: e.origin}, n: 1, st: stamp{e.run, e.seq}}
				out = s.accept(it, t0.Add(e.after), out[:0])
				for _, o := range out {
					got = append(got, o.st.seq)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if s.skipped != tt.skip {
				t.Errorf("skipped %d, want %d", s.skipped, tt.skip)
			}
		})
	}
}

// TestStampRoundTrip: an event's run, number and Shown cross the wire,
// and a big heartbeat's parts are numbered one after another.
func TestStampRoundTrip(t *testing.T) {
	e := hub.ClusterEvent{Kind: hub.ClusterLine, Origin: "A", Shown: true}
	e.Msg.Kind, e.Msg.Text = 1, "hi"
	parts, err := encodeStamped(e, stamp{123456789012345678, 42})
	if err != nil || len(parts) != 1 {
		t.Fatalf("encode: %d parts, %v", len(parts), err)
	}
	it, err := decodeItem(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	if it.st != (stamp{123456789012345678, 42}) || !it.shown {
		t.Errorf("got stamp %+v shown %v", it.st, it.shown)
	}
	hb := hub.ClusterEvent{Kind: hub.ClusterHeartbeat, Origin: "A", Users: make([]hub.Presence, 2*heartbeatPart+1)}
	for i := range hb.Users {
		hb.Users[i].Nick = "u"
	}
	parts, err = encodeStamped(hb, stamp{7, 10})
	if err != nil || len(parts) != 3 {
		t.Fatalf("heartbeat: %d parts, %v", len(parts), err)
	}
	for i, b := range parts {
		it, err := decodeItem(b)
		if err != nil || it.st.seq != uint64(10+i) || it.p != i || it.n != 3 {
			t.Errorf("part %d: %+v %v", i, it.st, err)
		}
	}
}
