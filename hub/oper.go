package hub

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// The limits on /oper attempts.
const (
	// maxOperInFlight bounds the password checks (bcrypt, deliberately
	// slow) running at once on the whole server.
	maxOperInFlight = 4
	// operMaxBackoff caps the wait after repeated failures.
	operMaxBackoff = time.Minute
	// operForget is how long after its last allowed attempt an address's
	// failures are forgotten.
	operForget = 10 * time.Minute
	// operMaxAddrs is the size at which the table sheds addresses that are
	// not waiting out a failure.
	operMaxAddrs = 4096
)

// errWrongPassword is the outcome of a failed /oper in the admin log.
var errWrongPassword = errors.New("wrong password")

// operLimiter rate limits /oper per client address, so that reconnecting
// does not reset the count, and bounds the checks in flight. It belongs to
// the hub goroutine.
type operLimiter struct {
	inFlight int
	byAddr   map[netip.Addr]*operAttempts
}

// operAttempts is the /oper record of one address.
type operAttempts struct {
	fails   int
	next    time.Time // no attempt before this
	pending bool      // a check is running
}

// attempts returns the record for addr, creating it if needed.
func (l *operLimiter) attempts(addr netip.Addr, now time.Time) *operAttempts {
	if l.byAddr == nil {
		l.byAddr = make(map[netip.Addr]*operAttempts)
	}
	a, ok := l.byAddr[addr]
	if !ok {
		if len(l.byAddr) >= operMaxAddrs {
			for k, old := range l.byAddr {
				if !old.pending && !now.Before(old.next) {
					delete(l.byAddr, k)
				}
			}
		}
		a = &operAttempts{}
		l.byAddr[addr] = a
	} else if !a.pending && now.Sub(a.next) > operForget {
		a.fails = 0
	}
	return a
}

// operBackoff is the wait after the n-th failure in a row: 2s, 4s, ... 1m.
func operBackoff(n int) time.Duration {
	return min(time.Duration(1<<min(n, 6))*time.Second, operMaxBackoff)
}

// Oper checks password off the hub goroutine and makes the caller an admin
// if it matches. Attempts are limited per client address (one at a time,
// then a doubling wait after each failure) and across the server, and every
// failure is logged. The answer comes later, as a reply line.
func (x *Ctx) Oper(password string) error {
	c, err := x.user()
	if err != nil {
		return err
	}
	if c.admin {
		return ErrAdminAlready
	}
	h := x.h
	if h.cfg.PasswordCheck == nil {
		return fmt.Errorf("/oper is %w", ErrDisabled)
	}
	now := time.Now()
	lim := &h.oper
	a := lim.attempts(c.Addr, now)
	if a.pending || now.Before(a.next) || lim.inFlight >= maxOperInFlight {
		x.Audit("oper", "", ErrRetryLater)
		return ErrRetryLater
	}
	a.pending = true
	lim.inFlight++
	check, addr := h.cfg.PasswordCheck, c.Addr
	go func() {
		ok := check(password)
		_ = h.Do(func() {
			lim.inFlight--
			now := time.Now()
			a := lim.attempts(addr, now)
			a.pending = false
			x := h.ctx(c)
			if ok {
				delete(lim.byAddr, addr)
			} else {
				a.fails++
				a.next = now.Add(operBackoff(a.fails))
				x.Audit("oper", "", errWrongPassword)
			}
			if _, present := h.conns[c]; !present {
				return
			}
			if !ok {
				x.Reply("! Wrong password")
				return
			}
			c.admin = true
			x.Audit("oper", "", nil)
			x.Reply("*** You are now an admin")
		})
	}()
	return nil
}
