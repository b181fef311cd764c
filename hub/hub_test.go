package hub_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"telchat/commands"
	"telchat/hub"
	"telchat/internal/servertest"
	"telchat/message"
	"telchat/render"
)

// recordingPeer is a hub.Peer that keeps what it is sent.
type recordingPeer struct {
	mu       sync.Mutex
	out      []string
	mentions []string // the text of each message delivered with Mention set, and the Mention
	once     sync.Once
	finished chan hub.Reason // receives the Finish reason once
}

func newRecordingPeer() *recordingPeer {
	return &recordingPeer{finished: make(chan hub.Reason, 1)}
}

func (p *recordingPeer) Deliver(msg *message.Message) bool {
	p.mu.Lock()
	p.out = append(p.out, string(render.Bytes(msg, render.Plain)))
	if msg.Mention != "" {
		p.mentions = append(p.mentions, msg.Text+" @"+msg.Mention)
	}
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
			if !strings.Contains(out[warn:], "; send anything within ") {
				t.Fatalf("the warning does not say how long is left: %q", out)
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

// holdingPeer is a recordingPeer that implements hub.HeldPeer like a real
// session: Hold queues, and what is queued is "written" (shows in
// delivered) only when the writer is woken.
type holdingPeer struct {
	*recordingPeer
	held  []string
	holds int
	wakes int
}

func (p *holdingPeer) Hold(msg *message.Message) (ok, wake bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holds++
	wake = len(p.held) == 0
	p.held = append(p.held, string(render.Bytes(msg, render.Plain)))
	return true, wake
}

func (p *holdingPeer) Wake() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wakes++
	p.out = append(p.out, p.held...)
	p.held = nil
}

// Deliver queues and wakes at once, as Session.Deliver does.
func (p *holdingPeer) Deliver(msg *message.Message) bool {
	if _, wake := p.Hold(msg); wake {
		p.Wake()
	}
	return true
}

// counts returns how many Hold and Wake calls the peer got.
func (p *holdingPeer) counts() (holds, wakes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.holds, p.wakes
}

func TestCoalesceHoldsWakeUpsOfBigFanOuts(t *testing.T) {
	cases := []struct {
		name      string
		coalesce  time.Duration
		min       int
		wantHolds bool // the two lines were held and woken together
	}{
		{"big room", 500 * time.Millisecond, 3, true},
		{"room below the minimum", 500 * time.Millisecond, 4, false},
		{"off", 0, 3, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startHub(t, hub.Config{Coalesce: tc.coalesce, CoalesceMin: tc.min})
			alice, _ := join(t, h, "alice")
			join(t, h, "bob")
			p := &holdingPeer{recordingPeer: newRecordingPeer()}
			c := hub.NewConn("carol-id", "127.0.0.1:1", netip.MustParseAddr("127.0.0.1"), p)
			if err := h.Connect(c); err != nil {
				t.Fatal(err)
			}
			if err := h.Input(c, "carol", false); err != nil {
				t.Fatal(err)
			}
			holdsBefore, wakesBefore := waitIdle(t, h, p)
			for _, line := range []string{"one", "two"} {
				if err := h.Input(alice, line, false); err != nil {
					t.Fatal(err)
				}
			}
			servertest.WaitFor(t, "carol to get both lines", func() bool {
				return strings.Contains(p.delivered(), "<alice> two")
			})
			if out := p.delivered(); strings.Index(out, "<alice> one") > strings.Index(out, "<alice> two") {
				t.Fatalf("lines out of order: %q", out)
			}
			holds, wakes := p.counts()
			holds, wakes = holds-holdsBefore, wakes-wakesBefore
			// Deliver is Hold plus Wake here, so the counts tell the paths
			// apart: held lines share one wake-up, delivered ones get one each.
			want := [2]int{2, 2}
			if tc.wantHolds {
				want = [2]int{2, 1}
			}
			if got := [2]int{holds, wakes}; got != want {
				t.Fatalf("holds, wakes = %v, want %v", got, want)
			}
		})
	}
}

// waitIdle waits until the hub has handled everything sent so far and
// returns the peer's counts then.
func waitIdle(t *testing.T, h *hub.Hub, p *holdingPeer) (holds, wakes int) {
	t.Helper()
	done := make(chan struct{})
	if err := h.Do(func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	<-done
	return p.counts()
}

// TestMentionsGetTheirOwnCopy: the members a line mentions (by nickname,
// in any case) get a copy of their own with Mention set, once however
// often they are named; the sender, the others and the history get the
// shared message.
func TestMentionsGetTheirOwnCopy(t *testing.T) {
	h := startHub(t, hub.Config{})
	alice, pa := join(t, h, "alice")
	_, pb := join(t, h, "Bob")
	_, pc := join(t, h, "carol")
	for _, line := range []string{"hi bob and BOB, alice", "nobody here"} {
		if err := h.Input(alice, line, false); err != nil {
			t.Fatal(err)
		}
	}
	servertest.WaitFor(t, "carol gets both lines", func() bool { return strings.Contains(pc.delivered(), "<alice> nobody here") })
	servertest.WaitFor(t, "bob gets both lines", func() bool { return strings.Contains(pb.delivered(), "<alice> nobody here") })
	for _, tc := range []struct {
		p    *recordingPeer
		want []string
	}{
		{pa, nil}, // the sender gets nothing back, not even its own name
		{pb, []string{"hi bob and BOB, alice @Bob"}},
		{pc, nil},
	} {
		tc.p.mu.Lock()
		got := tc.p.mentions
		tc.p.mu.Unlock()
		if !slices.Equal(got, tc.want) {
			t.Errorf("mentions %q, want %q", got, tc.want)
		}
	}
	_, pd := join(t, h, "dave")
	servertest.WaitFor(t, "the history", func() bool { return strings.Contains(pd.delivered(), "End of history") })
	pd.mu.Lock()
	defer pd.mu.Unlock()
	if len(pd.mentions) != 0 {
		t.Errorf("history replayed mentions: %q", pd.mentions)
	}
}
