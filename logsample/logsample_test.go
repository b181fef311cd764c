package logsample

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// lines splits JSON log output into decoded records.
func lines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad log line %q: %v", l, err)
		}
		recs = append(recs, m)
	}
	return recs
}

func TestSetSamplesAndCounts(t *testing.T) {
	var buf bytes.Buffer
	// 1000 refusals from 4 goroutines, far faster than 5 a second: at
	// most 5 for each period the burst touches are written.
	var wg sync.WaitGroup
	var mu sync.Mutex // bytes.Buffer is not safe for concurrent writes
	log := zerolog.New(&lockedWriter{mu: &mu, w: &buf})
	s := New(log, 5)
	start := time.Now()
	for range 4 {
		wg.Go(func() {
			for range 250 {
				s.Logger(Refused).Info().Str("why", "too many").Msg("connection refused")
			}
		})
	}
	wg.Wait()
	periods := int(time.Since(start)/time.Second) + 2 // a period may end in the middle
	s.Logger(Denied).Warn().Msg("denied")
	written := len(lines(t, buf.String()))
	refused := written - 1
	if refused < 5 || refused > 5*periods {
		t.Fatalf("%d refusal lines written, want 5 to %d", refused, 5*periods)
	}
	if got := s.Suppressed(Refused); got != uint64(1000-refused) {
		t.Fatalf("Suppressed(Refused) = %d, want %d", got, 1000-refused)
	}
	if s.Suppressed(Denied) != 0 || s.Suppressed(Session) != 0 {
		t.Fatalf("other kinds counted: %d, %d", s.Suppressed(Denied), s.Suppressed(Session))
	}
	buf.Reset()
	if !s.Summarize() {
		t.Fatal("no summary with lines left out")
	}
	recs := lines(t, buf.String())
	if len(recs) != 1 || recs[0]["refused"] != float64(1000-refused) || recs[0]["since_start"] != float64(1000-refused) || recs[0]["level"] != "warn" {
		t.Fatalf("summary %v", recs)
	}
	buf.Reset()
	if s.Summarize() || buf.Len() != 0 {
		t.Fatalf("a second summary with nothing new: %q", buf.String())
	}
}

func TestSetWithoutLimit(t *testing.T) {
	var buf bytes.Buffer
	s := New(zerolog.New(&buf), -1)
	for range 100 {
		s.Logger(Session).Info().Msg("named")
	}
	if n := len(lines(t, buf.String())); n != 100 || s.SuppressedTotal() != 0 {
		t.Fatalf("%d lines, %d suppressed; want 100, 0", n, s.SuppressedTotal())
	}
}

func TestDisabledLevelsAreNotCounted(t *testing.T) {
	var buf bytes.Buffer
	s := New(zerolog.New(&buf).Level(zerolog.WarnLevel), 1)
	for range 10 {
		s.Logger(Refused).Info().Msg("not written at warn level")
	}
	if s.Suppressed(Refused) != 0 || buf.Len() != 0 {
		t.Fatalf("suppressed %d, wrote %q", s.Suppressed(Refused), buf.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
