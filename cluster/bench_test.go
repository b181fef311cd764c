package cluster_test

import (
	"strconv"
	"testing"
	"time"

	"telchat/internal/servertest"
)

// The benchmarks run each case with own room lines shown at once (local)
// and in the feed's order (stream: -cluster-order), on two servers A and
// B joined through an embedded NATS (one replica).
var orders = []struct {
	name    string
	ordered bool
}{{"local", false}, {"stream", true}}

// benchPair starts A and B and logs in alice and ann on A, bob on B.
func benchPair(b *testing.B, ordered bool) (alice, ann, bob *servertest.Client) {
	ns := startNATS(b, b.TempDir(), -1)
	o := nodeOptions{timeout: 30 * time.Second, ordered: ordered}
	a := startNodeWith(b, ns.ClientURL(), "A", o)
	bn := startNodeWith(b, ns.ClientURL(), "B", o)
	alice = a.Login(b, "alice")
	ann = a.Login(b, "ann")
	bob = bn.Login(b, "bob")
	alice.Expect("bob joined #lobby")
	waitWho(b, bob, "alice", "ann")
	ann.Sync()
	return alice, ann, bob
}

// oneAtATime sends lines from alice, each read by to before the next:
// ns/op is a line's latency.
func oneAtATime(b *testing.B, alice, to *servertest.Client) {
	b.ResetTimer()
	for i := range b.N {
		want := "<alice> l" + strconv.Itoa(i)
		alice.Send("l" + strconv.Itoa(i))
		if l := to.Expect("<alice> "); l != want {
			b.Fatalf("got %q, want %q", l, want)
		}
	}
}

// BenchmarkCrossServerLine: one chat line from a user on server A to a
// user on server B, sent and read one at a time: ns/op is the line's
// latency (two servers, the feed, two loopback TCP hops).
func BenchmarkCrossServerLine(b *testing.B) {
	for _, o := range orders {
		b.Run(o.name, func(b *testing.B) {
			alice, _, bob := benchPair(b, o.ordered)
			oneAtATime(b, alice, bob)
		})
	}
}

// BenchmarkCrossServerLocalLine: one chat line from a user on server A to
// another user on A, in a cluster: ns/op is the line's latency (with
// -cluster-order stream, the round through the feed).
func BenchmarkCrossServerLocalLine(b *testing.B) {
	for _, o := range orders {
		b.Run(o.name, func(b *testing.B) {
			alice, ann, _ := benchPair(b, o.ordered)
			oneAtATime(b, alice, ann)
		})
	}
}

// BenchmarkCrossServerBurst: lines sent back to back from A and read on
// B and by another user on A: ns/op is the cost of one line in a stream
// (throughput: the slower of the two readers).
func BenchmarkCrossServerBurst(b *testing.B) {
	for _, o := range orders {
		b.Run(o.name, func(b *testing.B) {
			alice, ann, bob := benchPair(b, o.ordered)
			b.ResetTimer()
			done := make(chan struct{}, 2)
			for _, c := range []*servertest.Client{ann, bob} {
				go func() {
					defer func() { done <- struct{}{} }()
					for range b.N {
						if _, err := c.TryLine(); err != nil {
							return
						}
					}
				}()
			}
			for i := range b.N {
				alice.Send("l" + strconv.Itoa(i))
			}
			<-done
			<-done
		})
	}
}
