package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// pollBatch is how many ready connections one poller takes per wake-up.
const pollBatch = 256

// pollReadBuf is the read buffer a poller shares among its connections.
const pollReadBuf = 64 << 10

// pollGroup reads the checked clients' sockets from a few goroutines, one
// epoll set each, instead of one goroutine per client. A wake-up then reads
// every ready socket with one read(2) each, which keeps the load generator's
// own cost per delivered line small, so that what the latency figures show
// is the server and not the generator's goroutine scheduling.
type pollGroup struct {
	pollers []*poller
	next    atomic.Uint32
}

// poller is one epoll set and the goroutine that reads it.
type poller struct {
	lr   *loadRun
	epfd int
	file *os.File        // the epoll descriptor, so the goroutine parks in Go's netpoller
	raw  syscall.RawConn // raw access to file
	buf  []byte          // owned by the poller goroutine

	mu  sync.Mutex
	rcs map[int32]*receiver // by socket descriptor
}

// errNotPolled says that a receiver stays on its own reading goroutine.
var errNotPolled = errors.New("not read by a poller")

// newPollGroup starts n pollers for lr.
func newPollGroup(lr *loadRun, n int) (*pollGroup, error) {
	g := &pollGroup{}
	for range n {
		p, err := newPoller(lr)
		if err != nil {
			g.stop()
			return nil, err
		}
		g.pollers = append(g.pollers, p)
		lr.pollersExited.Add(1)
		go p.run()
	}
	return g, nil
}

// newPoller creates an epoll set registered with Go's netpoller.
func newPoller(lr *loadRun) (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, fmt.Errorf("set epoll descriptor non-blocking: %w", err)
	}
	file := os.NewFile(uintptr(epfd), "loadgen-epoll")
	raw, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("epoll raw conn: %w", err)
	}
	if err := file.SetReadDeadline(lr.deadline); err != nil {
		file.Close()
		return nil, fmt.Errorf("epoll descriptor is not pollable: %w", err)
	}
	return &poller{lr: lr, epfd: epfd, file: file, raw: raw, buf: make([]byte, pollReadBuf), rcs: map[int32]*receiver{}}, nil
}

// add hands rc's socket to a poller. Senders keep their own reading
// goroutine (errNotPolled), because they also write on the connection.
func (g *pollGroup) add(rc *receiver) error {
	if rc.index < rc.lr.cfg.senders {
		return errNotPolled
	}
	lc := rc.lc
	raw, err := lc.conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("raw conn: %w", err)
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) { fd, dupErr = syscall.Dup(int(s)) }); err != nil {
		return fmt.Errorf("raw control: %w", err)
	}
	if dupErr != nil {
		return fmt.Errorf("dup: %w", dupErr)
	}
	// What the nickname exchange left in the buffer is checked here, before
	// the poller sees the socket.
	if n := lc.r.Buffered(); n > 0 {
		pending, _ := lc.r.Peek(n)
		rc.consume(pending)
	}
	// Closing the net.Conn takes the socket out of Go's netpoller; the
	// duplicate keeps it open for the poller.
	lc.conn.Close()
	lc.pollFD = fd
	p := g.pollers[int(g.next.Add(1))%len(g.pollers)]
	p.mu.Lock()
	p.rcs[int32(fd)] = rc
	p.mu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		p.mu.Lock()
		delete(p.rcs, int32(fd))
		p.mu.Unlock()
		rc.err = fmt.Errorf("epoll_ctl add: %w", err)
		rc.finish()
		return nil
	}
	return nil
}

// stop wakes every poller so that it finishes its receivers and exits.
func (g *pollGroup) stop() {
	for _, p := range g.pollers {
		p.file.SetReadDeadline(time.Now())
	}
}

// run reads ready sockets until the run stops or its deadline passes.
func (p *poller) run() {
	defer p.lr.pollersExited.Done()
	defer p.file.Close()
	defer p.finishAll()
	events := make([]syscall.EpollEvent, pollBatch)
	for {
		var waitErr error
		err := p.raw.Read(func(epfd uintptr) bool {
			n, err := syscall.EpollWait(int(epfd), events, 0)
			switch {
			case errors.Is(err, syscall.EINTR):
				return true // try again at once
			case err != nil:
				waitErr = err
				return true
			case n == 0:
				return false // park until the epoll set is readable
			}
			p.handle(events[:n])
			return true
		})
		if err != nil || waitErr != nil || p.lr.stopping.Load() {
			return
		}
	}
}

// handle reads each ready socket once; level-triggered epoll reports a
// socket again while it still has data.
func (p *poller) handle(events []syscall.EpollEvent) {
	for i := range events {
		fd := events[i].Fd
		p.mu.Lock()
		rc := p.rcs[fd]
		p.mu.Unlock()
		if rc == nil {
			continue
		}
		n, err := syscall.Read(int(fd), p.buf)
		switch {
		case n > 0:
			rc.consume(p.buf[:n])
		case errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR):
		case err == nil:
			p.drop(fd, rc, io.EOF)
		default:
			p.drop(fd, rc, err)
		}
	}
}

// drop stops polling a socket the server closed.
func (p *poller) drop(fd int32, rc *receiver, why error) {
	syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	p.mu.Lock()
	delete(p.rcs, fd)
	p.mu.Unlock()
	if !p.lr.stopping.Load() {
		rc.err = fmt.Errorf("read: %w", why)
	}
	rc.finish()
}

// finishAll marks every receiver still polled as finished.
func (p *poller) finishAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for fd, rc := range p.rcs {
		delete(p.rcs, fd)
		rc.finish()
	}
}

// consume checks every complete line in data and keeps the rest for the next
// read. A line longer than maxLineBytes cannot be a load line and is dropped.
func (rc *receiver) consume(data []byte) {
	if len(rc.carry) > 0 {
		rc.carry = append(rc.carry, data...)
		data = rc.carry
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimRight(data[:i], "\r")
		data = data[i+1:]
		if bytes.IndexByte(line, telnetIAC) >= 0 {
			line = stripTelnet(line)
		}
		if pong := rc.lr.checkLine(rc, line); pong != nil {
			rc.replyPolled(pong)
		}
	}
	if len(data) > maxLineBytes {
		data = nil
	}
	rc.carry = append(rc.carry[:0], data...) // memmove: data may be the end of carry
}

// defaultRecv is the default of -recv.
const defaultRecv = recvPoll

// replyPolled writes a PONG, best effort: with one write(2) on the polled
// socket (non-blocking, so a full send buffer loses it), or on the
// connection while the receiver is not yet polled. Polled receivers never
// send, so nothing else writes the socket meanwhile.
func (rc *receiver) replyPolled(pong []byte) {
	if fd := rc.lc.pollFD; fd >= 0 {
		syscall.Write(fd, pong)
		return
	}
	rc.lc.write(pong)
}

// quitPolled sends quit (unless empty) on a socket a poller read and closes
// it. It reports false when the connection was not handed to a poller.
func (lc *lineConn) quitPolled(quit []byte) bool {
	if lc.pollFD < 0 {
		return false
	}
	if len(quit) > 0 {
		syscall.Write(lc.pollFD, quit) // best effort, like the other quit lines
	}
	syscall.Close(lc.pollFD)
	lc.pollFD = -1
	return true
}
