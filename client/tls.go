package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// DefaultHandshakeTimeout bounds a TLS handshake (Config.HandshakeTimeout).
const DefaultHandshakeTimeout = 10 * time.Second

// A TLS client's session runs exactly as a plain one: over a TCP
// connection on the loopback interface whose other end is a proxy that
// decrypts the client's input and encrypts the session's output. The
// session keeps its whole lifecycle (writev batches, write deadlines and
// the slow-consumer cut, the goodbye's flush, half-close and linger, the
// reset) and the proxy carries each step to the client: a half-close
// becomes close_notify and a TCP half-close, a reset a reset, a client that
// stops reading a stalled write that is cut after Config.WriteTimeout. The
// price is a second socket pair and two goroutines per TLS client.

// tlsState is the server's TLS bookkeeping.
type tlsState struct {
	mu          sync.Mutex
	pairLn      *net.TCPListener          // the loopback listener the inner connections come from
	handshaking map[*net.TCPConn]struct{} // closed by Shutdown
	stopped     bool
}

// ServeTLS accepts connections on ln and serves the chat over TLS
// (implicit TLS: the handshake comes first, as on the "telnets" port 992)
// until Shutdown. config is used as given (set GetCertificate to change
// certificates without a restart). Connection limits, bans and the
// slow-consumer rules apply as on a plain listener; admission happens
// before the handshake, so every attempt counts against the connect rate,
// and a handshake that does not finish within Config.HandshakeTimeout is
// dropped. It returns ErrServerClosed after Shutdown.
func (s *Server) ServeTLS(ln net.Listener, config *tls.Config) error {
	if config == nil || (len(config.Certificates) == 0 && config.GetCertificate == nil && config.GetConfigForClient == nil) {
		return errors.New("client: ServeTLS needs a certificate")
	}
	return s.serve(ln, func(raw *net.TCPConn) { s.acceptTLS(raw, config) })
}

// acceptTLS admits a TLS connection and starts its handshake, or its
// refusal.
func (s *Server) acceptTLS(raw *net.TCPConn, config *tls.Config) {
	from := origin{remote: raw.RemoteAddr(), tls: true}
	addr, ip, why, ok := s.admit(raw, from)
	if !ok {
		return
	}
	if why != "" {
		linger := s.refusing.Add(1) <= int64(s.cfg.MaxRefusing)
		go s.refuseTLS(raw, config, why, linger)
		return
	}
	go s.serveTLSConn(raw, config, from, addr, ip)
}

// unadmit gives back what admitLocked counted for a connection that never
// became a session (its handshake failed).
func (s *Server) unadmit(addr netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.admitted--
	if ip := s.perIP[s.cfg.Hub.AddrGroup(addr)]; ip != nil {
		ip.conns--
		ip.seen = time.Now()
	}
}

// handshake runs the server side of a TLS handshake on raw within the
// handshake timeout (or limit, if shorter); Shutdown cuts it short.
func (s *Server) handshake(raw *net.TCPConn, config *tls.Config, limit time.Duration) (*tls.Conn, error) {
	t := &s.tls
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return nil, ErrServerClosed
	}
	if t.handshaking == nil {
		t.handshaking = make(map[*net.TCPConn]struct{})
	}
	t.handshaking[raw] = struct{}{}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.handshaking, raw)
		t.mu.Unlock()
	}()
	timeout := s.cfg.HandshakeTimeout
	if limit > 0 {
		timeout = min(timeout, limit)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tc := tls.Server(raw, config)
	_ = raw.SetDeadline(time.Now().Add(timeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	_ = raw.SetDeadline(time.Time{})
	return tc, nil
}

// serveTLSConn completes the handshake of an admitted connection, then
// runs its session behind the proxy.
func (s *Server) serveTLSConn(raw *net.TCPConn, config *tls.Config, from origin, addr netip.Addr, ip *ipState) {
	defer s.wg.Done()
	tc, err := s.handshake(raw, config, 0)
	var inner, proxyEnd *net.TCPConn
	if err == nil {
		inner, proxyEnd, err = s.loopbackPair()
		if err != nil {
			s.cfg.Log.Error().Err(err).Msg("no loopback connection for a TLS session")
		}
	}
	if err != nil {
		s.totals.handshakes.Add(1)
		s.cfg.Log.Debug().Str("remote", from.remote.String()).Err(err).Msg("TLS handshake failed")
		s.unadmit(addr)
		_ = raw.Close()
		return
	}
	setSocketOptions(inner, -1)
	sess := s.newSession(inner, from, addr)
	sess.ip = ip
	proxied := make(chan struct{})
	go func() {
		defer close(proxied)
		// A client that stops reading stalls the proxy's writes: the
		// session ends as a slow consumer, as on a plain socket.
		s.proxyTLS(tc, raw, proxyEnd, func() { sess.setState(keepState, endStalled) })
	}()
	sess.setState(StateNew, endNone)
	sess.serve()
	sess.setState(StateClosed, endNone)
	sess.debug().Msg("closed")
	<-proxied
}

// proxyTLS carries bytes between the TLS client (tc over raw) and the
// session (inner, the proxy's end of the loopback connection) and maps
// each way a direction ends onto the other side. It returns when both
// directions have ended and both connections are closed.
func (s *Server) proxyTLS(tc *tls.Conn, raw, inner *net.TCPConn, stalled func()) {
	upDone := make(chan struct{})
	go func() { // client -> session
		defer close(upDone)
		buf := make([]byte, 4096)
		discard := false
		for {
			n, err := tc.Read(buf)
			if n > 0 && !discard {
				if _, werr := inner.Write(buf[:n]); werr != nil {
					discard = true // the session is gone: drain until the client is done
				}
			}
			if err != nil {
				break
			}
		}
		_ = inner.CloseWrite() // the session's reader sees the client's end
	}()

	// session -> client
	buf := make([]byte, 16<<10)
	for {
		n, err := inner.Read(buf)
		if n > 0 {
			_ = raw.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			if _, werr := tc.Write(buf[:n]); werr != nil {
				if errors.Is(werr, os.ErrDeadlineExceeded) {
					stalled() // the session resets its end
				} else {
					// The client is gone: the session's writes fail, as
					// they would on its own socket.
					_ = inner.SetLinger(0)
					_ = inner.Close()
				}
				_ = raw.SetLinger(0)
				_ = raw.Close()
				break
			}
		}
		if errors.Is(err, io.EOF) {
			// The session half-closed after its goodbye: close_notify, FIN,
			// then wait (at most the linger time) for the client to close.
			_ = raw.SetWriteDeadline(time.Now().Add(s.cfg.Linger))
			_ = tc.CloseWrite()
			_ = raw.CloseWrite()
			_ = raw.SetReadDeadline(time.Now().Add(s.cfg.Linger))
			break
		}
		if err != nil {
			// The session reset its connection (a slow consumer, an
			// acknowledged goodbye) or it was closed: the client gets a
			// reset too.
			_ = raw.SetLinger(0)
			_ = raw.Close()
			break
		}
	}
	<-upDone
	_ = inner.Close()
	_ = raw.Close()
}

// refuseTLS tells a refused TLS client why, over TLS: a handshake (within
// the linger time), the line, close_notify. Past the refusing budget
// (linger false) it closes without a handshake.
func (s *Server) refuseTLS(raw *net.TCPConn, config *tls.Config, why string, linger bool) {
	defer s.wg.Done()
	defer s.refusing.Add(-1)
	defer raw.Close()
	if !linger {
		return
	}
	start := time.Now()
	tc, err := s.handshake(raw, config, s.cfg.Linger)
	if err != nil {
		s.totals.handshakes.Add(1)
		return
	}
	_ = raw.SetDeadline(start.Add(s.cfg.Linger))
	if _, err := tc.Write([]byte("! Connection refused: " + why + "\r\n")); err != nil {
		return
	}
	_ = tc.CloseWrite()
	_ = raw.CloseWrite()
	_, _ = io.Copy(io.Discard, tc) // until the client closes or the deadline
}

// loopbackPair returns the two ends of a new TCP connection over the
// loopback interface, from a listener the server opens on first use.
func (s *Server) loopbackPair() (inner, proxyEnd *net.TCPConn, err error) {
	t := &s.tls
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return nil, nil, ErrServerClosed
	}
	if t.pairLn == nil {
		if t.pairLn, err = net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}); err != nil {
			return nil, nil, fmt.Errorf("client: TLS proxy listener: %w", err)
		}
	}
	proxyEnd, err = net.DialTCP("tcp", nil, t.pairLn.Addr().(*net.TCPAddr))
	if err != nil {
		return nil, nil, fmt.Errorf("client: TLS proxy connection: %w", err)
	}
	_ = t.pairLn.SetDeadline(time.Now().Add(5 * time.Second))
	for {
		c, err := t.pairLn.AcceptTCP()
		if err != nil {
			_ = proxyEnd.Close()
			return nil, nil, fmt.Errorf("client: TLS proxy connection: %w", err)
		}
		if c.RemoteAddr().String() == proxyEnd.LocalAddr().String() {
			return c, proxyEnd, nil
		}
		_ = c.Close() // another program on this machine found the port
	}
}

// stopTLS cuts handshakes in flight and closes the proxy listener.
func (s *Server) stopTLS() {
	t := &s.tls
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	for raw := range t.handshaking {
		_ = raw.Close()
	}
	if t.pairLn != nil {
		_ = t.pairLn.Close()
	}
}
