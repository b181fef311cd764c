package client

import (
	"io"
	"syscall"
)

// readBufSize is the size of the pooled read buffers.
const readBufSize = 4096

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
		// syscall.Read returns a bare Errno: compared, not errors.Is'd,
		// whose first call per error type initializes an itab on this
		// goroutine's stack, which is at its deepest here.
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
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
