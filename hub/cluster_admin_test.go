package hub

import (
	"errors"
	"testing"

	"github.com/rs/zerolog"
)

// relayFunc is a Relay that hands each event to a function.
type relayFunc func(ClusterEvent)

func (f relayFunc) Send(e ClusterEvent) { f(e) }

// TestStale: while a change made here is on its way back through the
// bucket, the values that come back before it are skipped; its own echo,
// and what comes after, are applied; a change the cluster did not store
// holds nothing back.
func TestStale(t *testing.T) {
	type step struct {
		do   string // "share", "fail" (the oldest change not yet reported), "from A", "from B"
		skip bool   // for "from": want it skipped
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"nothing pending", []step{{"from B", false}, {"from A", false}}},
		{"own echo applied", []step{{"share", false}, {"from A", false}, {"from B", false}}},
		{"older value skipped", []step{{"share", false}, {"from B", true}, {"from A", false}}},
		{"two changes: the first echo skipped", []step{{"share", false}, {"share", false}, {"from A", true}, {"from A", false}}},
		{"not stored", []step{{"share", false}, {"fail", false}, {"from B", false}}},
		{"one of two not stored", []step{{"share", false}, {"share", false}, {"fail", false}, {"from B", true}, {"from A", false}}},
	}
	for _, tt := range tests {
		h := &Hub{log: zerolog.Nop(), cfg: Config{ServerID: "A", Relay: relayFunc(func(ClusterEvent) {})}}
		for i, s := range tt.steps {
			switch s.do {
			case "share":
				h.share(ClusterEvent{Kind: ClusterMOTD, Text: "hello"})
			case "fail":
				// The relay's report, as the hub handles it: the relay
				// stores the changes in order.
				h.sharedDone(h.durable.shared+1, errors.New("link down"))
			default:
				if got := h.stale("motd", s.do[len("from "):]); got != s.skip {
					t.Errorf("%s: step %d (%s): skipped %v, want %v", tt.name, i, s.do, got, s.skip)
				}
			}
		}
	}
}
