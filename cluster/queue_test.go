package cluster

import (
	"strconv"
	"testing"

	"telchat/hub"
	"telchat/message"
)

func queuedLine(text string) hub.ClusterEvent {
	return hub.ClusterEvent{Kind: hub.ClusterLine, Origin: "A",
		Msg: message.Message{Kind: message.Chat, Room: "lobby", From: "alice", Text: text}}
}

// queued lists the events of a list of chunks taken from a queue.
func queued(c *chunk) []*hub.ClusterEvent {
	var out []*hub.ClusterEvent
	for ; c != nil; c = c.next {
		for i := range c.n {
			out = append(out, &c.ev[i])
		}
	}
	return out
}

// TestQueueBounds: the queue keeps the events in order (over several
// chunks) and refuses one over its count or its bytes, until events
// taken are released.
func TestQueueBounds(t *testing.T) {
	const pushed = 3*chunkEvents + 10
	size := eventSize(new(queuedLine("100")))
	tests := []struct {
		name           string
		maxN, maxBytes int
		accepted       int // of pushed
	}{
		{"roomy", 1000, 1000 * size, pushed},
		{"count", 4, 1000 * size, 4},
		{"bytes", 1000, 3*size + size/2, 3},
		{"count over a chunk", chunkEvents + 1, 1000 * size, chunkEvents + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQueue(tt.maxN, tt.maxBytes)
			n := 0
			for i := range pushed {
				if q.push(queuedLine(strconv.Itoa(100 + i))) {
					n++
				}
			}
			if n != tt.accepted {
				t.Fatalf("accepted %d of %d, want %d", n, pushed, tt.accepted)
			}
			taken, open := q.take(nil)
			got := queued(taken)
			if !open || len(got) != n {
				t.Fatalf("took %d (open %v), want %d", len(got), open, n)
			}
			for i, e := range got {
				if want := strconv.Itoa(100 + i); e.Msg.Text != want {
					t.Fatalf("event %d is %q, want %q", i, e.Msg.Text, want)
				}
			}
			// Taken but not released: still held.
			if n < pushed && q.push(queuedLine("101")) {
				t.Fatal("a full queue took an event before the release")
			}
			for _, e := range got {
				q.release(e)
				*e = hub.ClusterEvent{}
			}
			if !q.push(queuedLine("102")) {
				t.Fatal("an emptied queue refused an event")
			}
			q.close()
			if q.push(queuedLine("103")) {
				t.Fatal("a closed queue took an event")
			}
			taken, open = q.take(taken)
			got = queued(taken)
			if !open || len(got) != 1 || got[0].Msg.Text != "102" {
				t.Fatalf("after close took %d events (open %v), want the one event waiting", len(got), open)
			}
			if q.nfree > chunksKept {
				t.Errorf("%d chunks kept for reuse, want at most %d", q.nfree, chunksKept)
			}
			if c, open := q.take(taken); open || c != nil {
				t.Fatal("a closed, empty queue is still open")
			}
		})
	}
}
