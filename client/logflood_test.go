package client_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"telchat/client"
	"telchat/hub"
	"telchat/internal/servertest"
	"telchat/logsample"
)

// logBuffer collects a server's JSON log lines; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the log lines whose message is msg, decoded, and the
// size of the whole log in bytes.
func (b *logBuffer) records(t *testing.T, msg string) ([]map[string]any, int) {
	t.Helper()
	b.mu.Lock()
	data := append([]byte(nil), b.buf.Bytes()...)
	b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if rec["message"] == msg {
			out = append(out, rec)
		}
	}
	return out, len(data)
}

// TestLogFloodIsBounded: one address hammering connect (refused by
// -max-per-ip) and a user hammering an admin command log at most
// LogPerSecond lines of each kind a second; the rest are counted, in the
// hub's samples and in the summary line.
func TestLogFloodIsBounded(t *testing.T) {
	const (
		perSecond = 10
		hammer    = 400 // connection attempts
		denied    = 200 // admin commands by a non-admin
	)
	var logs logBuffer
	s := servertest.Start(t, servertest.Config{
		Hub:    hub.Config{LogPerSecond: perSecond, LogSummaryEvery: time.Second},
		Client: client.Config{MaxPerIP: 2},
		Log:    &logs,
	})
	s.Login(t, "alice")
	mallory := s.Login(t, "mallory") // the address's two connections
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < hammer; i += 8 {
				c, err := net.DialTimeout("tcp", s.Addr, servertest.Timeout)
				if err != nil {
					t.Errorf("dial %d: %v", i, err)
					return
				}
				_ = c.SetDeadline(time.Now().Add(servertest.Timeout))
				l, err := bufio.NewReader(c).ReadString('\n')
				_ = c.Close()
				if err != nil || !strings.Contains(l, "too many connections from your address") {
					t.Errorf("attempt %d: %q, %v; want the refusal", i, l, err)
					return
				}
			}
		})
	}
	for range denied {
		mallory.Send("/kick alice " + strings.Repeat("x", 900))
	}
	for range denied {
		mallory.Expect("! Permission denied: /kick is for admins")
	}
	wg.Wait()
	elapsed := time.Since(start)
	if t.Failed() {
		return
	}
	// A burst period may end in the middle of the hammering.
	maxLines := perSecond * (int(elapsed/time.Second) + 2)
	refusals, _ := logs.records(t, "connection refused")
	audits, _ := logs.records(t, "admin command")
	if n := len(refusals); n < perSecond || n > maxLines {
		t.Errorf("%d refusal lines in %v, want %d to %d", n, elapsed, perSecond, maxLines)
	}
	if n := len(audits); n < perSecond || n > maxLines {
		t.Errorf("%d denied-command lines in %v, want %d to %d", n, elapsed, perSecond, maxLines)
	}
	for _, a := range audits {
		if args, _ := a["args"].(string); len(args) > 120 {
			t.Fatalf("a non-admin's arguments logged in full (%d bytes)", len(args))
		}
	}
	samples := s.Hub.LogSamples()
	if got, want := samples.Suppressed(logsample.Refused), uint64(hammer-len(refusals)); got != want {
		t.Errorf("refusals left out = %d, want %d (%d attempts, %d logged)", got, want, hammer, len(refusals))
	}
	if got, want := samples.Suppressed(logsample.Denied), uint64(denied-len(audits)); got != want {
		t.Errorf("denied commands left out = %d, want %d", got, want)
	}
	// The summary (once a second here) adds up what was left out.
	left := float64(hammer - len(refusals) + denied - len(audits))
	servertest.WaitFor(t, "a summary line counting every line left out", func() bool {
		sums, _ := logs.records(t, "log lines left out (over the per-kind rate), by kind")
		return len(sums) > 0 && sums[len(sums)-1]["since_start"] == left
	})
	sums, size := logs.records(t, "log lines left out (over the per-kind rate), by kind")
	var refusedSum, deniedSum float64
	for _, r := range sums {
		refusedSum += r["refused"].(float64)
		deniedSum += r["denied"].(float64)
	}
	if refusedSum != float64(hammer-len(refusals)) || deniedSum != float64(denied-len(audits)) {
		t.Errorf("summaries add up to refused %v, denied %v; want %d, %d", refusedSum, deniedSum, hammer-len(refusals), denied-len(audits))
	}
	// What 600 hostile events cost the log: a few dozen lines, not 600
	// (and not 200 lines of 900 bytes of padding).
	if limit := 2 * maxLines * 400; size > limit {
		t.Errorf("the log grew to %d bytes, want at most %d", size, limit)
	}
	t.Logf("%d attempts and %d denied commands in %v: %d + %d lines logged, %d bytes of log", hammer, denied, elapsed.Round(time.Millisecond), len(refusals), len(audits), size)
}
