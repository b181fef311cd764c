package hub

import (
	"errors"
	"fmt"
	"time"
)

// ErrBusy is wrapped when a private message is refused because its
// recipient already gets as many as it can take.
var ErrBusy = errors.New("is busy")

// The defaults of the private-message budget (Config.PrivateRate,
// PrivateBurst, PrivateBacklog).
const (
	defaultPrivateRate    = 16 << 10
	defaultPrivateBurst   = 64 << 10
	defaultPrivateBacklog = 1 << 20
)

// privateRoom reports whether to can take a private message of n bytes:
// everyone's private messages to one user share a budget
// (Config.PrivateRate and PrivateBurst), and none is queued on a user whose
// queue already holds Config.PrivateBacklog bytes. A refused message is not
// queued anywhere, so a user reading at a normal pace is never cut as slow
// because of what others send them.
func (h *Hub) privateRoom(to *Conn, n int, now time.Time) error {
	if h.cfg.PrivateBacklog > 0 {
		if sr, ok := to.peer.(StatsReporter); ok && sr.Stats().QueuedBytes >= h.cfg.PrivateBacklog {
			return fmt.Errorf("not sent: %s %w (their connection is behind); try again later", to.nick, ErrBusy)
		}
	}
	if h.cfg.PrivateRate > 0 && !to.private.take(n, now, h.cfg.PrivateRate, h.cfg.PrivateBurst) {
		return fmt.Errorf("not sent: %s %w (too many private messages to them right now); try again shortly", to.nick, ErrBusy)
	}
	return nil
}
