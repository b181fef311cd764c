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
	// operFailingShare bounds the checks in flight for addresses that have
	// failed recently (or that the full table cannot record): the other
	// slots are kept for addresses with no recent failure, so that those
	// are never starved by addresses that keep failing.
	operFailingShare = 2
	// operMaxWaiting bounds the checks from addresses with no recent
	// failure that wait for a slot (first come, first served) instead of
	// being refused.
	operMaxWaiting = 32
	// operMaxBackoff caps the wait after repeated failures.
	operMaxBackoff = time.Minute
	// operForget is how long after the end of its wait an address's
	// failures are forgotten.
	operForget = 10 * time.Minute
	// operMaxAddrs bounds the per-address table. A record is removed only
	// once its failures are forgotten (or after a success), never earlier:
	// when the table is full of addresses that failed recently, a new
	// address is not recorded and counts as failing (operFailingShare).
	operMaxAddrs = 16384
	// operSweepEvery spaces the scans of a full table for forgotten
	// records, so a full table costs the hub one scan per interval, not
	// one per attempt.
	operSweepEvery = time.Second
)

// errWrongPassword is the outcome of a failed /oper in the admin log.
var errWrongPassword = errors.New("wrong password")

// operLimiter rate limits /oper per client address group (Hub.AddrGroup:
// an IPv6 /64 is one), so that reconnecting does not reset the count, and
// shares the checks in flight between addresses with and without recent
// failures. It belongs to the hub goroutine.
type operLimiter struct {
	inFlight        int // checks running
	failingInFlight int // of which for failing (or unrecorded) addresses
	byAddr          map[netip.Prefix]*operAttempts
	waiting         []operRequest // fresh checks waiting for a slot, oldest first
	lastSweep       time.Time
	maxAddrs        int // operMaxAddrs unless a test sets it
}

// operAttempts is the /oper record of one address.
type operAttempts struct {
	fails   int
	next    time.Time // no attempt before this
	pending bool      // a check is running or waiting
}

// operRequest is a password check to run.
type operRequest struct {
	c        *Conn
	password string
	failing  bool // counts against operFailingShare
	// work, when set, runs instead of the /oper check (an account's
	// password check or hash, see passwordWork), and done gets its result
	// on the hub instead of the /oper answer. Unless counts is set, a false
	// result is no failed password (hashing cannot fail that way).
	work   func() bool
	done   func(ok bool)
	counts bool
}

// attempts returns the record for the address group addr (creating it if
// there is room) and whether the group has failed recently. A nil record means the table is
// full of recent failures: the address is treated as failing.
func (l *operLimiter) attempts(addr netip.Prefix, now time.Time) (a *operAttempts, failing bool) {
	if l.byAddr == nil {
		l.byAddr = make(map[netip.Prefix]*operAttempts)
	}
	if l.maxAddrs == 0 {
		l.maxAddrs = operMaxAddrs
	}
	a, ok := l.byAddr[addr]
	if ok {
		if !a.pending && now.Sub(a.next) > operForget {
			a.fails = 0
		}
		return a, a.fails > 0
	}
	if len(l.byAddr) >= l.maxAddrs && now.Sub(l.lastSweep) >= operSweepEvery {
		l.lastSweep = now
		for k, old := range l.byAddr {
			// Only records whose failures are forgotten anyway: dropping
			// any other would reset a failing address's backoff.
			if !old.pending && now.Sub(old.next) > operForget {
				delete(l.byAddr, k)
			}
		}
	}
	if len(l.byAddr) >= l.maxAddrs {
		return nil, true
	}
	a = &operAttempts{}
	l.byAddr[addr] = a
	return a, false
}

// operBackoff is the wait after the n-th failure in a row: 2s, 4s, ... 1m.
func operBackoff(n int) time.Duration {
	return min(time.Duration(1<<min(n, 6))*time.Second, operMaxBackoff)
}

// errOperBusy refuses a check when every slot it may use is taken.
var errOperBusy = fmt.Errorf("too many password checks are running; %w in a second", ErrRetryLater)

// operWait says whether an address with the record a (nil: not recorded)
// must wait before its next /oper, and how long: nil when it may try now,
// else an error wrapping ErrRetryLater that says when ("too many
// attempts, try again in 4s").
func operWait(a *operAttempts, now time.Time) error {
	switch {
	case a == nil:
		return nil
	case a.pending:
		return fmt.Errorf("your last password is still being checked; %w when it is answered", ErrRetryLater)
	case now.Before(a.next):
		secs := (a.next.Sub(now) + time.Second - 1) / time.Second // rounded up: never "in 0s"
		return fmt.Errorf("too many attempts, %w in %ds", ErrRetryLater, secs)
	}
	return nil
}

// Oper checks password off the hub goroutine and makes the caller an admin
// if it matches. Attempts are limited per client address (one at a time,
// then a doubling wait after each failure) and across the server: at most
// maxOperInFlight checks run at once, of which at most operFailingShare for
// addresses that failed recently, and a check from an address with no
// recent failure waits for a slot (up to operMaxWaiting of them) rather
// than being refused. Every failure is logged. The answer comes later, as
// a reply line.
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
	a, failing := lim.attempts(h.AddrGroup(c.Addr), now)
	if err := operWait(a, now); err != nil {
		x.Audit("oper", "", err)
		return err
	}
	req := operRequest{c: c, password: password, failing: failing}
	switch {
	case lim.inFlight < maxOperInFlight && (!failing || lim.failingInFlight < operFailingShare):
		h.startOper(req)
	case !failing && len(lim.waiting) < operMaxWaiting:
		lim.waiting = append(lim.waiting, req)
	default:
		x.Audit("oper", "", errOperBusy)
		return errOperBusy
	}
	if a != nil {
		a.pending = true
	}
	c.operPending = true
	return nil
}

// startOper runs one password check on its own goroutine; the result comes
// back through the hub's inbox.
func (h *Hub) startOper(req operRequest) {
	lim := &h.oper
	lim.inFlight++
	if req.failing {
		lim.failingInFlight++
	}
	run := req.work
	if run == nil {
		check, pw := h.cfg.PasswordCheck, req.password
		run = func() bool { return check(pw) }
	}
	go func() {
		ok := run()
		_ = h.Do(func() { h.operDone(req, ok) })
	}()
}

// operDone records the result of a check, answers the caller and starts
// the next waiting check.
func (h *Hub) operDone(req operRequest, ok bool) {
	lim := &h.oper
	lim.inFlight--
	if req.failing {
		lim.failingInFlight--
	}
	defer h.startWaitingOper()
	c := req.c
	if req.work == nil {
		c.operPending = false
	}
	// The lines c sent meanwhile (after the answer below).
	defer h.resume(c)
	now := time.Now()
	addr := h.AddrGroup(c.Addr)
	if req.work != nil && !req.counts {
		req.done(ok)
		return
	}
	if a, present := lim.byAddr[addr]; present {
		a.pending = false
		if ok {
			delete(lim.byAddr, addr)
		} else {
			a.fails++
			a.next = now.Add(operBackoff(a.fails))
		}
	} else if !ok {
		// Unrecorded (the table was full): record the failure if there
		// is room now, so its backoff starts.
		if a, _ := lim.attempts(addr, now); a != nil {
			a.fails++
			a.next = now.Add(operBackoff(a.fails))
		}
	}
	if req.done != nil {
		req.done(ok)
		return
	}
	x := h.ctx(c)
	if !ok {
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
}

// startWaitingOper starts the oldest waiting checks while slots are free;
// those whose client left are dropped.
func (h *Hub) startWaitingOper() {
	lim := &h.oper
	for len(lim.waiting) > 0 && lim.inFlight < maxOperInFlight {
		req := lim.waiting[0]
		lim.waiting[0] = operRequest{}
		lim.waiting = lim.waiting[1:]
		if _, present := h.conns[req.c]; !present {
			if a, ok := lim.byAddr[h.AddrGroup(req.c.Addr)]; ok && (req.work == nil || req.counts) {
				a.pending = false
			}
			continue
		}
		h.startOper(req)
	}
	if len(lim.waiting) == 0 {
		lim.waiting = nil // let the backing array go
	}
}

// passwordWork runs work (a bcrypt check or hash) off the hub under the
// same limits as /oper: one at a time per address, a doubling wait after
// each failure when counts is set, and the shared slots. done gets the
// result on the hub goroutine. The error says when to try again.
func (h *Hub) passwordWork(c *Conn, counts bool, work func() bool, done func(ok bool)) error {
	now := time.Now()
	lim := &h.oper
	var a *operAttempts
	failing := false
	if counts {
		// A password check: one at a time per address, after its wait.
		// Hashing a new password guesses nothing: only the slots apply.
		a, failing = lim.attempts(h.AddrGroup(c.Addr), now)
		if err := operWait(a, now); err != nil {
			return err
		}
	}
	req := operRequest{c: c, failing: failing, work: work, done: done, counts: counts}
	switch {
	case lim.inFlight < maxOperInFlight && (!failing || lim.failingInFlight < operFailingShare):
		h.startOper(req)
	case !failing && len(lim.waiting) < operMaxWaiting:
		lim.waiting = append(lim.waiting, req)
	default:
		return errOperBusy
	}
	if a != nil {
		a.pending = true
	}
	return nil
}
