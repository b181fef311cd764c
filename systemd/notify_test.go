package systemd

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listenNotify opens a unixgram socket like the manager's and returns its
// address and a function that reads one datagram.
func listenNotify(t *testing.T, addr string) func() string {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return func() string {
		t.Helper()
		buf := make([]byte, 4096)
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("reading the notification: %v", err)
		}
		return string(buf[:n])
	}
}

func TestNotifier(t *testing.T) {
	for _, addr := range []string{
		filepath.Join(t.TempDir(), "notify.sock"),
		"@telchat-test-" + strconv.FormatInt(time.Now().UnixNano(), 36), // abstract, as systemd's own
	} {
		t.Run(addr[:1], func(t *testing.T) {
			read := listenNotify(t, addr)
			n, err := NewNotifier(addr)
			if err != nil || n == nil {
				t.Fatalf("NewNotifier: %v, %v", n, err)
			}
			tests := []struct {
				send func() error
				want string
			}{
				{func() error { return n.Ready("serving") }, "READY=1\nSTATUS=serving\n"},
				{func() error { return n.Stopping("") }, "STOPPING=1\n"},
				{func() error { return n.Status("3 users\nnow") }, "STATUS=3 users now\n"},
			}
			for _, tc := range tests {
				if err := tc.send(); err != nil {
					t.Fatal(err)
				}
				if got := read(); got != tc.want {
					t.Errorf("got %q, want %q", got, tc.want)
				}
			}

			before, _ := monotonicUsec()
			if err := n.Reloading("reloading"); err != nil {
				t.Fatal(err)
			}
			after, _ := monotonicUsec()
			got := read()
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			if len(lines) != 3 || lines[0] != "RELOADING=1" || lines[2] != "STATUS=reloading" || !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
				t.Fatalf("reloading sent %q", got)
			}
			usec, err := strconv.ParseInt(strings.TrimPrefix(lines[1], "MONOTONIC_USEC="), 10, 64)
			if err != nil || usec < before || usec > after {
				t.Errorf("MONOTONIC_USEC %d (%v) not within [%d, %d]", usec, err, before, after)
			}
		})
	}
}

func TestNotifierOff(t *testing.T) {
	n, err := NewNotifier("")
	if n != nil || err != nil {
		t.Fatalf("NewNotifier(\"\") = %v, %v; want nil, nil", n, err)
	}
	if err := n.Ready("x"); err != nil {
		t.Errorf("nil Notifier: %v", err)
	}
	if _, err := NewNotifier("relative/path"); err == nil {
		t.Error("a relative NOTIFY_SOCKET was accepted")
	}
	gone, _ := NewNotifier(filepath.Join(t.TempDir(), "nobody-listens"))
	if err := gone.Ready(""); err == nil {
		t.Error("sending to a missing socket did not fail")
	}
	ok, _ := NewNotifier("/x")
	if err := ok.Send("no equals sign"); err == nil {
		t.Error("an assignment without = was sent")
	}
}

func TestListenersEnv(t *testing.T) {
	tests := []struct {
		name, pid, fds, names string
		wantErr               bool
	}{
		{"unset", "", "", "", false},
		{"another process", "1", "2", "chat:tls", false},
		{"bad pid", "x", "1", "", true},
		{"bad count", "42", "-1", "", true},
		{"huge count", "42", "100000", "", true},
		{"zero", "42", "0", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ls, err := listeners(tc.pid, tc.fds, tc.names, 42)
			if (err != nil) != tc.wantErr || len(ls) != 0 {
				t.Errorf("listeners = %v, %v; want none, error %v", ls, err, tc.wantErr)
			}
		})
	}
}
