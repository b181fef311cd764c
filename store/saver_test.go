package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"
)

// testDeadline bounds every wait in these tests; it is a failure bound, not
// a synchronization device.
const testDeadline = 10 * time.Second

// gatedSave is a save function whose first call blocks until released, and
// which records every state it is given.
type gatedSave struct {
	started chan struct{} // closed when the first save begins
	release chan struct{} // close to let the first save finish

	mu    sync.Mutex
	saved []State
	errs  []error // returned by successive calls; nil when exhausted
}

func newGatedSave(errs ...error) *gatedSave {
	return &gatedSave{started: make(chan struct{}), release: make(chan struct{}), errs: errs}
}

func (g *gatedSave) save(_ string, st State) error {
	g.mu.Lock()
	first := len(g.saved) == 0
	g.saved = append(g.saved, st)
	var err error
	if len(g.errs) > 0 {
		err, g.errs = g.errs[0], g.errs[1:]
	}
	g.mu.Unlock()
	if first {
		close(g.started)
		<-g.release
	}
	return err
}

func (g *gatedSave) savedMOTDs() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var m []string
	for _, st := range g.saved {
		m = append(m, st.MOTD)
	}
	return m
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(testDeadline):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// submitAll submits states from another goroutine and fails the test if that
// blocks: Submit must never wait for a save in progress.
func submitAll(t *testing.T, s *Saver, states ...State) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, st := range states {
			s.Submit(st, 0, nil)
		}
	}()
	waitClosed(t, done, "Submit to return while a save is in progress")
}

func TestSaverCoalescesWhileSaving(t *testing.T) {
	g := newGatedSave()
	s := newSaver(t.TempDir(), zerolog.Nop(), g.save, time.Millisecond, time.Millisecond)
	s.Submit(State{MOTD: "first"}, 0, nil)
	waitClosed(t, g.started, "the first save to start")

	var states []State
	for i := range 100 {
		states = append(states, State{MOTD: fmt.Sprint("pending ", i)})
	}
	submitAll(t, s, states...)
	close(g.release)
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want := []string{"first", "pending 99"}
	if got := g.savedMOTDs(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("saved %q; want %q (only the newest pending snapshot)", got, want)
	}
}

func TestSaverSubmitCopiesSnapshot(t *testing.T) {
	g := newGatedSave()
	s := newSaver(t.TempDir(), zerolog.Nop(), g.save, time.Millisecond, time.Millisecond)
	s.Submit(State{MOTD: "first"}, 0, nil)
	waitClosed(t, g.started, "the first save to start")

	topics := map[string]string{"lobby": "original"}
	bans := []Ban{{Mask: "alice"}}
	submitAll(t, s, State{MOTD: "second", Topics: topics, Bans: bans})
	topics["lobby"] = "changed by the hub" // must not reach the saved snapshot
	bans[0].Mask = "bob"
	close(g.release)
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	last := g.saved[len(g.saved)-1]
	if last.Topics["lobby"] != "original" || last.Bans[0].Mask != "alice" {
		t.Fatalf("saved snapshot saw later changes: %+v", last)
	}
}

func TestSaverRealFiles(t *testing.T) {
	tests := []struct {
		name    string
		submits int
	}{
		{name: "nothing submitted", submits: 0},
		{name: "one", submits: 1},
		{name: "many", submits: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			s := NewSaver(dir, zerolog.Nop())
			for i := range tt.submits {
				s.Submit(State{
					MOTD:   fmt.Sprint("motd ", i),
					Bans:   []Ban{{Mask: fmt.Sprint("user", i), Created: time.Unix(int64(i), 0)}},
					Topics: map[string]string{"lobby": fmt.Sprint("topic ", i)},
				}, uint64(i+1), nil)
			}
			if err := s.Close(context.Background()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if tt.submits == 0 {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("nothing was submitted but %s exists (err %v)", dir, err)
				}
				return
			}
			got, err := Load(dir)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			last := tt.submits - 1
			want := State{
				Version: CurrentVersion,
				MOTD:    fmt.Sprint("motd ", last),
				Bans:    []Ban{{Mask: fmt.Sprint("user", last), Created: time.Unix(int64(last), 0)}},
				Topics:  map[string]string{"lobby": fmt.Sprint("topic ", last)},
			}
			if !sameState(got, want) {
				t.Fatalf("Load after Close = %+v; want the last submitted %+v", got, want)
			}
			if names := dirNames(t, dir); len(names) != 1 || names[0] != FileName {
				t.Fatalf("data dir holds %q; want only %s", names, FileName)
			}
		})
	}
}

func TestSaverConcurrentSubmit(t *testing.T) {
	dir := t.TempDir()
	s := NewSaver(dir, zerolog.Nop())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				s.Submit(State{MOTD: fmt.Sprintf("writer %d state %d", w, i)}, 0, nil)
			}
		})
	}
	wg.Wait()
	s.Submit(State{MOTD: "final"}, 0, nil)
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got, err := Load(dir)
	if err != nil || got.MOTD != "final" {
		t.Fatalf("Load = %q, %v; want MOTD \"final\"", got.MOTD, err)
	}
}

func TestSaverSubmitAfterCloseIgnored(t *testing.T) {
	dir := t.TempDir()
	s := NewSaver(dir, zerolog.Nop())
	s.Submit(State{MOTD: "kept"}, 0, nil)
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s.Submit(State{MOTD: "ignored"}, 0, nil)
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	got, err := Load(dir)
	if err != nil || got.MOTD != "kept" {
		t.Fatalf("Load = %q, %v; want MOTD \"kept\"", got.MOTD, err)
	}
}

// reports collects SaveResults from the Saver's goroutine.
type reports struct {
	mu  sync.Mutex
	got []SaveResult
	ch  chan struct{} // receives a value after each report (buffered)
}

func newReports() *reports { return &reports{ch: make(chan struct{}, 1000)} }

func (r *reports) report(res SaveResult) {
	r.mu.Lock()
	r.got = append(r.got, res)
	r.mu.Unlock()
	r.ch <- struct{}{}
}

// waitFor waits until a report satisfies ok and returns it.
func (r *reports) waitFor(t *testing.T, what string, ok func(SaveResult) bool) SaveResult {
	t.Helper()
	deadline := time.After(testDeadline)
	for {
		r.mu.Lock()
		for _, res := range r.got {
			if ok(res) {
				r.mu.Unlock()
				return res
			}
		}
		r.mu.Unlock()
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for a report: %s; got %+v", what, r.got)
		}
	}
}

func TestSaverRetriesFailedSave(t *testing.T) {
	errDisk := errors.New("disk on fire")
	g := newGatedSave(nil, errDisk, errDisk, errDisk) // then nil for good
	var logBuf syncBuffer
	s := newSaver(t.TempDir(), zerolog.New(&logBuf), g.save, time.Millisecond, 4*time.Millisecond)
	r := newReports()
	s.Submit(State{MOTD: "a"}, 1, r.report)
	waitClosed(t, g.started, "the first save to start")
	close(g.release)
	r.waitFor(t, "gen 1 saved", func(res SaveResult) bool { return res.Gen == 1 && res.Err == nil })
	s.Submit(State{MOTD: "b"}, 2, r.report)
	failed := r.waitFor(t, "gen 2 failing three times", func(res SaveResult) bool { return res.Gen == 2 && res.Failures == 3 })
	if !errors.Is(failed.Err, errDisk) {
		t.Fatalf("failure report %+v; want %v", failed, errDisk)
	}
	r.waitFor(t, "gen 2 saved after the retries", func(res SaveResult) bool { return res.Gen == 2 && res.Err == nil && res.Failures == 0 })
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, want := g.savedMOTDs(), []string{"a", "b", "b", "b", "b"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("saved %q; want %q", got, want)
	}
	if !strings.Contains(logBuf.String(), errDisk.Error()) || !strings.Contains(logBuf.String(), "state saved again") {
		t.Fatalf("log %q: want the failure and the recovery", logBuf.String())
	}
}

func TestSaverNewerSnapshotReplacesFailedOne(t *testing.T) {
	errDisk := errors.New("disk on fire")
	g := newGatedSave(errDisk) // the first save fails, the rest succeed
	// A long retry wait: the newer snapshot, not the retry, must end the failure.
	s := newSaver(t.TempDir(), zerolog.Nop(), g.save, time.Hour, time.Hour)
	r := newReports()
	s.Submit(State{MOTD: "old"}, 1, r.report)
	waitClosed(t, g.started, "the first save to start")
	close(g.release)
	r.waitFor(t, "gen 1 failed", func(res SaveResult) bool { return res.Gen == 1 && res.Err != nil })
	s.Submit(State{MOTD: "new"}, 2, r.report)
	r.waitFor(t, "gen 2 saved", func(res SaveResult) bool { return res.Gen == 2 && res.Err == nil })
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, want := g.savedMOTDs(), []string{"old", "new"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("saved %q; want %q (the failed snapshot is not written after a newer one)", got, want)
	}
}

// flakySave fails while failing is set.
type flakySave struct {
	failing atomic.Bool
	calls   atomic.Int64
}

var errFlaky = errors.New("disk on fire")

func (f *flakySave) save(string, State) error {
	f.calls.Add(1)
	if f.failing.Load() {
		return errFlaky
	}
	return nil
}

func TestSaverCloseRetriesThenGivesUp(t *testing.T) {
	tests := []struct {
		name        string
		recoverWhen int64 // calls after which the save works again (0: never)
		timeout     time.Duration
		wantErr     bool
	}{
		{name: "recovers before the deadline", recoverWhen: 3, timeout: testDeadline},
		{name: "still failing at the deadline", timeout: 30 * time.Millisecond, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &flakySave{}
			f.failing.Store(true)
			save := func(dir string, st State) error {
				if tt.recoverWhen > 0 && f.calls.Load() >= tt.recoverWhen {
					f.failing.Store(false)
				}
				return f.save(dir, st)
			}
			s := newSaver(t.TempDir(), zerolog.Nop(), save, time.Millisecond, 2*time.Millisecond)
			r := newReports()
			s.Submit(State{MOTD: "a"}, 1, r.report)
			r.waitFor(t, "gen 1 failed once", func(res SaveResult) bool { return res.Gen == 1 && res.Err != nil })
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			err := s.Close(ctx)
			if tt.wantErr != (err != nil) {
				t.Fatalf("Close = %v; want an error: %v", err, tt.wantErr)
			}
			if tt.wantErr && (!errors.Is(err, ErrNotSaved) || !errors.Is(err, errFlaky)) {
				t.Fatalf("Close = %v; want ErrNotSaved and %v", err, errFlaky)
			}
			if again := s.Close(context.Background()); again != err {
				t.Fatalf("second Close = %v; want the same %v", again, err)
			}
		})
	}
}

func TestSaverRealSaveError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var logBuf syncBuffer
	s := NewSaver(filepath.Join(file, "data"), zerolog.New(&logBuf))
	s.Submit(State{MOTD: "x"}, 1, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Close(ctx)
	if !errors.Is(err, ErrNotSaved) {
		t.Fatalf("Close = %v; want ErrNotSaved", err)
	}
	if !strings.Contains(logBuf.String(), "saving state failed") {
		t.Fatalf("save error not logged; log: %q", logBuf.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the Saver's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestSaverStopsGoroutine(t *testing.T) {
	before := goleak.IgnoreCurrent()
	s := NewSaver(t.TempDir(), zerolog.Nop())
	s.Submit(State{MOTD: "x"}, 0, nil)
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	goleak.VerifyNone(t, before)
}
