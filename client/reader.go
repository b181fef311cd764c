package client

import (
	"errors"
	"io"
	"sync"
	"syscall"

	"telchat/telnet"
)

// readBufSize is the size of the pooled read buffers.
const readBufSize = 4096

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

// reader reads a TCP connection through its raw file descriptor: it waits
// for readability through the runtime's poller (honouring read deadlines)
// and takes a buffer from the pool only once data is there.
type reader struct {
	raw  syscall.RawConn
	pool *bufferPool
	buf  *[]byte
	n    int
	err  error
	fn   func(fd uintptr) bool
}

// init prepares r to read through raw with buffers from pool.
func (r *reader) init(raw syscall.RawConn, pool *bufferPool) {
	r.raw, r.pool = raw, pool
	r.fn = r.tryRead
}

// tryRead is called by RawConn.Read: false means "not readable yet, wait".
func (r *reader) tryRead(fd uintptr) bool {
	if r.buf == nil {
		r.buf = r.pool.pool.Get().(*[]byte)
	}
	for {
		n, err := syscall.Read(int(fd), *r.buf)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			r.pool.pool.Put(r.buf)
			r.buf = nil
			return false
		case err != nil:
			r.n, r.err = 0, err
		case n == 0:
			r.n, r.err = 0, io.EOF
		default:
			r.n, r.err = n, nil
		}
		return true
	}
}

// read returns the next chunk of input (valid until release) or an error:
// io.EOF on the peer's half-close, os.ErrDeadlineExceeded, net.ErrClosed,
// or the socket error.
func (r *reader) read() ([]byte, error) {
	r.n, r.err = 0, nil
	if err := r.raw.Read(r.fn); err != nil {
		return nil, err
	}
	if r.buf == nil {
		return nil, r.err
	}
	return (*r.buf)[:r.n], r.err
}

// release gives the buffer back to the pool.
func (r *reader) release() {
	if r.buf != nil {
		r.pool.pool.Put(r.buf)
		r.buf = nil
	}
}
