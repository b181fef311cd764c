//go:build !race

// The race detector doubles the stack guard, so stack sizes are only
// meaningful without it.

package client_test

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"testing"

	"telchat/internal/servertest"
)

// TestIdleSessionsKeepInitialStacks checks that a session's two goroutines
// still have the runtime's initial 2 KiB stacks once the session is idle,
// whatever it did before: the stacks are most of an idle connection's
// memory, and a stack that grew is not shrunk back while the session waits
// (see Session.readLoop). A goroutine that grew to 4 KiB for a single
// session in this table would add 2 KiB to the average. Each case's own
// figure is logged too (within a 32 KiB span per case, 328 bytes a
// session): an average once hid a case whose every reader grew (Telnet
// negotiation with IAC AYT).
//
// Not covered, because they still grow a stack: a session in character
// mode that has typed (the line editor's allocations are deep on the
// reader's stack), and, on a busy machine, a reader that chatted while the
// hub's inbox was contended (see docs/performance.md).
func TestIdleSessionsKeepInitialStacks(t *testing.T) {
	const perCase = 100
	cases := []struct {
		name string
		run  func(c *servertest.Client, nick string)
	}{
		{"connected, no input", func(c *servertest.Client, _ string) {}},
		{"logged in", func(c *servertest.Client, nick string) {
			c.Send(nick)
			c.Expect("You are now in #")
		}},
		{"logged in and chatted", func(c *servertest.Client, nick string) {
			c.Send(nick)
			c.Expect("You are now in #")
			c.Nick = nick
			c.Send("hello from " + nick)
			c.Sync()
		}},
		{"Telnet negotiation, then logged in", func(c *servertest.Client, nick string) {
			// DO SGA, WILL NAWS with a window size, WILL TTYPE, AYT.
			c.Write([]byte{255, 253, 3, 255, 251, 31, 255, 250, 31, 0, 80, 0, 24, 255, 240, 255, 251, 24, 255, 246})
			c.Send(nick)
			c.Expect("You are now in #")
		}},
		{"nickname refused, then logged in", func(c *servertest.Client, nick string) {
			c.Send("no spaces allowed!")
			c.ExpectPrompt()
			c.Send(nick)
			c.Expect("You are now in #")
		}},
	}
	s := servertest.Start(t, servertest.Config{})
	// The runtime gives new goroutines a stack the size of the average
	// stack it scanned at the last collection (plus some room), which in a
	// test binary is swayed by the test framework's deep stacks. A crowd of
	// small parked goroutines brings that back to the minimum, and
	// collections are held off while the sessions start.
	crowd := make(chan struct{})
	for range 2000 {
		go func() { <-crowd }()
	}
	defer close(crowd)
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	if start := startingStackSize(); start != 2<<10 {
		t.Skipf("new goroutines start with %d bytes of stack, not 2 KiB", start)
	}
	before := stackInuse()
	clients := 0
	for _, tc := range cases {
		caseBefore := stackInuse()
		for i := range perCase {
			c := s.Dial(t)
			c.ExpectPrompt()
			tc.run(c, "u"+strconv.Itoa(clients)+"x"+strconv.Itoa(i))
			clients++
		}
		servertest.WaitFor(t, "the case's sessions to be active", func() bool { return s.Server.Active() == int64(clients) })
		t.Logf("%s: %d bytes of goroutine stack per session", tc.name, (stackInuse()-caseBefore)/perCase)
	}
	servertest.WaitFor(t, "every session to be active", func() bool { return s.Server.Active() == int64(clients) })
	perSession := (stackInuse() - before) / uint64(clients)
	t.Logf("%d idle sessions: %d bytes of goroutine stack each", clients, perSession)
	if perSession > 5<<10 {
		t.Fatalf("idle sessions hold %d bytes of goroutine stack each, want about 4 KiB (two 2 KiB stacks)", perSession)
	}
}

func stackInuse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.StackInuse
}

// startingStackSize is the stack size the runtime gives new goroutines.
func startingStackSize() uint64 {
	sample := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}
