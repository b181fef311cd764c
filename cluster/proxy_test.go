package cluster_test

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"telchat/internal/servertest"
)

// linkProxy forwards TCP connections from its own port to a NATS server,
// so that a test can cut one telchat server's link (close the port and
// every connection through it) while the others keep theirs, and restore
// it on the same port.
type linkProxy struct {
	tb     testing.TB
	target string
	addr   string // 127.0.0.1:port, kept across cuts

	mu    sync.Mutex
	ln    net.Listener          // nil while cut
	conns map[net.Conn]struct{} // both ends of every forwarded connection
	wg    sync.WaitGroup        // the accept loop and the copiers
}

// startProxy listens on a free loopback port and forwards to target.
func startProxy(tb testing.TB, target string) *linkProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("proxy listen: %v", err)
	}
	p := &linkProxy{tb: tb, target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	tb.Cleanup(p.cut)
	return p
}

// URL is the NATS URL of the proxy.
func (p *linkProxy) URL() string { return "nats://" + p.addr }

func (p *linkProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by cut
			}
			p.forward(c)
		}
	}()
}

// forward copies between c and a new connection to the target.
func (p *linkProxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, servertest.Timeout)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		defer p.wg.Done()
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
	}
	p.wg.Add(2)
	go pipe(up, c)
	go pipe(c, up)
}

// cut closes the port and every connection through it, and waits until
// the proxy's goroutines have ended.
func (p *linkProxy) cut() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
	p.mu.Unlock()
	p.wg.Wait()
}

// restore listens again on the proxy's port.
func (p *linkProxy) restore() {
	p.tb.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		ln, err := net.Listen("tcp", p.addr)
		if err == nil {
			p.serve(ln)
			return
		}
		if time.Now().After(deadline) {
			p.tb.Fatalf("proxy listen again on %s: %v", p.addr, err)
		}
		time.Sleep(20 * time.Millisecond) // the port may be a moment in use
	}
}
