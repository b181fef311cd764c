package hub_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/rs/zerolog"

	"telchat/commands"
	"telchat/hub"
)

// discardPeer takes every message and does nothing with it, so the
// benchmark measures the hub's own fan-out cost.
type discardPeer struct{}

func (discardPeer) Deliver([]byte) bool { return true }
func (discardPeer) Finish(hub.Reason)   {}

// barrier waits until the hub has handled everything sent before it.
func barrier(b *testing.B, h *hub.Hub) {
	done := make(chan struct{})
	if err := h.Do(func() { close(done) }); err != nil {
		b.Fatal(err)
	}
	<-done
}

// BenchmarkBroadcast measures one chat line fanned out to a room of n
// members. Allocations per broadcast must not grow with n: the line is
// encoded once and the same bytes are handed to every recipient.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("recipients=%d", n), func(b *testing.B) {
			h := hub.New(hub.Config{Commands: commands.New(), AnnounceMax: 1, Log: zerolog.Nop()})
			ctx, cancel := context.WithCancel(context.Background())
			go h.Run(ctx)
			defer func() { cancel(); <-h.Done() }()
			addr := netip.MustParseAddr("127.0.0.1")
			conns := make([]*hub.Conn, n+1)
			for i := range conns {
				conns[i] = hub.NewConn(fmt.Sprint("id", i), "127.0.0.1:1", addr, discardPeer{})
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
}
