package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"telchat/hub"
	"telchat/lineedit"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("client: server closed")

// Server accepts TCP connections and runs a Session for each.
type Server struct {
	cfg Config

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*Session]struct{}
	perIP     map[netip.Prefix]*ipState // by address group (hub.Hub.AddrGroup)
	closing   bool
	forced    bool           // Shutdown ran out of time: sessions are closed at once
	admitted  int            // connections admitted and not yet closed (MaxClients)
	wg        sync.WaitGroup // sessions and refusals in flight

	tls    tlsState
	bufs   *bufferPool
	totals totals
	// The constant bytes a character-mode batch starts and ends with,
	// shared by every session.
	erase, stopPaste []byte

	active    atomic.Int64
	queued    atomic.Int64 // bytes every session holds for its client (see budget.go)
	refused   atomic.Int64
	refusing  atomic.Int64 // refusals in flight
	lastPrune time.Time
}

// NewServer returns a server for cfg.
func NewServer(cfg Config) *Server {
	cfg.setDefaults()
	return &Server{
		cfg:       cfg,
		listeners: make(map[net.Listener]struct{}),
		sessions:  make(map[*Session]struct{}),
		perIP:     make(map[netip.Prefix]*ipState),
		bufs:      newBufferPool(),
		erase:     []byte(lineedit.EraseLine),
		stopPaste: []byte(lineedit.DisableBracketedPaste),
	}
}

// Active is the number of sessions not yet closed.
func (s *Server) Active() int64 { return s.active.Load() }

// Refused counts connections refused by a limit.
func (s *Server) Refused() int64 { return s.refused.Load() }

// Refusing is the number of refused connections not yet closed.
func (s *Server) Refusing() int64 { return s.refusing.Load() }

// Serve accepts connections on ln until Shutdown. It always returns a
// non-nil error; after Shutdown, ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	return s.serve(ln, func(tcp *net.TCPConn) { s.accept(tcp, origin{remote: tcp.RemoteAddr()}) })
}

// serve is the accept loop of Serve and ServeTLS; handle must not block.
func (s *Server) serve(ln net.Listener, handle func(*net.TCPConn)) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.cfg.Log.Warn().Err(err).Dur("retry_in", backoff).Msg("accept failed")
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("client: accept: %w", err)
		}
		backoff = 0
		tcp, ok := conn.(*net.TCPConn)
		if !ok {
			_ = conn.Close()
			continue
		}
		handle(tcp)
	}
}

// origin is where a session's connection comes from: for a TLS client the
// session's socket is the inner end of the TLS proxy (tls.go), and the
// client's own address is in remote.
type origin struct {
	remote net.Addr
	tls    bool
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// accept applies the connection limits and starts a session or a refusal.
func (s *Server) accept(conn *net.TCPConn, from origin) {
	addr, ip, why, ok := s.admit(conn, from)
	if !ok {
		return
	}
	if why != "" {
		linger := s.refusing.Add(1) <= int64(s.cfg.MaxRefusing)
		go s.refuse(conn, why, linger)
		return
	}
	sess := s.newSession(conn, from, addr)
	sess.ip = ip
	sess.setState(StateNew, endNone) // tracked from here on
	go func() {
		defer s.wg.Done()
		sess.serve()
		sess.setState(StateClosed, endNone)
		sess.debug().Msg("closed")
	}()
}

func (s *Server) newSession(conn *net.TCPConn, from origin, addr netip.Addr) *Session {
	id := uuid.NewString()
	sess := &Session{conn: conn, srv: s, tls: from.tls, msgLimit: s.msgLimiter()}
	sess.more.L = &sess.mu
	sess.state.Store(int32(stateUntracked)) // until setState(StateNew)
	sess.hc = hub.NewConn(id, from.remote.String(), addr, sess)
	sess.debug().Msg("accepted")
	return sess
}

// Shutdown stops accepting, has the hub send every client a notice and
// finish it (flush, half-close, linger, close), and waits for all sessions
// to end. When ctx ends first, remaining connections are closed at once.
func (s *Server) Shutdown(ctx context.Context, notice string) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		_ = ln.Close()
	}
	s.mu.Unlock()
	s.stopTLS() // handshakes in flight are cut; running TLS sessions end as any other

	err := s.cfg.Hub.Shutdown(ctx, notice)
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return err
	case <-ctx.Done():
	}
	// Out of time: every session still open is forced through the same
	// path as every other ending (setState), and so is any session that
	// is tracked from now on.
	s.mu.Lock()
	s.forced = true
	left := make([]*Session, 0, len(s.sessions))
	for sess := range s.sessions {
		left = append(left, sess)
	}
	s.mu.Unlock()
	for _, sess := range left {
		sess.setState(keepState, endForced)
	}
	<-done
	return ctx.Err()
}

// setSocketOptions turns on keep-alive and SO_OOBINLINE: a Telnet Synch
// (IAC DM) arrives as TCP urgent data, which Linux would otherwise take out
// of the stream and leave a stray byte behind.
func setSocketOptions(conn *net.TCPConn, keepAlive time.Duration) {
	if keepAlive > 0 {
		_ = conn.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: keepAlive, Interval: keepAlive / 2, Count: 4})
	} else {
		_ = conn.SetKeepAlive(false) // the listener may have turned it on
	}
	if raw, err := conn.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_OOBINLINE, 1)
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
