package systemd

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Notifier sends state changes to the service manager. A nil *Notifier is
// valid and sends nothing.
type Notifier struct {
	addr *net.UnixAddr
}

// NewNotifier returns a Notifier for the socket named by notifySocket (the
// value of $NOTIFY_SOCKET: a path, or "@name" for an abstract socket), or
// nil when notifySocket is empty (not started by systemd).
func NewNotifier(notifySocket string) (*Notifier, error) {
	if notifySocket == "" {
		return nil, nil
	}
	if notifySocket[0] != '/' && notifySocket[0] != '@' {
		return nil, fmt.Errorf("systemd: NOTIFY_SOCKET %q is neither a path nor an abstract socket (@name)", notifySocket)
	}
	return &Notifier{addr: &net.UnixAddr{Name: notifySocket, Net: "unixgram"}}, nil
}

// notifyTimeout bounds a send: the manager reads its socket at once, but a
// service must never hang on it.
const notifyTimeout = 5 * time.Second

// Send sends the given "KEY=value" assignments as one datagram. It does
// nothing on a nil Notifier.
func (n *Notifier) Send(assignments ...string) error {
	if n == nil || len(assignments) == 0 {
		return nil
	}
	for _, a := range assignments {
		if !strings.Contains(a, "=") || strings.Contains(a, "\n") {
			return fmt.Errorf("systemd: notify %q: want one KEY=value per assignment", a)
		}
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("systemd: notify: %w", err)
	}
	defer conn.Close()
	_ = conn.SetWriteDeadline(time.Now().Add(notifyTimeout))
	if _, err := conn.Write([]byte(strings.Join(assignments, "\n") + "\n")); err != nil {
		return fmt.Errorf("systemd: notify: %w", err)
	}
	return nil
}

// Ready says that start-up (or a reload) has finished: the service
// accepts connections.
func (n *Notifier) Ready(status string) error {
	return n.Send(withStatus(status, "READY=1")...)
}

// Reloading says that a reload has begun; Ready says when it is over. The
// monotonic time lets the manager tell this reload from an earlier one
// (Type=notify-reload requires it).
func (n *Notifier) Reloading(status string) error {
	usec, err := monotonicUsec()
	if err != nil {
		return err
	}
	return n.Send(withStatus(status, "RELOADING=1", "MONOTONIC_USEC="+strconv.FormatInt(usec, 10))...)
}

// Stopping says that the service is shutting down.
func (n *Notifier) Stopping(status string) error {
	return n.Send(withStatus(status, "STOPPING=1")...)
}

// Status sets the free-form status line `systemctl status` shows.
func (n *Notifier) Status(status string) error {
	return n.Send(withStatus(status)...)
}

func withStatus(status string, a ...string) []string {
	if status != "" {
		a = append(a, "STATUS="+strings.ReplaceAll(status, "\n", " "))
	}
	return a
}

// monotonicUsec reads CLOCK_MONOTONIC in microseconds, the clock the
// manager compares MONOTONIC_USEC with.
func monotonicUsec() (int64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0, fmt.Errorf("systemd: clock_gettime: %w", err)
	}
	return ts.Nano() / 1000, nil
}
