package cluster

import (
	"testing"

	"telchat/hub"
	"telchat/message"
)

func queuedLine(text string) hub.ClusterEvent {
	return hub.ClusterEvent{Kind: hub.ClusterLine, Origin: "A",
		Msg: message.Message{Kind: message.Chat, Room: "lobby", From: "alice", Text: text}}
}

// TestQueueBounds: the queue keeps the events in order and refuses one
// over its count or its bytes, until events taken are released.
func TestQueueBounds(t *testing.T) {
	size := eventSize(&hub.ClusterEvent{Kind: hub.ClusterLine, Origin: "A",
		Msg: message.Message{Kind: message.Chat, Room: "lobby", From: "alice", Text: "x"}})
	tests := []struct {
		name           string
		maxN, maxBytes int
		accepted       int // of 10 pushed
	}{
		{"roomy", 100, 100 * size, 10},
		{"count", 4, 100 * size, 4},
		{"bytes", 100, 3*size + size/2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQueue(tt.maxN, tt.maxBytes)
			n := 0
			for i := range 10 {
				if q.push(queuedLine(string(rune('a' + i)))) {
					n++
				}
			}
			if n != tt.accepted {
				t.Fatalf("accepted %d of 10, want %d", n, tt.accepted)
			}
			batch, open := q.take(nil)
			if !open || len(batch) != n {
				t.Fatalf("took %d (open %v), want %d", len(batch), open, n)
			}
			for i, e := range batch {
				if want := string(rune('a' + i)); e.Msg.Text != want {
					t.Fatalf("event %d is %q, want %q", i, e.Msg.Text, want)
				}
			}
			// Taken but not released: still held.
			if n < 10 && q.push(queuedLine("x")) {
				t.Fatal("a full queue took an event before the release")
			}
			for i := range batch {
				q.release(&batch[i])
			}
			if !q.push(queuedLine("y")) {
				t.Fatal("an emptied queue refused an event")
			}
			q.close()
			if q.push(queuedLine("z")) {
				t.Fatal("a closed queue took an event")
			}
			batch, open = q.take(batch[:0])
			if !open || len(batch) != 1 || batch[0].Msg.Text != "y" {
				t.Fatalf("after close took %v (open %v), want the one event waiting", batch, open)
			}
			if _, open := q.take(nil); open {
				t.Fatal("a closed, empty queue is still open")
			}
		})
	}
}
