package client

import (
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"telchat/telnet"
)

// The reasons admitLocked gives for a refusal, as the client reads them.
const (
	whyFull  = "the server is full, try again later"
	whyRate  = "too many connections from your address, slow down"
	whyPerIP = "too many connections from your address"
)

type ipState struct {
	conns   int
	limiter *rate.Limiter
	seen    time.Time
	queued  atomic.Int64 // bytes the address's sessions hold (see budget.go)
}

// admitLocked checks the connection limits; it returns why a connection is
// refused, or "" and counts it. The per-address limits count the address's
// group (by default the IPv4 address, or the IPv6 /64).
func (s *Server) admitLocked(addr netip.Addr) string {
	now := time.Now()
	if now.Sub(s.lastPrune) > time.Minute {
		s.pruneLocked(now)
	}
	if s.cfg.MaxClients > 0 && s.admitted >= s.cfg.MaxClients {
		return whyFull
	}
	group := s.cfg.Hub.AddrGroup(addr)
	st := s.perIP[group]
	if st == nil {
		st = &ipState{}
		if s.cfg.ConnectRate > 0 {
			burst := max(s.cfg.ConnectBurst, 1)
			st.limiter = rate.NewLimiter(rate.Limit(s.cfg.ConnectRate), burst)
		}
		s.perIP[group] = st
	}
	st.seen = now
	if st.limiter != nil && !st.limiter.AllowN(now, 1) {
		return whyRate
	}
	if s.cfg.MaxPerIP > 0 && st.conns >= s.cfg.MaxPerIP {
		return whyPerIP
	}
	st.conns++
	s.admitted++
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
// and lingers, reading and discarding input, like a session's goodbye (see
// awaitGoodbye): until the peer closes, or the line is acknowledged (then a
// reset, so that nc exits), or Config.Linger passes. Otherwise it closes
// at once.
func (s *Server) refuse(conn *net.TCPConn, why string, linger bool) {
	defer s.wg.Done()
	defer s.refusing.Add(-1)
	start := time.Now()
	_ = conn.SetWriteDeadline(start.Add(s.cfg.Linger))
	_, err := conn.Write(telnet.AppendText(nil, "! Connection refused: "+why+"\n"))
	if linger && err == nil {
		_ = conn.CloseWrite()
		peerDone := make(chan struct{})
		go func() {
			defer close(peerDone)
			buf := make([]byte, 512)
			for {
				if _, err := conn.Read(buf); err != nil {
					return
				}
			}
		}()
		if awaitGoodbye(conn, peerDone, start, s.cfg.Linger) {
			_ = conn.SetLinger(0)
		}
		_ = conn.Close()
		<-peerDone
		return
	}
	_ = conn.Close()
}
