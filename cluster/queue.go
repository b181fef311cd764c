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
// drops it, counted). The events wait in a list of fixed-size chunks: a
// push never copies what waits, a burst adds chunks, and chunks emptied
// are let go (but for a few kept for reuse). push never waits on the
// publisher (the hub calls it); the publisher takes all waiting chunks at
// once.
type queue struct {
	mu         sync.Mutex
	head, tail *chunk // waiting, oldest first
	free       *chunk // emptied chunks kept for reuse
	nfree      int
	n, bytes   int // held: waiting and taken but not yet released
	closed     bool
	maxN       int
	maxBytes   int
	// ready holds a token when events wait (or the queue closed) and the
	// publisher may not have seen them.
	ready chan struct{}
}

const (
	// chunkEvents is the number of events in a chunk (some 90 KB).
	chunkEvents = 128
	// chunksKept is the number of emptied chunks kept for reuse.
	chunksKept = 4
)

// chunk is a run of events: ev[:n] were pushed.
type chunk struct {
	ev   [chunkEvents]hub.ClusterEvent
	n    int
	next *chunk
}

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
	wake := q.head == nil
	if q.tail == nil || q.tail.n == chunkEvents {
		c := q.free
		if c != nil {
			q.free, c.next = c.next, nil
			q.nfree--
		} else {
			c = new(chunk)
		}
		if q.tail == nil {
			q.head = c
		} else {
			q.tail.next = c
		}
		q.tail = c
	}
	q.tail.ev[q.tail.n] = e
	q.tail.n++
	q.n++
	q.bytes += size
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

// take returns the waiting events, oldest first, as a list of chunks
// (nil: none), and takes back done, a list the publisher has emptied
// (each event zeroed); open is false once the queue is closed and
// nothing waits. The events taken still count against the bounds until
// released.
func (q *queue) take(done *chunk) (c *chunk, open bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for done != nil {
		next := done.next
		if q.nfree < chunksKept {
			done.n, done.next = 0, q.free
			q.free = done
			q.nfree++
		}
		done = next
	}
	c, q.head, q.tail = q.head, nil, nil
	return c, c != nil || !q.closed
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
