package client

import (
	"golang.org/x/time/rate"
)

// Limits are the connection and message limits a running server can
// change (SetLimits), with Config's meanings (0: no limit).
type Limits struct {
	MaxClients, MaxPerIP int
	ConnectRate          float64
	ConnectBurst         int
	MsgRate              float64
	MsgBurst             int
}

// Limits returns the limits in force.
func (s *Server) Limits() Limits {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.cfg
	return Limits{
		MaxClients: c.MaxClients, MaxPerIP: c.MaxPerIP,
		ConnectRate: c.ConnectRate, ConnectBurst: c.ConnectBurst,
		MsgRate: c.MsgRate, MsgBurst: c.MsgBurst,
	}
}

// SetLimits changes the limits without dropping anyone. The connection
// limits apply from the next connection (a server over a lowered
// MaxClients or MaxPerIP refuses new connections until enough leave); each
// address's connect-rate bucket takes the new rate at once, and so does
// each session's message rate (a session that started with no message
// rate keeps none: the new rate applies to sessions started after the
// change).
func (s *Server) SetLimits(l Limits) {
	if l.MsgRate > 0 && l.MsgBurst < 1 {
		l.MsgBurst = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &s.cfg
	c.MaxClients, c.MaxPerIP = l.MaxClients, l.MaxPerIP
	if l.MsgRate != c.MsgRate || l.MsgBurst != c.MsgBurst {
		limit := rate.Inf
		if l.MsgRate > 0 {
			limit = rate.Limit(l.MsgRate)
		}
		for sess := range s.sessions {
			if sess.msgLimit != nil {
				sess.msgLimit.SetLimit(limit)
				sess.msgLimit.SetBurst(max(l.MsgBurst, 1))
			}
		}
	}
	c.MsgRate, c.MsgBurst = l.MsgRate, l.MsgBurst
	if l.ConnectRate == c.ConnectRate && l.ConnectBurst == c.ConnectBurst {
		return
	}
	c.ConnectRate, c.ConnectBurst = l.ConnectRate, l.ConnectBurst
	for _, st := range s.perIP {
		switch {
		case c.ConnectRate <= 0:
			st.limiter = nil
		case st.limiter == nil:
			st.limiter = s.connectLimiterLocked()
		default:
			st.limiter.SetLimit(rate.Limit(c.ConnectRate))
			st.limiter.SetBurst(max(c.ConnectBurst, 1))
		}
	}
}

// connectLimiterLocked returns a new address group's connection rate
// limiter (-connect-rate), nil for none.
func (s *Server) connectLimiterLocked() *rate.Limiter {
	if s.cfg.ConnectRate <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(s.cfg.ConnectRate), max(s.cfg.ConnectBurst, 1))
}

// msgLimiter returns a new session's message rate limiter, nil for none.
func (s *Server) msgLimiter() *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.MsgRate <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(s.cfg.MsgRate), s.cfg.MsgBurst)
}
