// Package logsample bounds the log lines that strangers can cause. Each
// kind of such line (connection refusals, logins and leavings, refused
// admin commands) goes through its own zerolog.BurstSampler: at most a
// fixed number of lines of that kind per second are written, and the rest
// are counted, so that one address hammering the server cannot fill the
// disk or drown the lines that matter. [Set.Summarize] writes one line with
// what was left out since its last call; the hub calls it once a minute.
package logsample

import (
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// DefaultPerSecond is the number of lines of each kind written per second
// when the Set is made with 0.
const DefaultPerSecond = 20

// Kind is a kind of log line that strangers can cause.
type Kind int

// The kinds of sampled lines.
const (
	// Refused: connections refused by a limit or a ban.
	Refused Kind = iota
	// Session: nicknames taken and sessions ended.
	Session
	// Denied: admin commands by users who are not admins (permission
	// denied, wrong /oper passwords, /oper attempts refused).
	Denied
	numKinds
)

var kindNames = [numKinds]string{"refused", "session", "denied"}

// String returns the kind's name as the summary line and /stats show it.
func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "unknown"
	}
	return kindNames[k]
}

// Kinds returns every kind, in order.
func Kinds() []Kind { return []Kind{Refused, Session, Denied} }

// Set holds a sampled logger for each kind and counts what they leave out.
// Its methods may be called from any goroutine.
type Set struct {
	log       zerolog.Logger
	perSecond int
	samplers  [numKinds]counting
	loggers   [numKinds]zerolog.Logger
	reported  [numKinds]atomic.Uint64 // suppressed counts in the last summary
}

// counting is a BurstSampler that counts the events it rejects.
type counting struct {
	burst   zerolog.BurstSampler
	dropped atomic.Uint64
}

// Sample implements zerolog.Sampler.
func (c *counting) Sample(lvl zerolog.Level) bool {
	if c.burst.Sample(lvl) {
		return true
	}
	c.dropped.Add(1)
	return false
}

// New returns a Set writing to log at most perSecond lines of each kind
// per second (0: DefaultPerSecond; negative: no limit).
func New(log zerolog.Logger, perSecond int) *Set {
	if perSecond == 0 {
		perSecond = DefaultPerSecond
	}
	s := &Set{log: log, perSecond: perSecond}
	for k := range numKinds {
		if perSecond < 0 {
			s.loggers[k] = log
			continue
		}
		s.samplers[k].burst = zerolog.BurstSampler{Burst: uint32(perSecond), Period: time.Second}
		s.loggers[k] = log.Sample(&s.samplers[k])
	}
	return s
}

// PerSecond is the number of lines of each kind written per second, or a
// negative number when there is no limit.
func (s *Set) PerSecond() int { return s.perSecond }

// Logger returns the sampled logger for lines of kind k. It is shared: do
// not change it (derive a new one with With instead).
func (s *Set) Logger(k Kind) *zerolog.Logger { return &s.loggers[k] }

// Suppressed returns how many lines of kind k were left out since the Set
// was made.
func (s *Set) Suppressed(k Kind) uint64 { return s.samplers[k].dropped.Load() }

// SuppressedTotal returns how many lines of all kinds were left out.
func (s *Set) SuppressedTotal() uint64 {
	var n uint64
	for k := range numKinds {
		n += s.Suppressed(k)
	}
	return n
}

// Summarize writes one warning with the lines of each kind left out since
// the last summary and in all, when there are any; it reports whether it
// wrote one. The line itself is not sampled: call it at a steady pace.
func (s *Set) Summarize() bool {
	ev := s.log.Warn()
	var since uint64
	for k := range numKinds {
		now := s.Suppressed(k)
		d := now - s.reported[k].Swap(now)
		since += d
		ev = ev.Uint64(kindNames[k], d)
	}
	if since == 0 {
		ev.Discard()
		return false
	}
	ev.Uint64("since_start", s.SuppressedTotal()).Int("per_second_per_kind", s.perSecond).
		Msg("log lines left out (over the per-kind rate), by kind")
	return true
}
