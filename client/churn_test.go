package client_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"telchat/hub"
	"telchat/internal/servertest"
)

// churnMode is one way a short-lived client joins, chats and leaves. run
// returns what went wrong, if anything.
type churnMode struct {
	name string
	run  func(addr, nick string) error
}

// churnModes are all the ways of leaving: quit, half-close, reset, hang-up
// in the middle of a line, never giving a name (leaving, or timed out by
// the server), bad names only, and never reading.
var churnModes = []churnMode{
	{"quit", func(addr, nick string) error {
		p, err := churnLogin(addr, nick)
		if err != nil {
			return err
		}
		defer p.close()
		if err := p.write([]byte("hello from " + nick + "\n/quit bye\n")); err != nil {
			return err
		}
		lines, err := linesToEOF(p)
		if err != nil {
			return err
		}
		if !strings.Contains(strings.Join(lines, "\n"), "*** Goodbye, "+nick+"!") {
			return fmt.Errorf("no goodbye in %q", lines)
		}
		return contiguous(lines)
	}},
	{"half-close", func(addr, nick string) error {
		p, err := churnLogin(addr, nick)
		if err != nil {
			return err
		}
		defer p.close()
		if err := p.write([]byte("hello\nlast words without a line end")); err != nil {
			return err
		}
		if err := p.conn.CloseWrite(); err != nil {
			return err
		}
		lines, err := linesToEOF(p)
		if err != nil {
			return err
		}
		return contiguous(lines)
	}},
	{"reset", func(addr, nick string) error {
		p, err := churnLogin(addr, nick)
		if err != nil {
			return err
		}
		err = p.send("bye")
		p.reset()
		return err
	}},
	{"mid-line", func(addr, nick string) error {
		p, err := churnLogin(addr, nick)
		if err != nil {
			return err
		}
		err = p.write([]byte("half a li"))
		p.close() // unread chat makes this a reset
		return err
	}},
	{"no-name", func(addr, _ string) error {
		p, err := dialProbe("", addr)
		if err != nil {
			return err
		}
		defer p.close()
		_, err = p.until(promptText)
		return err
	}},
	{"no-name-timeout", func(addr, _ string) error {
		p, err := dialProbe("", addr)
		if err != nil {
			return err
		}
		defer p.close()
		out, err := p.rest()
		if err == nil && !strings.Contains(out, "! Timed out waiting for a nickname") {
			err = fmt.Errorf("no timeout notice in %q", out)
		}
		return err
	}},
	{"bad-names", func(addr, _ string) error {
		p, err := dialProbe("", addr)
		if err != nil {
			return err
		}
		defer p.close()
		if _, err := p.until(promptText); err != nil {
			return err
		}
		for _, bad := range []string{"wb0", "x y", "x\x1b[2J", "admin"} {
			if err := p.send(bad); err != nil {
				return err
			}
			if _, err := p.until(promptText); err != nil {
				return err
			}
		}
		return p.conn.CloseWrite()
	}},
	{"never-reads", func(addr, nick string) error {
		p, err := dialProbe("", addr)
		if err != nil {
			return err
		}
		if err := p.write([]byte(nick + "\nI never read\n")); err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond) // stays a while as chat piles up unread
		p.close()
		return nil
	}},
}

// churnLogin dials and logs in; the caller closes the probe.
func churnLogin(addr, nick string) (*probe, error) {
	p, err := dialProbe("", addr)
	if err != nil {
		return nil, err
	}
	if err := p.login(nick); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// linesToEOF reads lines until the server ends the stream.
func linesToEOF(p *probe) ([]string, error) {
	var lines []string
	for {
		l, err := p.line()
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
		lines = append(lines, l)
	}
}

// contiguous checks that the steady clients' numbered lines a short-lived
// client got while present follow each other without gap, duplicate or
// reordering (it joined in the middle: the first number is free). History
// lines shown on joining are not counted.
func contiguous(lines []string) error {
	last := map[string]int{}
	for _, l := range lines {
		nick, text, ok := strings.Cut(strings.TrimPrefix(l, "<"), "> ")
		if !ok || !strings.HasPrefix(l, "<wb") {
			continue
		}
		n, err := strconv.Atoi(text)
		if err != nil {
			continue // "end N"
		}
		if prev, seen := last[nick]; seen && n != prev+1 {
			return fmt.Errorf("got %s's line %d after %d", nick, n, prev)
		}
		last[nick] = n
	}
	return nil
}

func TestChurn(t *testing.T) {
	// A fixed set of steady clients logs in before the churn, says
	// numbered lines all through it and stays until after it ends: each
	// must get every line of every other steady client, exactly once and
	// in order. Meanwhile short-lived clients join, chat and leave in every
	// way. Afterwards goroutines and file descriptors are back where they
	// were. Limits are off but for a short nickname timeout.
	const (
		steady     = 8
		maxChurn   = 200                   // bounded by count...
		churnFor   = 7 * time.Second       // ...and by time
		spawnEvery = 30 * time.Millisecond // 200 in about 6 s
		sayEvery   = 20 * time.Millisecond
	)
	if testing.Short() {
		t.Skip("churn takes seconds")
	}
	leaks := goleak.IgnoreCurrent()
	s := servertest.Start(t, servertest.Config{Hub: hub.Config{NickTimeout: 2 * time.Second}})
	wb := make([]*probe, steady)
	for i := range wb {
		wb[i] = loginProbe(t, s.Addr, "wb"+strconv.Itoa(i))
	}
	baseGoroutines, baseFDs := runtime.NumGoroutine(), openFDs(t)

	stop := make(chan struct{})
	var steadyWG sync.WaitGroup
	received := make([]int, steady)
	for i, p := range wb {
		steadyWG.Add(2)
		go func() { // says numbered lines until stop, then "end N"
			defer steadyWG.Done()
			tick := time.NewTicker(sayEvery)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-stop:
					if err := p.send("end " + strconv.Itoa(n)); err != nil {
						t.Error(err)
					}
					return
				case <-tick.C:
				}
				if err := p.send(strconv.Itoa(n)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer steadyWG.Done()
			seq := newSequenceCheck(wb, p)
			if err := seq.follow(p); err != nil {
				t.Error(err)
			}
			received[i] = seq.total
		}()
	}

	start := time.Now()
	var churnWG sync.WaitGroup
	var failed atomic.Int64
	spawned := map[string]int{}
	for i := 0; i < maxChurn && time.Since(start) < churnFor; i++ {
		mode := churnModes[i%len(churnModes)]
		spawned[mode.name]++
		churnWG.Add(1)
		go func() {
			defer churnWG.Done()
			if err := mode.run(s.Addr, fmt.Sprintf("ch%03d", i)); err != nil {
				failed.Add(1)
				t.Errorf("churn client %d (%s): %v", i, mode.name, err)
			}
		}()
		time.Sleep(spawnEvery) // arrivals spread over the churn period
	}
	churnWG.Wait()
	churned := time.Since(start)
	close(stop)
	steadyWG.Wait()
	if t.Failed() {
		t.FailNow()
	}
	total := 0
	for _, n := range received {
		total += n
	}
	n := 0
	for _, c := range spawned {
		n += c
	}
	t.Logf("%d short-lived clients in %v (%v); %d steady clients each got all the others' lines, %d in all",
		n, churned.Round(time.Millisecond), spawned, steady, total)

	waitBack(t, "goroutines", baseGoroutines, runtime.NumGoroutine)
	waitBack(t, "open file descriptors", baseFDs, func() int { return openFDs(t) })
	if n := s.Server.Active(); n != steady {
		t.Fatalf("%d sessions active, want the %d steady ones", n, steady)
	}

	for _, p := range wb {
		p.close()
	}
	servertest.WaitFor(t, "the steady sessions to end", func() bool { return s.Server.Active() == 0 })
	s.Shutdown()
	goleak.VerifyNone(t, leaks)
}

// waitBack waits until now() is back to at most base, and dumps the
// goroutines if it never is.
func waitBack(t *testing.T, what string, base int, now func() int) {
	t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		got := now()
		if got <= base {
			t.Logf("%s back to %d (baseline %d)", what, got, base)
			return
		}
		if time.Now().After(deadline) {
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			t.Fatalf("%s: %d, baseline %d", what, got, base)
		}
		time.Sleep(5 * time.Millisecond) // polling
	}
}
