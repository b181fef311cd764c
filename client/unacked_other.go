//go:build !linux

package client

import "net"

// unacked reports that this system cannot tell how much of conn's output
// is unacknowledged: the linger then ends without a reset.
func unacked(*net.TCPConn) (n int, ok bool) { return 0, false }
