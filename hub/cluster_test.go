package hub

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"telchat/message"
	"telchat/store"
)

// TestHasRecent: a stored line that a room's ring holds already (the same
// sender and text, recorded within seconds) is not loaded twice.
func TestHasRecent(t *testing.T) {
	now := time.Now()
	r := &Room{name: "den", key: "den"}
	m := r.record("ada", 10)
	*m = message.Message{Kind: message.Chat, From: "ada", Text: "hi", Time: now}
	tests := []struct {
		name string
		in   store.Message
		want bool
	}{
		{"same line, arrived later", store.Message{From: "ada", Text: "hi", Time: now.Add(-300 * time.Millisecond)}, true},
		{"same words long before", store.Message{From: "ada", Text: "hi", Time: now.Add(-time.Minute)}, false},
		{"other text", store.Message{From: "ada", Text: "ho", Time: now}, false},
		{"other sender", store.Message{From: "bob", Text: "hi", Time: now}, false},
	}
	for _, tt := range tests {
		if got := r.hasRecent(tt.in); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestClusterTick: ticking ClusterTicks times per ClusterTimeout, a server
// last heard at t0 is lost at a tick no later than t0+ClusterTimeout (the
// flag's promise: a dead server's users leave within -cluster-timeout),
// but not while only one of its heartbeats is missing; this server's own
// heartbeat goes out every third of ClusterTimeout.
func TestClusterTick(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
	}{
		{"default", 15 * time.Second},
		{"short", 2 * time.Second},
		{"odd", 7777 * time.Millisecond},
	}
	for _, tt := range tests {
		beats := 0
		h := &Hub{log: zerolog.Nop(), cfg: Config{ServerID: "A", ClusterTimeout: tt.timeout, Relay: relayFunc(func(e ClusterEvent) {
			if e.Kind == ClusterHeartbeat {
				beats++
			}
		})}}
		t0 := time.Now()
		h.cluster.servers = map[string]*remoteServer{"B": {lastSeen: t0, users: map[string]*remoteUser{}}}
		// The ticker's first tick comes at most one tick after t0.
		step := tt.timeout / ClusterTicks
		lostAt := time.Duration(-1)
		for i := 1; i <= 2*ClusterTicks; i++ {
			at := time.Duration(i) * step
			h.clusterTick(t0.Add(at))
			if _, ok := h.cluster.servers["B"]; !ok && lostAt < 0 {
				lostAt = at
			}
		}
		switch {
		case lostAt < 0:
			t.Errorf("%s: B never lost", tt.name)
		case lostAt > tt.timeout:
			t.Errorf("%s: B lost %v after it was last heard, want within %v", tt.name, lostAt, tt.timeout)
		case lostAt <= 2*tt.timeout/3:
			t.Errorf("%s: B lost %v after it was last heard: one missed heartbeat (every %v) must not lose it", tt.name, lostAt, tt.timeout/3)
		}
		// Over 2 timeouts: a heartbeat at the first tick, then every third.
		if beats != 6 && beats != 7 {
			t.Errorf("%s: %d heartbeats in %v, want one every %v", tt.name, beats, 2*tt.timeout, tt.timeout/3)
		}
	}
}

// TestClusterTickLinkDown: while this server's own link is down it hears
// nobody, so nobody is lost (its users would see every user of the
// cluster leave "server lost", then come back silently); once the link is
// back, a server not heard from within the timeout is lost.
func TestClusterTickLinkDown(t *testing.T) {
	const timeout = 15 * time.Second
	h := &Hub{log: zerolog.Nop(), conns: map[*Conn]struct{}{}, cfg: Config{ServerID: "A", ClusterTimeout: timeout, Relay: relayFunc(func(ClusterEvent) {})}}
	t0 := time.Now()
	h.cluster.servers = map[string]*remoteServer{"B": {lastSeen: t0, users: map[string]*remoteUser{}}}
	h.linkChanged(false)
	h.clusterTick(t0.Add(3 * timeout))
	if _, ok := h.cluster.servers["B"]; !ok {
		t.Fatal("B lost while this server's own link was down")
	}
	h.linkChanged(true)
	restored := time.Now()
	h.clusterTick(restored.Add(timeout / 2))
	if _, ok := h.cluster.servers["B"]; !ok {
		t.Fatal("B lost half a timeout after the link came back")
	}
	h.clusterTick(restored.Add(timeout))
	if _, ok := h.cluster.servers["B"]; ok {
		t.Fatal("B, never heard again, not lost a timeout after the link came back")
	}
}
