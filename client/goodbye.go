package client

import (
	"net"
	"time"
)

// How a goodbye is delivered before the connection ends.
//
// After the goodbye the server half-closes (FIN). Most clients (inetutils
// and busybox telnet, plink, socat) then close their side, and the server
// closes. nc with a terminal on its standard input does not: it notices a
// closed connection only when a write fails or a reset arrives, so it
// would sit there until the user presses Enter. A reset is what ends it, but
// a reset destroys what the peer has not yet acknowledged, and nc drops what
// it has not yet read when a reset arrives. So the server resets only once
// the kernel reports every byte of the goodbye and the FIN acknowledged, and
// no sooner than a settling time after the half-close (a quarter of the
// linger, at most maxSettle), which leaves a client that was woken by the
// goodbye ample time to read it. When the linger ends before the goodbye is
// acknowledged (a client that stopped reading), the server closes without a
// reset: what is still in flight is not destroyed.

// maxSettle bounds the settling time before a reset.
const maxSettle = 500 * time.Millisecond

// The bounds of the interval between two looks at the unacknowledged count,
// which doubles from the first to the second.
const (
	minAckPoll = 10 * time.Millisecond
	maxAckPoll = 200 * time.Millisecond
)

// settleTime is how long after the half-close a reset may come at the
// earliest.
func settleTime(linger time.Duration) time.Duration {
	return min(linger/4, maxSettle)
}

// awaitGoodbye lingers after the goodbye and the half-close of conn, made
// at start. It returns reset false when peerDone is closed (the client
// closed its side, or the connection failed) or the linger ends with bytes
// unacknowledged, and reset true once every byte is acknowledged and the
// settling time has passed (see above).
func awaitGoodbye(conn *net.TCPConn, peerDone <-chan struct{}, start time.Time, linger time.Duration) (reset bool) {
	end := start.Add(linger)
	timer := time.NewTimer(time.Until(start.Add(settleTime(linger))))
	defer timer.Stop()
	poll := minAckPoll
	for {
		select {
		case <-peerDone:
			return false
		case <-timer.C:
		}
		n, ok := unacked(conn)
		if ok && n == 0 {
			return true
		}
		left := time.Until(end)
		if left <= 0 {
			return false
		}
		if !ok { // no count on this system: wait for the peer or the linger
			poll = left
		}
		timer.Reset(min(poll, left))
		poll = min(2*poll, maxAckPoll)
	}
}
