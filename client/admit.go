package client

import (
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"telchat/logsample"
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

// admit applies the connection limits to conn, just accepted: it counts
// it, and returns its address, its address group's state and why it is
// refused ("" when admitted; a refusal is counted and logged). ok is false
// when the server is closing, and conn is then closed; otherwise the
// caller owns one count of s.wg, for the session or the refusal.
func (s *Server) admit(conn *net.TCPConn, from origin) (addr netip.Addr, ip *ipState, why string, ok bool) {
	ap, _ := netip.ParseAddrPort(from.remote.String())
	addr = ap.Addr().Unmap()
	setSocketOptions(conn, s.cfg.KeepAlive)
	if from.tls {
		s.totals.acceptedTLS.Add(1)
	} else {
		s.totals.accepted.Add(1)
	}

	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = conn.Close()
		return addr, nil, "", false
	}
	why = s.admitLocked(addr)
	ip = s.perIP[s.cfg.Hub.AddrGroup(addr)]
	s.wg.Add(1)
	s.mu.Unlock()

	if why != "" {
		s.refused.Add(1)
		s.countRefusal(why)
		s.cfg.Hub.Counters.Refused.Add(1) // /stats counts every refusal
		// Sampled: one address hammering connect must not flood the log.
		s.cfg.Hub.LogSamples().Logger(logsample.Refused).Info().Str("remote", from.remote.String()).Bool("tls", from.tls).Str("why", why).Msg("connection refused")
	}
	return addr, ip, why, true
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
		st = &ipState{limiter: s.connectLimiterLocked()}
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
