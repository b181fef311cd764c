package client

import (
	"net"

	"golang.org/x/sys/unix"
)

// unacked returns how many bytes conn has sent or queued that its peer has
// not acknowledged, a FIN counting as one (SIOCOUTQ, the same as TIOCOUTQ).
// ok is false when the kernel cannot tell.
func unacked(conn *net.TCPConn) (n int, ok bool) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, false
	}
	var ioctlErr error
	if err := raw.Control(func(fd uintptr) {
		n, ioctlErr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
	}); err != nil || ioctlErr != nil {
		return 0, false
	}
	return n, true
}
