package client

import (
	"io"
	"syscall"
	"time"
	"unsafe"
)

// maxIovecs is the most buffers one writev takes (Linux's IOV_MAX).
const maxIovecs = 1024

// writer writes to a TCP connection through its raw file descriptor: one
// write(2) for one buffer, one writev(2) for several, with the iovec array
// borrowed from a pool for the call only (the net package would keep one
// per socket). Waiting for the socket to take more goes through the
// runtime's poller, which honours the connection's write deadline.
//
// Compared with net.Conn.Write and net.Buffers.WriteTo, the call chain down
// to the system call is shallow and allocates nothing, which keeps the
// writer goroutine within its initial stack (see Session.readLoop).
type writer struct {
	raw  syscall.RawConn
	pool *bufferPool
	fn   func(fd uintptr) bool // tryWrite, bound once

	deadline time.Time // the write deadline last set on the connection
	behind   behind    // how long the session's queue has been far behind

	// State of the current write call.
	bufs [][]byte         // what is left to write
	iov  *[]syscall.Iovec // borrowed for the call when bufs has several buffers
	n    int64            // bytes written
	// calls counts write system calls until takeCalls.
	calls int64
	err   error // the socket's error, if any
}

// init prepares w to write through raw with iovec arrays from pool.
func (w *writer) init(raw syscall.RawConn, pool *bufferPool) {
	w.raw, w.pool = raw, pool
	w.fn = w.tryWrite
}

// write writes bufs until all of it is written or an error: the socket's,
// or the poller's (os.ErrDeadlineExceeded, net.ErrClosed, wrapped) when it
// waited for the socket to take more. It returns what is left of bufs and
// the number of bytes written; it consumes bufs' elements.
func (w *writer) write(bufs [][]byte) (rest [][]byte, n int64, err error) {
	w.bufs, w.n, w.err = bufs, 0, nil
	if len(bufs) > 1 {
		// Borrowed here rather than in writev, four frames deeper: a Get
		// that finds the pool empty allocates, and an allocation can take
		// the runtime's deep slow path, which there would double the
		// writer's stack for good.
		w.iov = w.pool.iovecs.Get().(*[]syscall.Iovec)
	}
	if err = w.raw.Write(w.fn); err == nil {
		err = w.err
	}
	rest, n = w.bufs, w.n
	w.bufs = nil
	if w.iov != nil {
		w.pool.iovecs.Put(w.iov)
		w.iov = nil
	}
	return rest, n, err
}

// tryWrite is called by RawConn.Write: it writes until w.bufs is empty or
// the socket's buffer is full, and returns false ("wait until writable")
// only in the second case.
func (w *writer) tryWrite(fd uintptr) bool {
	for len(w.bufs) > 0 {
		if len(w.bufs[0]) == 0 {
			w.bufs = w.bufs[1:]
			continue
		}
		var n int
		var err error
		w.calls++
		if len(w.bufs) == 1 {
			n, err = syscall.Write(int(fd), w.bufs[0])
		} else {
			n, err = w.writev(fd)
		}
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false
		case err != nil:
			w.err = err
			return true
		case n == 0:
			w.err = io.ErrUnexpectedEOF
			return true
		}
		w.n += int64(n)
		w.consume(n)
	}
	return true
}

// writev writes up to maxIovecs of w.bufs, whose first element is not
// empty, with one system call.
func (w *writer) writev(fd uintptr) (int, error) {
	iovp := w.iov
	iov := (*iovp)[:0]
	for _, b := range w.bufs {
		if len(b) == 0 {
			continue
		}
		v := syscall.Iovec{Base: &b[0]}
		v.SetLen(len(b))
		if iov = append(iov, v); len(iov) == maxIovecs {
			break
		}
	}
	n, _, errno := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	clear(iov) // the pool must not keep the messages alive
	*iovp = iov[:0]
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// takeCalls returns the write system calls made since the last takeCalls.
func (w *writer) takeCalls() int64 {
	n := w.calls
	w.calls = 0
	return n
}

// consume drops the first n written bytes from w.bufs.
func (w *writer) consume(n int) {
	for len(w.bufs) > 0 && n >= len(w.bufs[0]) {
		n -= len(w.bufs[0])
		w.bufs[0] = nil
		w.bufs = w.bufs[1:]
	}
	if n > 0 {
		w.bufs[0] = w.bufs[0][n:]
	}
}
