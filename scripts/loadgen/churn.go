package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// churnKind is one way a churning client behaves.
type churnKind int

// The ways a churning client joins and leaves.
const (
	churnQuit          churnKind = iota // named, chats, /quit with a reason, reads to EOF
	churnQuitBare                       // named, chats, /quit without a reason
	churnHalfClose                      // named, chats, shuts down its write side, reads to EOF
	churnReset                          // named, chats, closes with a reset (SO_LINGER 0)
	churnHangupMidLine                  // named, sends half a line, closes
	churnResetMidLine                   // named, sends half a line, resets
	churnNeverName                      // waits for the prompt, never answers, closes
	churnPartialName                    // sends half a nickname, resets
	churnConnectClose                   // connects and closes at once without reading
	churnNeverRead                      // small receive buffer, named, chats, never reads, closes
	churnBadNick                        // sends an invalid nickname, expects "! ", closes
	churnTakenNick                      // tries a nickname in use (must be refused), then its own
	churnCommands                       // /who, /join, /msg, back to the lobby, /quit
	churnTelnet                         // Telnet negotiation and CR LF line ends, chats, /quit
	numChurnKinds
)

// churnKindNames names the kinds in reports.
var churnKindNames = [numChurnKinds]string{
	"quit", "quit_bare", "half_close", "reset", "hangup_mid_line", "reset_mid_line",
	"never_name", "partial_name", "connect_close", "never_read", "bad_nick", "taken_nick",
	"commands", "telnet",
}

// errTakenNickAccepted is returned when the server accepts a nickname in use.
var errTakenNickAccepted = errors.New("server accepted a nickname that is in use")

// churnConnLife bounds one churning connection.
const churnConnLife = 10 * time.Second

// churnRun runs the churning clients of a -churn run.
type churnRun struct {
	lr    *loadRun
	until time.Time // no new churning connection starts after this
	nicks atomic.Int64
	conns atomic.Int64 // connections opened: the next goes to server conns mod N
	kinds [numChurnKinds]churnCounters
	taken atomic.Int64
	errs  errorSamples
	wg    sync.WaitGroup
}

// churnCounters counts the outcomes of one kind.
type churnCounters struct {
	attempts, ok, failed atomic.Int64
}

// churnStats is a snapshot of the churn counters for the report.
type churnStats struct {
	duration          time.Duration
	attempts, ok      [numChurnKinds]int64
	failed            [numChurnKinds]int64
	takenNickAccepted int64
	errorSamples      []string
}

// newChurnRun prepares churning until the given time.
func newChurnRun(lr *loadRun, until time.Time) *churnRun {
	return &churnRun{lr: lr, until: until}
}

// start launches the churning goroutines.
func (c *churnRun) start() {
	for w := range c.lr.cfg.churners {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			for time.Now().Before(c.until) {
				kind := churnKind(rng.IntN(int(numChurnKinds)))
				c.kinds[kind].attempts.Add(1)
				if err := c.once(kind, rng); err != nil {
					c.kinds[kind].failed.Add(1)
					c.errs.add(churnKindNames[kind], err)
				} else {
					c.kinds[kind].ok.Add(1)
				}
				sleepUntil(earliest(time.Now().Add(time.Duration(rng.IntN(20))*time.Millisecond), c.until))
			}
		}()
	}
}

// wait returns when every churning goroutine has finished.
func (c *churnRun) wait() { c.wg.Wait() }

// stats snapshots the counters.
func (c *churnRun) stats() *churnStats {
	s := &churnStats{duration: c.lr.cfg.churn, takenNickAccepted: c.taken.Load(), errorSamples: c.errs.list()}
	for k := range c.kinds {
		s.attempts[k] = c.kinds[k].attempts.Load()
		s.ok[k] = c.kinds[k].ok.Load()
		s.failed[k] = c.kinds[k].failed.Load()
	}
	return s
}

// connDeadline is the deadline of a churning connection opened now.
func (c *churnRun) connDeadline() time.Time {
	return earliest(time.Now().Add(churnConnLife), c.lr.deadline)
}

// nextNick returns a fresh nickname for a churning client.
func (c *churnRun) nextNick() string {
	return fmt.Sprintf("ch%s%d", c.lr.cfg.run, c.nicks.Add(1))
}

// open dials a churning connection to the next server (round-robin).
func (c *churnRun) open(rcvBuf int) (*lineConn, time.Time, error) {
	return c.openTo(c.lr.cfg.addrOf(int(c.conns.Add(1)-1)), rcvBuf)
}

// openTo dials a churning connection to addr.
func (c *churnRun) openTo(addr string, rcvBuf int) (*lineConn, time.Time, error) {
	deadline := c.connDeadline()
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	lc, err := dial(ctx, dialOptions{addr: addr, deadline: deadline, readBuf: idleReadBuf, rcvBuf: rcvBuf})
	return lc, deadline, err
}

// once runs one churning connection of the given kind.
func (c *churnRun) once(kind churnKind, rng *rand.Rand) error {
	rcvBuf := 0
	if kind == churnNeverRead {
		rcvBuf = stalledRcvBuf
	}
	lc, deadline, err := c.open(rcvBuf)
	if err != nil {
		return err
	}
	defer lc.conn.Close()
	nick := c.nextNick()
	chat := func(n int) error {
		for i := range n {
			if err := lc.writeLine(fmt.Sprintf("churn chatter %d from %s", i, nick)); err != nil {
				return err
			}
		}
		return nil
	}
	named := func() error {
		if err := lc.register(nick); err != nil {
			return err
		}
		return chat(1 + rng.IntN(3))
	}
	untilClosed := func() error {
		_, err := lc.drainUntilClosed(deadline)
		if isTimeout(err) {
			return fmt.Errorf("server did not close the connection: %w", err)
		}
		return nil
	}
	reset := func() error {
		if err := lc.conn.SetLinger(0); err != nil {
			return fmt.Errorf("set linger: %w", err)
		}
		return nil
	}

	switch kind {
	case churnQuit, churnQuitBare:
		if err := named(); err != nil {
			return err
		}
		cmd := "/quit churn test over"
		if kind == churnQuitBare {
			cmd = "/quit"
		}
		if err := lc.writeLine(cmd); err != nil {
			return err
		}
		return untilClosed()
	case churnHalfClose:
		if err := named(); err != nil {
			return err
		}
		if err := lc.conn.CloseWrite(); err != nil {
			return fmt.Errorf("close write: %w", err)
		}
		return untilClosed()
	case churnReset:
		if err := named(); err != nil {
			return err
		}
		return reset()
	case churnHangupMidLine, churnResetMidLine:
		if err := named(); err != nil {
			return err
		}
		if _, err := io.WriteString(lc.conn, "this line never e"); err != nil {
			return fmt.Errorf("write half line: %w", err)
		}
		if kind == churnResetMidLine {
			return reset()
		}
		return nil
	case churnNeverName:
		if err := lc.awaitPrompt(); err != nil {
			return err
		}
		sleepUntil(earliest(time.Now().Add(time.Duration(rng.IntN(300))*time.Millisecond), deadline))
		return nil
	case churnPartialName:
		if err := lc.awaitPrompt(); err != nil {
			return err
		}
		if _, err := io.WriteString(lc.conn, nick[:3]); err != nil {
			return fmt.Errorf("write half nickname: %w", err)
		}
		return reset()
	case churnConnectClose:
		return nil
	case churnNeverRead:
		if err := named(); err != nil {
			return err
		}
		sleepUntil(earliest(time.Now().Add(time.Duration(500+rng.IntN(1500))*time.Millisecond), deadline))
		return nil
	case churnBadNick:
		return c.badNick(lc)
	case churnTakenNick:
		return c.takenNick(lc, nick, untilClosed)
	case churnCommands:
		if err := named(); err != nil {
			return err
		}
		room := fmt.Sprintf("#churn%d", rng.IntN(4))
		for _, cmd := range []string{"/who", "/join " + room, "churn in a side room", "/who",
			"/msg " + c.lr.nicks[0] + " private hello from " + nick, "/join #lobby", "/quit done"} {
			if err := lc.writeLine(cmd); err != nil {
				return err
			}
		}
		return untilClosed()
	case churnTelnet:
		if err := lc.awaitPrompt(); err != nil {
			return err
		}
		negotiation := []byte{telnetIAC, 253, 3, telnetIAC, 251, 31, telnetIAC, telnetSB, 31, 0, 80, 0, 24, telnetIAC, telnetSE}
		if _, err := lc.conn.Write(negotiation); err != nil {
			return fmt.Errorf("write negotiation: %w", err)
		}
		if err := lc.sendNick(nick + "\r"); err != nil {
			return err
		}
		if _, err := io.WriteString(lc.conn, "hello over telnet\r\n/quit telnet bye\r\n"); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		return untilClosed()
	}
	return fmt.Errorf("unknown churn kind %d", kind)
}

// badNick sends an invalid nickname and expects a "! " line.
func (c *churnRun) badNick(lc *lineConn) error {
	if err := lc.awaitPrompt(); err != nil {
		return err
	}
	err := lc.sendNick("bad nick, with spaces & punctuation that is far too long to be any nickname")
	switch {
	case errors.Is(err, errNickRejected):
		return nil
	case err == nil:
		return errors.New("invalid nickname accepted")
	}
	return err
}

// takenNick tries the nickname of a well-behaved client, which the server
// must refuse, then its own, and quits.
func (c *churnRun) takenNick(lc *lineConn, nick string, untilClosed func() error) error {
	if err := lc.awaitPrompt(); err != nil {
		return err
	}
	err := lc.sendNick(c.lr.nicks[0])
	if err == nil {
		c.taken.Add(1)
		return errTakenNickAccepted
	}
	if !errors.Is(err, errNickRejected) {
		return err
	}
	if err := lc.register(nick); err != nil { // the prompt follows the "! " line
		return err
	}
	if err := lc.writeLine("/quit"); err != nil {
		return err
	}
	return untilClosed()
}

// probe checks that a fresh client can still connect, get named and quit,
// on every server.
func (c *churnRun) probe() error {
	for i, addr := range c.lr.cfg.addrs {
		if err := c.probeOne(addr, fmt.Sprintf("lg%sprobe%d", c.lr.cfg.run, i)); err != nil {
			return fmt.Errorf("probe of %s: %w", addr, err)
		}
	}
	return nil
}

// probeOne connects to addr as nick, gets named and quits.
func (c *churnRun) probeOne(addr, nick string) error {
	lc, deadline, err := c.openTo(addr, 0)
	if err != nil {
		return err
	}
	defer lc.conn.Close()
	if err := lc.register(nick); err != nil {
		return err
	}
	if err := lc.writeLine("/quit probe done"); err != nil {
		return err
	}
	if _, err := lc.drainUntilClosed(deadline); isTimeout(err) {
		return fmt.Errorf("server did not close after /quit: %w", err)
	}
	return nil
}

// totals sums attempts, successes and failures over all kinds.
func (s *churnStats) totals() (attempts, ok, failed int64) {
	for k := range numChurnKinds {
		attempts += s.attempts[k]
		ok += s.ok[k]
		failed += s.failed[k]
	}
	return attempts, ok, failed
}

// print writes the churn part of the human summary.
func (s *churnStats) print(w io.Writer) {
	attempts, ok, failed := s.totals()
	fmt.Fprintf(w, "churn:      %d connections in %v (%.0f/s): %d ok, %d failed\n",
		attempts, s.duration, float64(attempts)/max(s.duration.Seconds(), 1e-9), ok, failed)
	var parts []string
	for k := range numChurnKinds {
		parts = append(parts, fmt.Sprintf("%s=%d/%d", churnKindNames[k], s.ok[k], s.attempts[k]))
	}
	fmt.Fprintf(w, "churn kinds (ok/attempts): %s\n", strings.Join(parts, " "))
	for _, e := range s.errorSamples {
		fmt.Fprintf(w, "churn error: %s\n", e)
	}
}

// resultFields adds the churn keys to the RESULT line.
func (s *churnStats) resultFields(kv func(string, any)) {
	attempts, ok, failed := s.totals()
	kv("churn_s", fmt.Sprintf("%.0f", s.duration.Seconds()))
	kv("churn_attempts", attempts)
	kv("churn_ok", ok)
	kv("churn_failed", failed)
	kv("taken_nick_accepted", s.takenNickAccepted)
}
