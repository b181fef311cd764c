package hub_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"telchat/commands"
	"telchat/hub"
)

// recordingPeer is a hub.Peer that keeps what it is sent.
type recordingPeer struct {
	mu       sync.Mutex
	out      []string
	once     sync.Once
	finished chan hub.Reason // receives the Finish reason once
}

func newRecordingPeer() *recordingPeer {
	return &recordingPeer{finished: make(chan hub.Reason, 1)}
}

func (p *recordingPeer) Deliver(msg []byte) bool {
	p.mu.Lock()
	p.out = append(p.out, string(msg))
	p.mu.Unlock()
	return true
}

func (p *recordingPeer) Finish(r hub.Reason) {
	p.once.Do(func() { p.finished <- r })
}

// delivered returns everything delivered so far, one string.
func (p *recordingPeer) delivered() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.out, "")
}

// waitFinish waits for Finish and returns its reason.
func (p *recordingPeer) waitFinish(t *testing.T) hub.Reason {
	t.Helper()
	select {
	case r := <-p.finished:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("never finished; got %q", p.delivered())
		return hub.Reason{}
	}
}

// startHub runs a hub for the test.
func startHub(t *testing.T, cfg hub.Config) *hub.Hub {
	t.Helper()
	cfg.Commands = commands.New()
	cfg.Log = zerolog.Nop()
	h := hub.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	go h.Run(ctx)
	t.Cleanup(func() {
		cancel()
		<-h.Done()
	})
	return h
}

// join connects a recording peer and names it.
func join(t *testing.T, h *hub.Hub, nick string) (*hub.Conn, *recordingPeer) {
	t.Helper()
	p := newRecordingPeer()
	c := hub.NewConn(nick+"-id", "127.0.0.1:1", netip.MustParseAddr("127.0.0.1"), p)
	if err := h.Connect(c); err != nil {
		t.Fatal(err)
	}
	if nick != "" {
		if err := h.Input(c, nick, false); err != nil {
			t.Fatal(err)
		}
	}
	return c, p
}

func TestIdleUserIsWarnedBeforeDisconnect(t *testing.T) {
	// The hub checks once a second. Whatever the timeout, even one shorter
	// than the check interval, the warning comes first.
	for _, idle := range []time.Duration{300 * time.Millisecond, 1500 * time.Millisecond} {
		t.Run(idle.String(), func(t *testing.T) {
			t.Parallel()
			h := startHub(t, hub.Config{IdleTimeout: idle})
			_, p := join(t, h, "alice")
			r := p.waitFinish(t)
			if r != (hub.Reason{Kind: hub.KindTimeout, Text: "idle"}) {
				t.Fatalf("reason %+v", r)
			}
			out := p.delivered()
			warn := strings.Index(out, "! You have been idle for ")
			bye := strings.Index(out, "! Disconnected after "+idle.String()+" idle")
			if warn < 0 || bye < 0 || warn > bye {
				t.Fatalf("want a warning, then the disconnect notice; got %q", out)
			}
		})
	}
}

func TestNickTimeoutFinishesUnnamed(t *testing.T) {
	h := startHub(t, hub.Config{NickTimeout: 500 * time.Millisecond, IdleTimeout: time.Hour})
	_, named := join(t, h, "alice")
	_, p := join(t, h, "")
	if r := p.waitFinish(t); r.Kind != hub.KindTimeout {
		t.Fatalf("reason %+v", r)
	}
	if out := p.delivered(); !strings.Contains(out, "! Timed out waiting for a nickname") {
		t.Fatalf("got %q", out)
	}
	select {
	case r := <-named.finished:
		t.Fatalf("the named user was finished too: %+v", r)
	default:
	}
}

func TestLeaveCountsDrops(t *testing.T) {
	cases := []struct {
		reason     hub.Reason
		slow, fldd int64
	}{
		{hub.Reason{Kind: hub.KindSlow}, 1, 0}, // a stalled writer reports slow through Leave
		{hub.Reason{Kind: hub.KindFlood}, 0, 1},
		{hub.Reason{Kind: hub.KindHangup}, 0, 0},
		{hub.Reason{Kind: hub.KindQuit, Text: "bye"}, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.reason.String(), func(t *testing.T) {
			h := startHub(t, hub.Config{})
			c, p := join(t, h, "alice")
			if err := h.Leave(c, tc.reason); err != nil {
				t.Fatal(err)
			}
			if r := p.waitFinish(t); r != tc.reason {
				t.Fatalf("finished with %+v, want %+v", r, tc.reason)
			}
			// Leaving twice is harmless and counts once.
			if err := h.Leave(c, tc.reason); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			if err := h.Do(func() { close(done) }); err != nil {
				t.Fatal(err)
			}
			<-done
			if got := [2]int64{h.Counters.SlowDrops.Load(), h.Counters.FloodDrops.Load()}; got != [2]int64{tc.slow, tc.fldd} {
				t.Fatalf("slow, flood drops = %v, want %v", got, [2]int64{tc.slow, tc.fldd})
			}
			if n := h.Counters.ConnectionsNow.Load(); n != 0 {
				t.Fatalf("ConnectionsNow = %d", n)
			}
		})
	}
}
