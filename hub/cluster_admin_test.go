package hub

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// relayFunc is a Relay that hands each event to a function.
type relayFunc func(ClusterEvent)

func (f relayFunc) Send(e ClusterEvent) { f(e) }

// TestFresh: while a change made here is on its way to the bucket, the
// newest value from the bucket is held, and applied once the change is
// stored only if it is later; values up to the change's revision (its
// echo included) are skipped, later ones applied; a change the cluster
// did not store holds nothing back. The relay's reports may come in any
// order.
func TestFresh(t *testing.T) {
	type step struct {
		do   string // "set TEXT" (a /motd set here), "stored GEN REV", "fail GEN", "value REV TEXT" (from the bucket)
		motd string // the MOTD after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"nothing pending", []step{{"value 3 b", "b"}, {"value 4 c", "c"}}},
		{"own echo skipped, later applied", []step{
			{"set mine", "mine"}, {"stored 1 5", "mine"}, {"value 5 mine", "mine"}, {"value 6 b", "b"}}},
		{"older value held, then dropped", []step{
			{"set mine", "mine"}, {"value 4 old", "mine"}, {"stored 1 5", "mine"}, {"value 5 mine", "mine"}}},
		{"older value after the report skipped", []step{
			{"set mine", "mine"}, {"stored 1 5", "mine"}, {"value 4 old", "mine"}, {"value 6 b", "b"}}},
		{"later value held, applied when stored (the echo replaced before it was read)", []step{
			{"set mine", "mine"}, {"value 6 b", "mine"}, {"stored 1 5", "b"}, {"value 7 c", "c"}}},
		{"the echo never read, a later value after the report", []step{
			{"set mine", "mine"}, {"stored 1 5", "mine"}, {"value 7 b", "b"}}},
		{"two changes, reports out of order", []step{
			{"set one", "one"}, {"set two", "two"}, {"stored 2 6", "two"}, {"value 5 one", "two"},
			{"stored 1 5", "two"}, {"value 6 two", "two"}, {"value 7 b", "b"}}},
		{"not stored: the bucket's value stands", []step{
			{"set mine", "mine"}, {"fail 1", "mine"}, {"value 4 b", "b"}}},
		{"not stored, a value held meanwhile", []step{
			{"set mine", "mine"}, {"value 4 b", "mine"}, {"fail 1", "b"}}},
		{"one of two not stored", []step{
			{"set one", "one"}, {"set two", "two"}, {"fail 1", "two"}, {"value 4 old", "two"},
			{"stored 2 5", "two"}, {"value 6 b", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Hub{log: zerolog.Nop(), cfg: Config{ServerID: "A", Relay: relayFunc(func(ClusterEvent) {})}}
			for i, s := range tt.steps {
				f := strings.Fields(s.do)
				num := func(i int) uint64 {
					n, err := strconv.ParseUint(f[i], 10, 64)
					if err != nil {
						t.Fatalf("step %d: %q: %v", i, s.do, err)
					}
					return n
				}
				switch f[0] {
				case "set":
					h.setMOTD(f[1], "me", false)
				case "stored":
					h.sharedDone(num(1), num(2), nil)
				case "fail":
					h.sharedDone(num(1), 0, errors.New("link down"))
				case "value":
					h.sharedValue(&ClusterEvent{Kind: ClusterMOTD, Origin: "B", Rev: num(1), Text: f[2]})
				}
				if h.motd != s.motd {
					t.Errorf("step %d (%s): MOTD %q, want %q", i, s.do, h.motd, s.motd)
				}
			}
			if len(h.cluster.shared) != 0 && tt.steps[len(tt.steps)-1].do[:5] == "value" {
				t.Errorf("left %d things shared, want none after a later value", len(h.cluster.shared))
			}
		})
	}
}
