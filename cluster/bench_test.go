package cluster_test

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkCrossServerLine: one chat line from a user on server A to a
// user on server B through an embedded NATS, sent and read one at a time:
// ns/op is the line's latency (two servers, one NATS hop, two loopback
// TCP hops).
func BenchmarkCrossServerLine(b *testing.B) {
	ns := startNATS(b, b.TempDir(), -1)
	a := startNode(b, ns.ClientURL(), "A", 30*time.Second)
	bn := startNode(b, ns.ClientURL(), "B", 30*time.Second)
	alice := a.Login(b, "alice")
	bob := bn.Login(b, "bob")
	alice.Expect("bob joined #lobby")
	waitWho(b, bob, "alice")
	b.ResetTimer()
	for i := range b.N {
		want := "<alice> l" + strconv.Itoa(i)
		alice.Send("l" + strconv.Itoa(i))
		if l := bob.Expect("<alice> "); l != want {
			b.Fatalf("got %q, want %q", l, want)
		}
	}
}

// BenchmarkCrossServerBurst: lines sent back to back from A and read on
// B: ns/op is the cost of one line in a stream (throughput).
func BenchmarkCrossServerBurst(b *testing.B) {
	ns := startNATS(b, b.TempDir(), -1)
	a := startNode(b, ns.ClientURL(), "A", 30*time.Second)
	bn := startNode(b, ns.ClientURL(), "B", 30*time.Second)
	alice := a.Login(b, "alice")
	bob := bn.Login(b, "bob")
	alice.Expect("bob joined #lobby")
	waitWho(b, bob, "alice")
	b.ResetTimer()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range b.N {
			if _, err := bob.TryLine(); err != nil {
				return
			}
		}
	}()
	for i := range b.N {
		alice.Send("l" + strconv.Itoa(i))
	}
	<-done
}
