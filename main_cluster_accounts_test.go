package main

import (
	"strings"
	"testing"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// startTestNATS runs an embedded NATS server with JetStream (its store in
// a temporary directory) until the test ends, and returns its URL.
func startTestNATS(t *testing.T) string {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(waitLimit) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns.ClientURL()
}

// copiedLog is the log line of a store's accounts copied to the cluster.
const copiedLog = "copied this store's accounts to the cluster"

// TestAccountsJoinTheClusterOnce: a server that ran alone joins a cluster
// with its accounts: they are copied into the cluster's bucket (another
// server asks for their passwords), once: an account removed in the
// cluster does not come back when the first server restarts.
func TestAccountsJoinTheClusterOnce(t *testing.T) {
	bin := buildServer(t)
	url := startTestNATS(t)
	dir1 := t.TempDir()
	s1 := startServer(t, bin, nil, "-data-dir", dir1, "-msg-rate", "0")
	alice, aliceR := login(t, s1.addr, "alice")
	register(t, alice, aliceR, "alice", "alice's secret")
	send(t, alice, "/quit")
	readUntil(t, aliceR, "Goodbye")
	stopServer(t, s1)

	clustered := func(dir, id string) []string {
		return []string{"-data-dir", dir, "-msg-rate", "0", "-nats", url, "-server-id", id}
	}
	s1 = startServer(t, bin, nil, clustered(dir1, "one")...)
	if n := countLogged(s1, copiedLog, `"copied":1`); n != 1 {
		t.Fatalf("the first start in the cluster logged the copy %d times; log: %q", n, s1.logged())
	}
	s2 := startServer(t, bin, nil, clustered(t.TempDir(), "two")...)
	c, r := connect(t, s2.addr)
	send(t, c, "alice")
	readContains(t, r, "Password: ")
	if l := password(t, c, r, "alice's secret"); !strings.Contains(l, "Welcome, alice!") {
		t.Fatalf("alice on the second server: %q", l)
	}
	send(t, c, "/unregister")
	readContains(t, r, "your password: ")
	send(t, c, "alice's secret")
	readUntil(t, r, "alice is no longer registered")
	send(t, c, "/quit")
	readUntil(t, r, "Goodbye")

	stopServer(t, s1)
	s1 = startServer(t, bin, nil, clustered(dir1, "one")...)
	if n := countLogged(s1, copiedLog, ""); n != 0 {
		t.Fatalf("the second start copied the accounts again; log: %q", s1.logged())
	}
	login(t, s1.addr, "alice") // free: no password asked
}

// countLogged counts s's log lines that contain both a and b.
func countLogged(s *server, a, b string) int {
	n := 0
	for _, l := range s.logged() {
		if strings.Contains(l, a) && strings.Contains(l, b) {
			n++
		}
	}
	return n
}
