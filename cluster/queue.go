package cluster

import (
	"sync"
	"unsafe"

	"telchat/hub"
)

// queue holds the events the hub sent and the publisher has not taken
// yet, in the order they were sent. It is bounded twice: by a count
// (Config.Buffer) and by an estimate of the memory the events hold
// (Config.BufferBytes); an event over either bound is refused (Link.Send
// drops it, counted). The memory is used only while events wait: a burst
// grows the queue, and a queue that grew is let go once emptied. push
// never waits on the publisher (the hub calls it); the publisher takes
// all waiting events at once.
type queue struct {
	mu       sync.Mutex
	in       []hub.ClusterEvent // waiting, oldest first
	n, bytes int                // held: waiting and taken but not yet released
	closed   bool
	maxN     int
	maxBytes int
	// ready holds a token when events wait (or the queue closed) and the
	// publisher may not have seen them.
	ready chan struct{}
}

// queueKeep is the capacity of a batch slice the publisher hands back for
// reuse; a bigger one (after a burst) is let go.
const queueKeep = 1024

func newQueue(maxN, maxBytes int) *queue {
	return &queue{maxN: maxN, maxBytes: maxBytes, ready: make(chan struct{}, 1)}
}

// eventSize estimates the memory e holds while it waits: the event
// itself, its strings and its users.
func eventSize(e *hub.ClusterEvent) int {
	n := int(unsafe.Sizeof(*e)) + len(e.Origin) + len(e.Reason) + len(e.Topic) + len(e.By) +
		len(e.AccountKey) + len(e.Text) + presenceSize(&e.User) +
		len(e.Msg.Room) + len(e.Msg.From) + len(e.Msg.To) + len(e.Msg.Text)
	for i := range e.Users {
		n += int(unsafe.Sizeof(e.Users[i])) + presenceSize(&e.Users[i])
	}
	return n
}

func presenceSize(p *hub.Presence) int {
	return len(p.Nick) + len(p.OldNick) + len(p.Room) + len(p.Away)
}

// push appends e; false when a bound is reached or the queue is closed.
func (q *queue) push(e hub.ClusterEvent) bool {
	size := eventSize(&e)
	q.mu.Lock()
	if q.closed || q.n+1 > q.maxN || q.bytes+size > q.maxBytes {
		q.mu.Unlock()
		return false
	}
	q.in = append(q.in, e)
	q.n++
	q.bytes += size
	wake := len(q.in) == 1
	q.mu.Unlock()
	if wake {
		q.signal()
	}
	return true
}

func (q *queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take returns the waiting events, oldest first, and gives the queue
// spare (emptied) to fill next; open is false once the queue is closed
// and nothing waits. The events still count against the bounds until
// released.
func (q *queue) take(spare []hub.ClusterEvent) (batch []hub.ClusterEvent, open bool) {
	if cap(spare) > queueKeep {
		spare = nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	batch, q.in = q.in, spare[:0]
	return batch, len(batch) > 0 || !q.closed
}

// release frees the share of the bounds of an event taken.
func (q *queue) release(e *hub.ClusterEvent) {
	size := eventSize(e)
	q.mu.Lock()
	q.n--
	q.bytes -= size
	q.mu.Unlock()
}

// close refuses further events; those waiting are still taken.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}
