package client

import (
	"sync"
	"syscall"

	"telchat/telnet"
)

// bufferPool lends sessions what they need only while they use it, so that
// an idle connection holds none of it: read buffers, Telnet decoders and
// event arrays while there is input to process, outbound queue arrays while
// there is output, and iovec arrays for the duration of a writev.
type bufferPool struct {
	pool        sync.Pool // *[]byte of readBufSize
	iovecs      sync.Pool // *[]syscall.Iovec with room for maxIovecs
	decoders    sync.Pool // idle *telnet.Decoder, all made with the server's Config
	eventArrays sync.Pool // *[]telnet.Event, empty
	queueArrays sync.Pool // *[][]byte, empty
}

// maxPooledArray is the capacity beyond which an event or queue array is
// left to the garbage collector rather than kept after a burst.
const maxPooledArray = 1024

func newBufferPool() *bufferPool {
	return &bufferPool{
		pool: sync.Pool{New: func() any {
			b := make([]byte, readBufSize)
			return &b
		}},
		iovecs: sync.Pool{New: func() any {
			v := make([]syscall.Iovec, 0, maxIovecs)
			return &v
		}},
	}
}

// queue returns an empty array for an outbound queue.
func (p *bufferPool) queue() [][]byte {
	if q, ok := p.queueArrays.Get().(*[][]byte); ok {
		return *q
	}
	return make([][]byte, 0, 4)
}

// putQueue gives back a queue array; its elements must be cleared.
func (p *bufferPool) putQueue(q [][]byte) {
	if cap(q) > 0 && cap(q) <= maxPooledArray {
		q = q[:0]
		p.queueArrays.Put(&q)
	}
}

// events returns an empty event array with room for n events.
func (p *bufferPool) events(n int) []telnet.Event {
	if e, ok := p.eventArrays.Get().(*[]telnet.Event); ok && cap(*e) >= n {
		return *e
	}
	return make([]telnet.Event, 0, n)
}

// putEvents clears and gives back an event array.
func (p *bufferPool) putEvents(e []telnet.Event) {
	if cap(e) > 0 && cap(e) <= maxPooledArray {
		clear(e)
		e = e[:0]
		p.eventArrays.Put(&e)
	}
}
