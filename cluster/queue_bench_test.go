package cluster

import (
	"testing"

	"telchat/hub"
)

// BenchmarkQueueBurst: the hub pushes a burst of 20,000 lines into the
// link's queue while the publisher takes them in batches of 5,000 (it is behind):
// ns/op is the cost of one line to both (mostly the hub's push).
func BenchmarkQueueBurst(b *testing.B) {
	const burst = 20000
	e := queuedLine("hello, world")
	q := newQueue(1<<20, 1<<30)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N / burst {
		for i := range burst {
			if !q.push(e) {
				b.Fatal("refused")
			}
			if i%5000 == 4999 {
				drainQueue(q)
			}
		}
		drainQueue(q)
	}
}

var drained *chunk

func drainQueue(q *queue) {
	c, _ := q.take(drained)
	drained = c
	for ; c != nil; c = c.next {
		for i := range c.n {
			q.release(&c.ev[i])
			c.ev[i] = hub.ClusterEvent{}
		}
	}
}
