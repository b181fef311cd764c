package commands_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"telchat/client"
	"telchat/hub"
	"telchat/internal/servertest"
)

// TestPrivateFloodCannotCutAReader: 20 addresses (127.2.0.x) send private
// messages to one user as fast as they can for 3 seconds; the user reads
// at 20 KB/s and is never cut as slow: past the recipient's budget the
// senders are told the user is busy, and their lines are not queued.
func TestPrivateFloodCannotCutAReader(t *testing.T) {
	s := start(t, servertest.Config{
		Hub:    hub.Config{PrivateBacklog: 16 << 10}, // the default rate and burst: 16 KiB/s, 64 KiB
		Client: client.Config{MaxQueueBytes: 64 << 10, WriteTimeout: 5 * time.Second, Linger: shortLinger},
	})
	vic := s.Login(t, "vic")
	const senders = 20
	clients := make([]*servertest.Client, senders)
	for i := range clients {
		clients[i] = s.LoginFrom(t, fmt.Sprintf("s%d", i), fmt.Sprintf("127.2.0.%d", i+1))
		clients[i].Send("/join elsewhere")
		clients[i].Expect("You are now in #elsewhere")
	}
	vic.Sync()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	// The victim reads 1 KB every 50 ms.
	var cut atomic.Value
	wg.Go(func() {
		pace := time.NewTicker(50 * time.Millisecond)
		defer pace.Stop()
		buf := make([]byte, 1024)
		for {
			select {
			case <-stop:
				return
			case <-pace.C:
			}
			_ = vic.Conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
			if _, err := vic.R.Read(buf); err != nil {
				cut.Store(err)
				return
			}
		}
	})
	var sent, busy atomic.Int64
	text := strings.Repeat("x", 900)
	for _, c := range clients {
		wg.Go(func() {
			pace := time.NewTicker(10 * time.Millisecond)
			defer pace.Stop()
			for {
				if _, err := c.Conn.Write([]byte("/msg vic " + text + "\n")); err != nil {
					return
				}
				for { // one answer per message
					l, err := c.TryLine()
					if err != nil {
						return
					}
					if strings.HasPrefix(l, "-> *vic*") {
						sent.Add(1)
						break
					}
					if strings.HasPrefix(l, "! Not sent: vic is busy") {
						busy.Add(1)
						break
					}
				}
				select {
				case <-stop:
					return
				case <-pace.C:
				}
			}
		})
	}
	time.Sleep(3 * time.Second) // the length of the attack, not a synchronization
	close(stop)
	wg.Wait()
	if err := cut.Load(); err != nil {
		t.Fatalf("the reader was cut: %v (sent %d, refused as busy %d)", err, sent.Load(), busy.Load())
	}
	if n := s.Hub.Counters.SlowDrops.Load(); n != 0 {
		t.Fatalf("%d connections dropped as slow", n)
	}
	if busy.Load() == 0 {
		t.Fatalf("no sender was told the recipient is busy (%d sent)", sent.Load())
	}
	t.Logf("%d private messages delivered, %d refused as busy", sent.Load(), busy.Load())
	// The reader is still there and catches up.
	vic.Send("/whois vic")
	vic.Expect("vic")
}
