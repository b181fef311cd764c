package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// pair is one connection: the descriptor bursts are written to and the one
// they are read from. Both are duplicates that Go's netpoller does not watch.
type pair struct{ w, r int }

// fanIn is the reading side: one epoll loop per CPU.
type fanIn struct {
	target     int          // bytes per connection per burst
	burstStart atomic.Int64 // UnixNano of the current burst's first write
	completed  atomic.Int64 // connections that got the whole current burst
	conns      int64
	done       chan struct{} // a burst completed on every connection
	wg         sync.WaitGroup
	loops      []*readLoop
}

// readLoop is one epoll set and the goroutine that reads it.
type readLoop struct {
	in        *fanIn
	epfd      int
	file      *os.File // epfd, so that the goroutine parks in Go's netpoller
	got       map[int32]int
	latencies []time.Duration // owned by the goroutine until it exits
	err       error
}

// run connects, sends cfg.bursts bursts and collects the latencies.
func run(cfg config) (*result, error) {
	deadline := time.Now().Add(cfg.timeout)
	if err := raiseFileLimit(); err != nil {
		return nil, err
	}
	pairs, err := connectPairs(cfg.conns)
	defer closePairs(pairs)
	if err != nil {
		return nil, err
	}
	in, err := startFanIn(pairs, cfg.lines*cfg.size, deadline)
	if err != nil {
		return nil, err
	}
	res := &result{}
	cpuBefore := cpuTime()
	burst := make([]byte, 0, cfg.lines*cfg.size)
	for range cfg.lines {
		line := make([]byte, cfg.size)
		for i := range line {
			line[i] = 'x'
		}
		line[len(line)-1] = '\n'
		burst = append(burst, line...)
	}
	next := time.Now()
	for b := range cfg.bursts {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = next.Add(cfg.interval)
		in.completed.Store(0)
		in.burstStart.Store(time.Now().UnixNano())
		if err := writeBurst(pairs, burst, cfg); err != nil {
			in.stop()
			return nil, fmt.Errorf("burst %d: %w", b, err)
		}
		select {
		case <-in.done:
			res.bursts++
		case <-time.After(time.Until(deadline)):
			in.stop()
			return nil, fmt.Errorf("burst %d did not arrive before the deadline", b)
		}
	}
	res.cpu = cpuTime() - cpuBefore
	in.stop()
	for _, l := range in.loops {
		if l.err != nil {
			return nil, l.err
		}
		res.latencies = append(res.latencies, l.latencies...)
	}
	return res, nil
}

// writeBurst writes burst to every connection, spread over cfg.writers
// goroutines.
func writeBurst(pairs []pair, burst []byte, cfg config) error {
	var wg sync.WaitGroup
	errs := make([]error, cfg.writers)
	for w := range cfg.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(pairs); i += cfg.writers {
				if err := writeAll(pairs[i].w, burst, cfg.split, cfg.size); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// writeAll writes b to fd, in one write(2) or one per line of size bytes.
func writeAll(fd int, b []byte, split bool, size int) error {
	chunk := len(b)
	if split {
		chunk = size
	}
	for len(b) > 0 {
		n, err := syscall.Write(fd, b[:min(chunk, len(b))])
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			return fmt.Errorf("socket buffer full (the readers fell behind): %w", err)
		case err != nil:
			return fmt.Errorf("write: %w", err)
		}
		b = b[n:]
	}
	return nil
}

// connectPairs opens n connections on 127.0.0.1 and returns their
// duplicated descriptors; the net.Conns are closed.
func connectPairs(n int) ([]pair, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	pairs := make([]pair, 0, n)
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return pairs, fmt.Errorf("dial: %w", err)
		}
		s, err := ln.Accept()
		if err != nil {
			c.Close()
			return pairs, fmt.Errorf("accept: %w", err)
		}
		w, werr := dupFD(s)
		r, rerr := dupFD(c)
		s.Close()
		c.Close()
		if err := errors.Join(werr, rerr); err != nil {
			if werr == nil {
				syscall.Close(w)
			}
			if rerr == nil {
				syscall.Close(r)
			}
			return pairs, err
		}
		pairs = append(pairs, pair{w: w, r: r})
	}
	return pairs, nil
}

// dupFD duplicates c's socket descriptor (non-blocking, like c's).
func dupFD(c net.Conn) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1, errors.New("not a syscall.Conn")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("raw conn: %w", err)
	}
	fd, dupErr := -1, error(nil)
	if err := raw.Control(func(s uintptr) { fd, dupErr = syscall.Dup(int(s)) }); err != nil {
		return -1, fmt.Errorf("raw control: %w", err)
	}
	if dupErr != nil {
		return -1, fmt.Errorf("dup: %w", dupErr)
	}
	return fd, nil
}

// closePairs closes every descriptor.
func closePairs(pairs []pair) {
	for _, p := range pairs {
		syscall.Close(p.w)
		syscall.Close(p.r)
	}
}

// startFanIn starts one read loop per CPU over the read ends.
func startFanIn(pairs []pair, target int, deadline time.Time) (*fanIn, error) {
	in := &fanIn{target: target, conns: int64(len(pairs)), done: make(chan struct{}, 1)}
	n := min(runtime.GOMAXPROCS(0), len(pairs))
	for range n {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			in.stop()
			return nil, fmt.Errorf("epoll_create1: %w", err)
		}
		if err := syscall.SetNonblock(epfd, true); err != nil {
			syscall.Close(epfd)
			in.stop()
			return nil, fmt.Errorf("set non-blocking: %w", err)
		}
		l := &readLoop{in: in, epfd: epfd, file: os.NewFile(uintptr(epfd), "floor-epoll"), got: map[int32]int{}}
		if err := l.file.SetReadDeadline(deadline); err != nil {
			l.file.Close()
			in.stop()
			return nil, fmt.Errorf("epoll descriptor is not pollable: %w", err)
		}
		in.loops = append(in.loops, l)
	}
	for i, p := range pairs {
		l := in.loops[i%n]
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(p.r)}
		if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, p.r, &ev); err != nil {
			in.stop()
			return nil, fmt.Errorf("epoll_ctl: %w", err)
		}
		l.got[int32(p.r)] = 0
	}
	for _, l := range in.loops {
		in.wg.Add(1)
		go l.run()
	}
	return in, nil
}

// stop ends the read loops and waits for them.
func (in *fanIn) stop() {
	for _, l := range in.loops {
		l.file.SetReadDeadline(time.Now())
	}
	in.wg.Wait()
	for _, l := range in.loops {
		l.file.Close()
	}
}

// run reads ready sockets until stopped.
func (l *readLoop) run() {
	defer l.in.wg.Done()
	raw, err := l.file.SyscallConn()
	if err != nil {
		l.err = fmt.Errorf("epoll raw conn: %w", err)
		return
	}
	events := make([]syscall.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	for {
		err := raw.Read(func(epfd uintptr) bool {
			n, err := syscall.EpollWait(int(epfd), events, 0)
			if err != nil || n == 0 {
				return err != nil && !errors.Is(err, syscall.EINTR)
			}
			for _, ev := range events[:n] {
				l.read(ev.Fd, buf)
			}
			return true
		})
		if err != nil || l.err != nil {
			return // stopped (deadline) or failed
		}
	}
}

// read reads one ready socket once and records a latency when the
// connection has the whole burst.
func (l *readLoop) read(fd int32, buf []byte) {
	n, err := syscall.Read(int(fd), buf)
	switch {
	case n > 0:
	case err == nil:
		l.err = errors.New("a connection closed")
		return
	case errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR):
		return
	default:
		l.err = fmt.Errorf("read: %w", err)
		return
	}
	got := l.got[fd] + n
	if got >= l.in.target {
		got -= l.in.target
		l.latencies = append(l.latencies, time.Duration(time.Now().UnixNano()-l.in.burstStart.Load()))
		if l.in.completed.Add(1) == l.in.conns {
			l.in.done <- struct{}{}
		}
	}
	l.got[fd] = got
}

// cpuTime is the user + system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit.
func raiseFileLimit() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("getrlimit: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("setrlimit: %w", err)
		}
	}
	return nil
}
