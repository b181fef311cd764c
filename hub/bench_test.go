package hub_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"telchat/commands"
	"telchat/hub"
)

// discardPeer takes every message and does nothing with it, so the
// benchmark measures the hub's own fan-out cost.
type discardPeer struct{}

func (discardPeer) Deliver([]byte) bool { return true }
func (discardPeer) Finish(hub.Reason)   {}

// heldDiscardPeer is a discardPeer whose wake-ups the hub may hold
// (hub.HeldPeer); every Hold asks for a Wake, the most work for the hub.
type heldDiscardPeer struct{ discardPeer }

func (heldDiscardPeer) Hold([]byte) (ok, wake bool) { return true, true }
func (heldDiscardPeer) Wake()                       {}

// barrier waits until the hub has handled everything sent before it.
func barrier(b *testing.B, h *hub.Hub) {
	done := make(chan struct{})
	if err := h.Do(func() { close(done) }); err != nil {
		b.Fatal(err)
	}
	<-done
}

// BenchmarkBroadcast measures one chat line fanned out to a room of n
// members, with wake-ups at once or held (Config.Coalesce). Allocations per
// broadcast must not grow with n: the line is encoded once and the same
// bytes are handed to every recipient.
func BenchmarkBroadcast(b *testing.B) {
	for _, held := range []bool{false, true} {
		for _, n := range []int{10, 1000, 10000} {
			benchmarkBroadcast(b, n, held)
		}
	}
}

func benchmarkBroadcast(b *testing.B, n int, held bool) {
	name := fmt.Sprintf("recipients=%d", n)
	cfg := hub.Config{Commands: commands.New(), AnnounceMax: 1, Log: zerolog.Nop()}
	var peer hub.Peer = discardPeer{}
	if held {
		name += "/held"
		cfg.Coalesce, cfg.CoalesceMin = 200*time.Microsecond, 1
		peer = heldDiscardPeer{}
	}
	b.Run(name, func(b *testing.B) {
		h := hub.New(cfg)
		ctx, cancel := context.WithCancel(context.Background())
		go h.Run(ctx)
		defer func() { cancel(); <-h.Done() }()
		addr := netip.MustParseAddr("127.0.0.1")
		conns := make([]*hub.Conn, n+1)
		for i := range conns {
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
