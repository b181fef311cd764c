package cluster

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"telchat/hub"
	"telchat/message"
)

func TestWireRoundTrip(t *testing.T) {
	at := time.UnixMilli(1765000000123)
	tests := []struct {
		name string
		e    hub.ClusterEvent
	}{
		{"chat", hub.ClusterEvent{Kind: hub.ClusterLine, Origin: "A", Msg: message.Message{Kind: message.Chat, Room: "lobby", From: "ada", Text: "hi \u00e9", Time: at, Origin: "A"}}},
		{"private", hub.ClusterEvent{Kind: hub.ClusterLine, Origin: "A", Msg: message.Message{Kind: message.Private, From: "ada", To: "bob", Text: "psst", Time: at, Origin: "A"}}},
		{"user", hub.ClusterEvent{Kind: hub.ClusterUser, Origin: "B", User: hub.Presence{Nick: "bob", OldNick: "rob", Room: "den", Away: "lunch", Admin: true, Since: at}}},
		{"gone", hub.ClusterEvent{Kind: hub.ClusterGone, Origin: "B", User: hub.Presence{Nick: "bob"}, Reason: "quit: bye"}},
		{"topic", hub.ClusterEvent{Kind: hub.ClusterTopic, Origin: "B", User: hub.Presence{Nick: "bob", Room: "den"}, Topic: "cozy"}},
		{"sync", hub.ClusterEvent{Kind: hub.ClusterSync, Origin: "C"}},
		{"kick", hub.ClusterEvent{Kind: hub.ClusterKick, Origin: "A", User: hub.Presence{Nick: "bob"}, Reason: "flood", By: "ada"}},
		{"move", hub.ClusterEvent{Kind: hub.ClusterMove, Origin: "A", User: hub.Presence{Nick: "bob", Room: "quiet"}, By: "ada"}},
		{"heartbeat", hub.ClusterEvent{Kind: hub.ClusterHeartbeat, Origin: "C", Rate: 2.5, Users: []hub.Presence{{Nick: "a", Room: "lobby", Since: at}, {Nick: "b", Room: "x", Since: at}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := encodeAll(tt.e)
			if err != nil || len(parts) != 1 {
				t.Fatalf("encode: %d parts, %v", len(parts), err)
			}
			got, err := decode(parts[0])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.e) {
				t.Errorf("got %+v\nwant %+v", got, tt.e)
			}
		})
	}
}

func TestWireRefuses(t *testing.T) {
	for _, in := range []string{``, `{`, `{"k":"line","o":"A"}`, `{"k":"nope","o":"A"}`, `{"k":"sync"}`,
		`{"k":"line","o":"A","m":{"kind":"history","text":"x"}}`, `{"k":"user","o":"A","u":{"n":""}}`} {
		if _, err := decode([]byte(in)); err == nil {
			t.Errorf("%q: decoded", in)
		}
	}
}

// TestHeartbeatParts: a heartbeat bigger than a part is sent in parts
// and put back together; a lost part loses that heartbeat only.
func TestHeartbeatParts(t *testing.T) {
	users := make([]hub.Presence, 2*heartbeatPart+7)
	for i := range users {
		users[i] = hub.Presence{Nick: fmt.Sprintf("u%d", i), Room: "lobby"}
	}
	e := hub.ClusterEvent{Kind: hub.ClusterHeartbeat, Origin: "A", Users: users}
	parts, err := encodeAll(e)
	if err != nil || len(parts) != 3 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	l := &Link{}
	feed := func(bs [][]byte) (hub.ClusterEvent, bool) {
		var out hub.ClusterEvent
		done := false
		for _, b := range bs {
			got, p, n, err := decodePart(b)
			if err != nil {
				t.Fatal(err)
			}
			if out, done = l.assemble(got, p, n); done {
				return out, true
			}
		}
		return out, done
	}
	if _, done := feed([][]byte{parts[0], parts[2]}); done {
		t.Error("a heartbeat with a part missing was delivered")
	}
	got, done := feed(parts)
	if !done || len(got.Users) != len(users) || got.Users[len(users)-1].Nick != users[len(users)-1].Nick {
		t.Fatalf("reassembled %v: %d users", done, len(got.Users))
	}
}

// FuzzDecode: whatever comes from NATS, decoding never panics, and what
// it accepts encodes again to something that decodes the same.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"k":"line","o":"A","m":{"kind":"chat","room":"lobby","from":"ada","text":"hi","time":1}}`))
	f.Add([]byte(`{"k":"hb","o":"B","us":[{"n":"bob","room":"den"}],"p":1,"np":3}`))
	f.Add([]byte(`{"k":"kick","o":"A","u":{"n":"bob"},"r":"x","by":"ada"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, p, n, err := decodePart(b)
		if err != nil {
			return
		}
		if p < 0 || p >= n {
			t.Fatalf("part %d of %d", p, n)
		}
		again, err := encode(e, 0, 1)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode it: %v", b, err)
		}
		e2, err := decode(again)
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", again, err)
		}
		if e2.Kind != e.Kind || e2.Origin != e.Origin || e2.User.Nick != e.User.Nick || e2.Msg.Text != e.Msg.Text || len(e2.Users) != len(e.Users) {
			t.Fatalf("round trip changed %+v into %+v", e, e2)
		}
	})
}
