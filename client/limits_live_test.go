package client_test

import (
	"fmt"
	"testing"
	"time"

	"telchat/client"
	"telchat/internal/servertest"
)

// TestSetLimitsChangesTheMessageRateOfConnectedClients: a reload that
// raises the message rate frees a connected client at once.
func TestSetLimitsChangesTheMessageRateOfConnectedClients(t *testing.T) {
	s := servertest.Start(t, servertest.Config{Client: client.Config{MsgRate: 2, MsgBurst: 1, FloodTime: time.Minute}})
	ann := s.Login(t, "ann")
	bob := s.Login(t, "bob")
	for i := range 3 {
		ann.Send(fmt.Sprintf("slow %d", i))
	}
	bob.Expect("<ann> slow 2")
	paced := s.Server.Totals().LinesPaced
	if paced < 2 {
		t.Fatalf("%d lines paced at 2 a second, want at least 2", paced)
	}

	l := s.Server.Limits()
	l.MsgRate, l.MsgBurst = 1000, 100
	s.Server.SetLimits(l)
	start := time.Now()
	for i := range 20 {
		ann.Send(fmt.Sprintf("fast %d", i))
	}
	bob.Expect("<ann> fast 19")
	// At the old rate the 20 lines would take 10 s.
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("20 lines took %v after raising the rate to 1000 a second", d)
	}
	if got := s.Server.Limits(); got != l {
		t.Errorf("Limits() = %+v, want %+v", got, l)
	}
}
