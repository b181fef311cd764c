package hub_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"telchat/commands"
	"telchat/hub"
	"telchat/message"
	"telchat/render"
	"telchat/store"
)

// renderPeer renders every message for its display profile, as a client
// session does in Deliver, and drops the bytes, so the benchmark measures
// the hub's fan-out and the rendering, without the network.
type renderPeer struct{ profile render.Profile }

func (p renderPeer) Deliver(m *message.Message) bool {
	_ = render.Bytes(m, p.profile)
	return true
}
func (renderPeer) Finish(hub.Reason) {}

// heldRenderPeer is a renderPeer whose wake-ups the hub may hold
// (hub.HeldPeer); every Hold asks for a Wake, the most work for the hub.
type heldRenderPeer struct{ renderPeer }

func (p heldRenderPeer) Hold(m *message.Message) (ok, wake bool) {
	_ = render.Bytes(m, p.profile)
	return true, true
}
func (heldRenderPeer) Wake() {}

// barrier waits until the hub has handled everything sent before it.
func barrier(b *testing.B, h *hub.Hub) {
	done := make(chan struct{})
	if err := h.Do(func() { close(done) }); err != nil {
		b.Fatal(err)
	}
	<-done
}

// BenchmarkBroadcast measures one chat line fanned out to a room of n
// members, with wake-ups at once or held (Config.Coalesce), each recipient
// rendering it for its display profile. Allocations per broadcast must not
// grow with n: the line is rendered once per profile in use and the same
// bytes go to every recipient with that profile, so a room of plain
// clients costs one rendering and one allocation per line. "mixed" gives
// the members five different profiles in turn (plain, every setting,
// colours and timestamps, dimmed server lines, and every setting wrapped
// at 80 columns as in character mode).
func BenchmarkBroadcast(b *testing.B) {
	for _, held := range []bool{false, true} {
		for _, n := range []int{10, 1000, 10000} {
			benchmarkBroadcast(b, n, held, false)
		}
	}
	benchmarkBroadcast(b, 10000, false, true)
	benchmarkBroadcast(b, 10000, true, true)
}

// mixedProfiles are the profiles of the "mixed" case, given in turn.
var mixedProfiles = []render.Profile{render.Plain, render.All,
	render.NickColours | render.Timestamps, render.DimSystem, render.All.WrapAt(80)}

func benchmarkBroadcast(b *testing.B, n int, held, mixed bool) {
	name := fmt.Sprintf("recipients=%d", n)
	cfg := hub.Config{Commands: commands.New(), AnnounceMax: 1, Log: zerolog.Nop()}
	if mixed {
		name += "/mixed"
	}
	if held {
		name += "/held"
		cfg.Coalesce, cfg.CoalesceMin = 200*time.Microsecond, 1
	}
	b.Run(name, func(b *testing.B) {
		h := hub.New(cfg)
		ctx, cancel := context.WithCancel(context.Background())
		go h.Run(ctx)
		defer func() { cancel(); <-h.Done() }()
		addr := netip.MustParseAddr("127.0.0.1")
		conns := make([]*hub.Conn, n+1)
		for i := range conns {
			p := renderPeer{}
			if mixed {
				p.profile = mixedProfiles[i%len(mixedProfiles)]
			}
			var peer hub.Peer = p
			if held {
				peer = heldRenderPeer{p}
			}
			conns[i] = hub.NewConn(fmt.Sprint("id", i), "127.0.0.1:1", addr, peer)
			if err := h.Connect(conns[i]); err != nil {
				b.Fatal(err)
			}
			if err := h.Input(conns[i], fmt.Sprint("user", i), false); err != nil {
				b.Fatal(err)
			}
		}
		barrier(b, h)
		sender := conns[0]
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := h.Input(sender, "hello, this is a line of chat text of about 64 bytes in all", false); err != nil {
				b.Fatal(err)
			}
		}
		barrier(b, h)
		b.StopTimer()
		b.ReportMetric(float64(b.N)*float64(n)/b.Elapsed().Seconds(), "deliveries/s")
	})
}

// BenchmarkListings measures what the costliest commands a stranger can
// send cost the hub: /rooms with 1,000 rooms carrying 300-byte topics, /who
// in a room of 10,000, /nick among 10,000 users. Each must stay well under
// a millisecond.
func BenchmarkListings(b *testing.B) {
	topics := map[string]string{}
	for i := range 1000 {
		topics[fmt.Sprintf("room%d", i)] = fmt.Sprintf("topic %d ", i) + strings.Repeat("t", 290)
	}
	h := hub.New(hub.Config{Commands: commands.New(), AnnounceMax: 1, HistorySize: -1, Log: zerolog.Nop(),
		State: store.State{Topics: topics}})
	ctx, cancel := context.WithCancel(context.Background())
	go h.Run(ctx)
	defer func() { cancel(); <-h.Done() }()
	conns := make([]*hub.Conn, 10000)
	for i := range conns {
		// Each from its own address: the listing budgets are per user and
		// per address, and the benchmark measures listings, not refusals.
		addr := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		conns[i] = hub.NewConn(fmt.Sprint("id", i), addr.String()+":1", addr, renderPeer{})
		if err := h.Connect(conns[i]); err != nil {
			b.Fatal(err)
		}
		if err := h.Input(conns[i], fmt.Sprint("user", i), false); err != nil {
			b.Fatal(err)
		}
	}
	barrier(b, h)
	for _, cmd := range []string{"/rooms", "/who"} {
		b.Run(strings.TrimPrefix(cmd, "/"), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := h.Input(conns[i%len(conns)], cmd, false); err != nil {
					b.Fatal(err)
				}
			}
			barrier(b, h)
		})
	}
	// /nick looks for the old name in every user's ignore list.
	b.Run("nick", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := h.Input(conns[0], fmt.Sprintf("/nick renamed%d", i), false); err != nil {
				b.Fatal(err)
			}
		}
		barrier(b, h)
	})
}
