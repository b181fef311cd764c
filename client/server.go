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
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"telchat/hub"
	"telchat/telnet"
)

// Config configures a Server. Zero values mean the documented defaults.
type Config struct {
	// Hub receives every session. Required.
	Hub *hub.Hub
	// Log is the base logger; each session adds its id and address.
	Log zerolog.Logger
	// MaxLine is the longest line of text in bytes. Default 1024.
	MaxLine int
	// WriteTimeout: a client whose writes make no progress this long is
	// disconnected as slow. Default 10s.
	WriteTimeout time.Duration
	// MaxQueueBytes caps a client's outbound queue in bytes. Default 4 MiB.
	MaxQueueBytes int64
	// MaxQueueMsgs caps a client's outbound queue in messages. Default 16384.
	MaxQueueMsgs int
	// Linger is how long a closing session reads and discards input after
	// its half-close, waiting for the peer's EOF. Default 2s.
	Linger time.Duration
	// MsgRate is the steady rate of lines per second a client may send
	// (0: unlimited); MsgBurst the burst. Defaults 5 and 10 (see main).
	MsgRate  float64
	MsgBurst int
	// FloodDrops: a client that has more than this many lines dropped in
	// 10 seconds is disconnected (reason flood). 0: never.
	FloodDrops int
	// MaxClients caps concurrent connections (0: unlimited).
	MaxClients int
	// MaxPerIP caps concurrent connections from one address (0: unlimited).
	MaxPerIP int
	// ConnectRate is connections per second allowed from one address, with
	// ConnectBurst (0: unlimited).
	ConnectRate  float64
	ConnectBurst int
	// MaxRefusing caps refused connections that linger (read and discard
	// the peer's input after the refusal line, for up to Linger) at once.
	// Past it a refusal writes its line and closes at once, so a flood of
	// connection attempts cannot hold thousands of descriptors. Default 256.
	MaxRefusing int
	// KeepAlive is the TCP keep-alive period. Default 30s; negative disables.
	KeepAlive time.Duration
	// ConnState, if set, is called on every session state change.
	ConnState func(*Session, State)
}

func (c *Config) setDefaults() {
	if c.MaxLine <= 0 {
		c.MaxLine = 1024
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MaxQueueBytes <= 0 {
		c.MaxQueueBytes = 4 << 20
	}
	if c.MaxQueueMsgs <= 0 {
		c.MaxQueueMsgs = 16384
	}
	if c.Linger <= 0 {
		c.Linger = 2 * time.Second
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = 30 * time.Second
	}
	if c.MsgBurst <= 0 {
		c.MsgBurst = 10
	}
	if c.MaxRefusing <= 0 {
		c.MaxRefusing = 256
	}
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("client: server closed")

// Server accepts TCP connections and runs a Session for each.
type Server struct {
	cfg Config

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[*Session]struct{}
	perIP     map[netip.Addr]*ipState
	closing   bool
	wg        sync.WaitGroup // sessions and refusals in flight

	bufs *bufferPool

	active    atomic.Int64
	refused   atomic.Int64
	refusing  atomic.Int64 // refusals in flight
	lastPrune time.Time
}

type ipState struct {
	conns   int
	limiter *rate.Limiter
	seen    time.Time
}

// NewServer returns a server for cfg.
func NewServer(cfg Config) *Server {
	cfg.setDefaults()
	return &Server{
		cfg:       cfg,
		listeners: make(map[net.Listener]struct{}),
		sessions:  make(map[*Session]struct{}),
		perIP:     make(map[netip.Addr]*ipState),
		bufs:      newBufferPool(),
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
		s.accept(tcp)
	}
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// accept applies the connection limits and starts a session or a refusal.
func (s *Server) accept(conn *net.TCPConn) {
	ap, _ := netip.ParseAddrPort(conn.RemoteAddr().String())
	addr := ap.Addr().Unmap()
	setSocketOptions(conn, s.cfg.KeepAlive)

	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = conn.Close()
		return
	}
	why := s.admitLocked(addr)
	s.wg.Add(1)
	var sess *Session
	if why == "" {
		sess = s.newSession(conn, addr)
		s.sessions[sess] = struct{}{}
	}
	s.mu.Unlock()

	if why != "" {
		s.refused.Add(1)
		s.cfg.Hub.Counters.Refused.Add(1) // /stats counts every refusal
		s.cfg.Log.Info().Str("remote", conn.RemoteAddr().String()).Str("why", why).Msg("connection refused")
		linger := s.refusing.Add(1) <= int64(s.cfg.MaxRefusing)
		go s.refuse(conn, why, linger)
		return
	}
	s.active.Add(1)
	go func() {
		defer s.wg.Done()
		sess.serve()
		s.mu.Lock()
		delete(s.sessions, sess)
		if st := s.perIP[addr]; st != nil {
			st.conns--
			st.seen = time.Now()
		}
		s.mu.Unlock()
		s.active.Add(-1)
		sess.setState(StateClosed)
		sess.debug().Msg("closed")
	}()
}

// admitLocked checks the connection limits; it returns why a connection is
// refused, or "" and counts it.
func (s *Server) admitLocked(addr netip.Addr) string {
	now := time.Now()
	if now.Sub(s.lastPrune) > time.Minute {
		s.pruneLocked(now)
	}
	if s.cfg.MaxClients > 0 && len(s.sessions) >= s.cfg.MaxClients {
		return "the server is full, try again later"
	}
	st := s.perIP[addr]
	if st == nil {
		st = &ipState{}
		if s.cfg.ConnectRate > 0 {
			burst := max(s.cfg.ConnectBurst, 1)
			st.limiter = rate.NewLimiter(rate.Limit(s.cfg.ConnectRate), burst)
		}
		s.perIP[addr] = st
	}
	st.seen = now
	if st.limiter != nil && !st.limiter.AllowN(now, 1) {
		return "too many connections from your address, slow down"
	}
	if s.cfg.MaxPerIP > 0 && st.conns >= s.cfg.MaxPerIP {
		return "too many connections from your address"
	}
	st.conns++
	return ""
}

// pruneLocked forgets addresses with no connection and a full rate bucket,
// so the table stays bounded.
func (s *Server) pruneLocked(now time.Time) {
	s.lastPrune = now
	for a, st := range s.perIP {
		if st.conns == 0 && now.Sub(st.seen) > time.Minute {
			delete(s.perIP, a)
		}
	}
}

// refuse writes one line saying why and, when linger is set, half-closes
// and reads until the peer's EOF (Config.Linger at most) before it closes,
// so that the line is not lost to a reset; otherwise it closes at once.
func (s *Server) refuse(conn *net.TCPConn, why string, linger bool) {
	defer s.wg.Done()
	defer s.refusing.Add(-1)
	_ = conn.SetDeadline(time.Now().Add(s.cfg.Linger))
	_, _ = conn.Write(telnet.AppendText(nil, "! Connection refused: "+why+"\n"))
	if linger {
		_ = conn.CloseWrite()
		buf := make([]byte, 512)
		for {
			if _, err := conn.Read(buf); err != nil {
				break
			}
		}
	}
	_ = conn.Close()
}

func (s *Server) newSession(conn *net.TCPConn, addr netip.Addr) *Session {
	id := uuid.NewString()
	sess := &Session{conn: conn, srv: s}
	sess.hc = hub.NewConn(id, conn.RemoteAddr().String(), addr, sess)
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
	s.mu.Lock()
	for sess := range s.sessions {
		sess.Finish(hub.Reason{Kind: hub.KindShutdown})
		sess.closeConn()
	}
	s.mu.Unlock()
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
