package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// The waits between attempts to write a snapshot whose save failed: the
// first retry comes after RetryMin, each further one waits twice as long,
// up to RetryMax. A failing save is retried for as long as the Saver runs.
const (
	RetryMin = 100 * time.Millisecond
	RetryMax = 10 * time.Second
)

// ErrNotSaved is wrapped by [Saver.Close] when the newest snapshot could not
// be written before its context ended.
var ErrNotSaved = errors.New("state not saved")

// SaveResult is the outcome of one attempt to write a snapshot.
type SaveResult struct {
	// Gen is the number the caller gave the snapshot in [Saver.Submit].
	Gen uint64
	// Err is nil when the snapshot numbered Gen (and so everything submitted
	// before it) is on disk: file and directory fsynced.
	Err error
	// Failures counts the failed attempts in a row, this one included; 0
	// after a success.
	Failures int
}

// snapshot is one submitted state with its number and its report function.
type snapshot struct {
	st     State
	gen    uint64
	report func(SaveResult)
}

// Saver saves snapshots in its own goroutine so that callers (the hub) never
// wait on disk. A snapshot whose save fails is retried with a doubling wait
// ([RetryMin] to [RetryMax]) until it is saved or a newer one replaces it.
// Its methods are safe for concurrent use.
type Saver struct {
	dir      string
	log      zerolog.Logger
	save     func(dir string, st State) error
	retryMin time.Duration
	retryMax time.Duration

	wake   chan struct{} // capacity 1: "a snapshot is pending"
	stop   chan struct{} // closed by Close
	exited chan struct{} // closed when the goroutine returns

	mu       sync.Mutex
	pending  *snapshot // newest snapshot not yet written; guarded by mu
	closed   bool      // Close was called; guarded by mu
	lastErr  error     // result of the most recent attempt; guarded by mu
	failures int       // failed attempts in a row; guarded by mu

	closeOnce sync.Once
	closeErr  error
}

// NewSaver starts the goroutine that saves snapshots to dir with [Save].
// Save errors are logged on log (the zero Logger discards them), retried,
// and reported by [Saver.Close] if the last one is never written.
func NewSaver(dir string, log zerolog.Logger) *Saver {
	return newSaver(dir, log, Save, RetryMin, RetryMax)
}

// newSaver is NewSaver with a replaceable save function and retry waits, for
// tests.
func newSaver(dir string, log zerolog.Logger, save func(string, State) error, retryMin, retryMax time.Duration) *Saver {
	s := &Saver{
		dir:      dir,
		log:      log,
		save:     save,
		retryMin: retryMin,
		retryMax: retryMax,
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
	go s.run()
	return s
}

// Submit hands over a snapshot without blocking; if a save is in progress,
// only the newest pending snapshot is kept (coalescing). gen is the caller's
// number for the snapshot, increasing from one Submit to the next. report,
// if not nil, is called on the Saver's goroutine after each attempt to write
// this snapshot, with gen; it must not block for long. A snapshot replaced
// by a newer one before it was written is never reported: the newer one's
// success covers it. Submit copies the Bans slice and Topics map, so the
// caller may keep modifying its own. Submit after Close is ignored.
func (s *Saver) Submit(st State, gen uint64, report func(SaveResult)) {
	snap := &snapshot{st: st.Clone(), gen: gen, report: report}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.pending = snap
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is already queued; it will pick up the newest snapshot
	}
}

// Close stops the goroutine, then writes the newest snapshot not yet on
// disk (if any), retrying with backoff until it is written or ctx ends. It
// returns nil when the newest snapshot submitted is on disk (or nothing was
// ever submitted), else an error wrapping [ErrNotSaved] and the last save
// error. Close may be called more than once; later calls return the same
// result. Submit after Close is ignored.
func (s *Saver) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.stop)
		<-s.exited
		s.closeErr = s.drain(ctx)
	})
	return s.closeErr
}

// drain writes what is pending, retrying until it is written or ctx ends.
func (s *Saver) drain(ctx context.Context) error {
	wait := s.retryMin
	for {
		ok, err := s.attempt()
		if ok {
			return nil
		}
		if err == nil {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: %w (gave up at shutdown: %w)", ErrNotSaved, err, ctx.Err())
		}
		wait = min(2*wait, s.retryMax)
	}
}

// run is the saving goroutine: it writes what is submitted and retries
// failed saves until Close.
func (s *Saver) run() {
	defer close(s.exited)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	wait := s.retryMin
	for {
		select {
		case <-s.wake:
		case <-retry.C:
		case <-s.stop:
			return
		}
		if _, err := s.attempt(); err == nil {
			// Saved; anything submitted meanwhile has queued a wake-up.
			wait = s.retryMin
			retry.Stop()
			continue
		}
		// Retry after the wait, unless a new snapshot (wake) comes first:
		// it is tried at once, since it may be the fix (a smaller state).
		retry.Reset(wait)
		wait = min(2*wait, s.retryMax)
	}
}

// attempt writes the newest pending snapshot, if there is one. ok reports
// that nothing is left to write; on failure the snapshot stays pending
// (unless a newer one arrived meanwhile) and err is the save error.
func (s *Saver) attempt() (ok bool, err error) {
	s.mu.Lock()
	snap := s.pending
	s.pending = nil
	s.mu.Unlock()
	if snap == nil {
		return true, nil
	}
	err = s.save(s.dir, snap.st)
	s.mu.Lock()
	prevFailures := s.failures
	if err != nil {
		s.failures++
		if s.pending == nil {
			s.pending = snap
		}
	} else {
		s.failures = 0
	}
	failures := s.failures
	s.lastErr = err
	ok = err == nil && s.pending == nil
	s.mu.Unlock()
	switch {
	case err != nil:
		s.log.Error().Err(err).Str("dir", s.dir).Int("failures", failures).Msg("saving state failed; retrying")
	case prevFailures > 0:
		s.log.Info().Str("dir", s.dir).Int("failures", prevFailures).Msg("state saved again")
	}
	if snap.report != nil {
		snap.report(SaveResult{Gen: snap.gen, Err: err, Failures: failures})
	}
	return ok, err
}
