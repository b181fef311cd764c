package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
			s.Submit(st)
		}
	}()
	waitClosed(t, done, "Submit to return while a save is in progress")
}

func TestSaverCoalescesWhileSaving(t *testing.T) {
	g := newGatedSave()
	s := newSaver(t.TempDir(), zerolog.Nop(), g.save)
	s.Submit(State{MOTD: "first"})
	waitClosed(t, g.started, "the first save to start")

	var states []State
	for i := range 100 {
		states = append(states, State{MOTD: fmt.Sprint("pending ", i)})
	}
	submitAll(t, s, states...)
	close(g.release)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want := []string{"first", "pending 99"}
	if got := g.savedMOTDs(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("saved %q; want %q (only the newest pending snapshot)", got, want)
	}
}

func TestSaverSubmitCopiesSnapshot(t *testing.T) {
	g := newGatedSave()
	s := newSaver(t.TempDir(), zerolog.Nop(), g.save)
	s.Submit(State{MOTD: "first"})
	waitClosed(t, g.started, "the first save to start")

	topics := map[string]string{"lobby": "original"}
	bans := []Ban{{Mask: "alice"}}
	submitAll(t, s, State{MOTD: "second", Topics: topics, Bans: bans})
	topics["lobby"] = "changed by the hub" // must not reach the saved snapshot
	bans[0].Mask = "bob"
	close(g.release)
	if err := s.Close(); err != nil {
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
				})
			}
			if err := s.Close(); err != nil {
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
				s.Submit(State{MOTD: fmt.Sprintf("writer %d state %d", w, i)})
			}
		})
	}
	wg.Wait()
	s.Submit(State{MOTD: "final"})
	if err := s.Close(); err != nil {
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
	s.Submit(State{MOTD: "kept"})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s.Submit(State{MOTD: "ignored"})
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	got, err := Load(dir)
	if err != nil || got.MOTD != "kept" {
		t.Fatalf("Load = %q, %v; want MOTD \"kept\"", got.MOTD, err)
	}
}

func TestSaverErrors(t *testing.T) {
	errDisk := errors.New("disk on fire")
	tests := []struct {
		name    string
		errs    []error // results of successive saves
		submits []string
		wantErr error
		wantLog bool
	}{
		{name: "last save fails", errs: []error{nil, errDisk}, submits: []string{"a", "b"}, wantErr: errDisk, wantLog: true},
		{name: "failure then success", errs: []error{errDisk, nil}, submits: []string{"a", "b"}, wantErr: nil, wantLog: true},
		{name: "no failure", submits: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGatedSave(tt.errs...)
			var logBuf bytes.Buffer
			s := newSaver(t.TempDir(), zerolog.New(&logBuf), g.save)
			s.Submit(State{MOTD: tt.submits[0]})
			waitClosed(t, g.started, "the first save to start")
			submitAll(t, s, State{MOTD: tt.submits[1]})
			close(g.release)
			err := s.Close()
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Close = %v; want %v", err, tt.wantErr)
			}
			if again := s.Close(); again != err {
				t.Fatalf("second Close = %v; want the same %v", again, err)
			}
			logged := strings.Contains(logBuf.String(), errDisk.Error())
			if logged != tt.wantLog {
				t.Fatalf("log %q: error logged = %v; want %v", logBuf.String(), logged, tt.wantLog)
			}
		})
	}
}

func TestSaverRealSaveError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	s := NewSaver(filepath.Join(file, "data"), zerolog.New(&logBuf))
	s.Submit(State{MOTD: "x"})
	err := s.Close()
	if err == nil {
		t.Fatal("Close returned nil; want the save error")
	}
	if !strings.Contains(logBuf.String(), "saving state failed") {
		t.Fatalf("save error not logged; log: %q", logBuf.String())
	}
}

func TestSaverStopsGoroutine(t *testing.T) {
	before := goleak.IgnoreCurrent()
	s := NewSaver(t.TempDir(), zerolog.Nop())
	s.Submit(State{MOTD: "x"})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	goleak.VerifyNone(t, before)
}
