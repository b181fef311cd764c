package systemd

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// listenFdsStart is the first descriptor systemd passes (SD_LISTEN_FDS_START).
const listenFdsStart = 3

// Listener is one socket passed by systemd.
type Listener struct {
	// Name is the socket's FileDescriptorName= (by default the socket
	// unit's name, "unknown" when the manager gave none).
	Name string
	net.Listener
}

// Listeners returns the stream sockets passed to this process by socket
// activation, in descriptor order, using the process environment
// ($LISTEN_PID, $LISTEN_FDS, $LISTEN_FDNAMES). It returns none when the
// variables are unset or meant for another process. When unset is true it
// removes the variables, so that a child process does not take them for
// its own. The passed descriptors are closed after being wrapped: the
// returned listeners hold their own duplicates.
func Listeners(unset bool) ([]Listener, error) {
	pid, fds, names := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS"), os.Getenv("LISTEN_FDNAMES")
	if unset {
		for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
			_ = os.Unsetenv(k)
		}
	}
	return listeners(pid, fds, names, os.Getpid())
}

func listeners(pidVar, fdsVar, namesVar string, self int) ([]Listener, error) {
	if pidVar == "" || fdsVar == "" {
		return nil, nil
	}
	pid, err := strconv.Atoi(pidVar)
	if err != nil {
		return nil, fmt.Errorf("systemd: LISTEN_PID=%q: %w", pidVar, err)
	}
	if pid != self {
		return nil, nil // meant for another process (a parent that did not unset it)
	}
	n, err := strconv.Atoi(fdsVar)
	if err != nil || n < 0 || n > 1024 {
		return nil, fmt.Errorf("systemd: LISTEN_FDS=%q: not a descriptor count", fdsVar)
	}
	var names []string
	if namesVar != "" {
		names = strings.Split(namesVar, ":")
	}
	out := make([]Listener, 0, n)
	for i := range n {
		fd := listenFdsStart + i
		name := "unknown"
		if i < len(names) && names[i] != "" {
			name = names[i]
		}
		syscall.CloseOnExec(fd)
		f := os.NewFile(uintptr(fd), name)
		ln, err := net.FileListener(f)
		_ = f.Close()
		if err != nil {
			for _, l := range out {
				_ = l.Close()
			}
			return nil, fmt.Errorf("systemd: passed descriptor %d (%s) is not a listening stream socket: %w", fd, name, err)
		}
		out = append(out, Listener{Name: name, Listener: ln})
	}
	return out, nil
}
