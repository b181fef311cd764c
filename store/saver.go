package store

import (
	"sync"

	"github.com/rs/zerolog"
)

// Saver saves snapshots in its own goroutine so that callers (the hub) never
// wait on disk. Its methods are safe for concurrent use.
type Saver struct {
	dir  string
	log  zerolog.Logger
	save func(dir string, st State) error

	wake   chan struct{} // capacity 1: "a snapshot is pending"
	stop   chan struct{} // closed by Close
	exited chan struct{} // closed when the goroutine returns

	mu      sync.Mutex
	pending *State // newest snapshot not yet written; guarded by mu
	closed  bool   // Close was called; guarded by mu
	lastErr error  // result of the most recent save; guarded by mu

	closeOnce sync.Once
	closeErr  error
}

// NewSaver starts the goroutine that saves snapshots to dir with [Save].
// Save errors are logged on log at error level (the zero Logger discards
// them) and reported by [Saver.Close].
func NewSaver(dir string, log zerolog.Logger) *Saver {
	return newSaver(dir, log, Save)
}

// newSaver is NewSaver with a replaceable save function, for tests.
func newSaver(dir string, log zerolog.Logger, save func(string, State) error) *Saver {
	s := &Saver{
		dir:    dir,
		log:    log,
		save:   save,
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	go s.run()
	return s
}

// Submit hands over a snapshot without blocking; if a save is in progress,
// only the newest pending snapshot is kept (coalescing). Submit copies the
// Bans slice and Topics map, so the caller may keep modifying its own. Submit
// after Close is ignored.
func (s *Saver) Submit(st State) {
	snapshot := st.Clone()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.pending = &snapshot
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // a wake-up is already queued; it will pick up the newest snapshot
	}
}

// Close writes the last pending snapshot (if any), stops the goroutine and
// returns the error of the most recent save attempt: nil means the newest
// snapshot that was submitted is on disk (or nothing was ever submitted).
// Close may be called more than once; later calls return the same result.
// Submit after Close is ignored.
func (s *Saver) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		close(s.stop)
		<-s.exited
		s.mu.Lock()
		s.closeErr = s.lastErr
		s.mu.Unlock()
	})
	return s.closeErr
}

// run is the saving goroutine.
func (s *Saver) run() {
	defer close(s.exited)
	for {
		select {
		case <-s.wake:
			s.savePending()
		case <-s.stop:
			s.savePending()
			return
		}
	}
}

// savePending writes the newest pending snapshot, if there is one.
func (s *Saver) savePending() {
	s.mu.Lock()
	st := s.pending
	s.pending = nil
	s.mu.Unlock()
	if st == nil {
		return
	}
	err := s.save(s.dir, *st)
	s.mu.Lock()
	s.lastErr = err
	s.mu.Unlock()
	if err != nil {
		s.log.Error().Err(err).Str("dir", s.dir).Msg("saving state failed")
	}
}
