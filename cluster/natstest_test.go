package cluster_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"telchat/cluster"
	"telchat/hub"
	"telchat/internal/servertest"
	"telchat/store/boltstore"
)

// startNATS runs an embedded NATS server with JetStream, its store in dir,
// on 127.0.0.1:port (-1: any free port).
func startNATS(tb testing.TB, dir string, port int) *server.Server {
	tb.Helper()
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir,
		NoLog: true, NoSigs: true,
	})
	if err != nil {
		tb.Fatalf("nats server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(servertest.Timeout) {
		tb.Fatal("nats server not ready")
	}
	tb.Cleanup(func() { stopNATS(ns) })
	return ns
}

func stopNATS(ns *server.Server) {
	ns.Shutdown()
	ns.WaitForShutdown()
}

func natsPort(ns *server.Server) int {
	_, p, _ := net.SplitHostPort(ns.Addr().String())
	n, _ := strconv.Atoi(p)
	return n
}

// testLog logs to standard error when TELCHAT_TEST_LOG is set.
func testLog() zerolog.Logger {
	if os.Getenv("TELCHAT_TEST_LOG") == "" {
		return zerolog.Nop()
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Timestamp().Logger()
}

// node is one telchat server in the test cluster.
type node struct {
	*servertest.Server
	link    *cluster.Link
	archive *cluster.Archive
}

// startNode runs a telchat server joined to the NATS at url.
func startNode(tb testing.TB, url, id string, timeout time.Duration) *node {
	tb.Helper()
	n := newNode(tb, url, id, timeout, true)
	if err := n.link.Start(n.Hub); err != nil {
		tb.Fatalf("start: %v", err)
	}
	return n
}

// startNodeWith runs a telchat server joined to the NATS at url with
// options (claims and relay on).
func startNodeWith(tb testing.TB, url, id string, o nodeOptions) *node {
	tb.Helper()
	o.claims, o.relay = true, true
	n := newNodeWith(tb, url, id, o)
	if err := n.link.Start(n.Hub); err != nil {
		tb.Fatalf("start: %v", err)
	}
	return n
}

// newNode is startNode without starting the link (the caller does), and
// with or without nickname claims.
func newNode(tb testing.TB, url, id string, timeout time.Duration, claims bool) *node {
	tb.Helper()
	return newNodeWith(tb, url, id, nodeOptions{timeout: timeout, claims: claims, relay: true})
}

// nodeOptions shape a test node: the cluster timeout, nickname claims,
// the relay (without it the hub shares neither lines nor presence: with
// claims off too, two servers that each let a name be taken, as in a
// split).
type nodeOptions struct {
	timeout       time.Duration
	claims, relay bool
	// hubConfig, if set, adjusts the hub's configuration.
	hubConfig func(*hub.Config)
	replicas  int           // JetStream copies (default 1)
	opTimeout time.Duration // default 2s
	ordered   bool          // own room lines shown in the feed's order (-cluster-order stream)
}

// newNodeWith is newNode with options.
func newNodeWith(tb testing.TB, url, id string, o nodeOptions) *node {
	tb.Helper()
	timeout := o.timeout
	if o.opTimeout == 0 {
		o.opTimeout = 2 * time.Second
	}
	link, err := cluster.Dial(context.Background(), cluster.Config{
		URLs: url, ServerID: id, Timeout: timeout, HistorySize: 50,
		ReconnectWait: 50 * time.Millisecond, OpTimeout: o.opTimeout,
		Replicas: o.replicas, StreamOrder: o.ordered, Log: testLog(),
	})
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	// Cleanups run last first: the link closes after the server stopped.
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), servertest.Timeout)
		defer cancel()
		if err := link.Close(ctx); err != nil {
			tb.Errorf("link close: %v", err)
		}
	})
	db, err := boltstore.Open(tb.TempDir(), boltstore.Options{Log: testLog()})
	if err != nil {
		tb.Fatalf("store: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), servertest.Timeout)
		defer cancel()
		if err := db.Close(ctx); err != nil {
			tb.Errorf("store close: %v", err)
		}
	})
	archive := cluster.NewArchive(db, link)
	hc := hub.Config{
		ServerID: id, ClusterTimeout: timeout, ClusterOrdered: o.ordered,
		Archive: archive, HistorySize: 50,
		PasswordCheck: func(pw string) bool { return pw == "sesame" },
		BcryptCost:    bcrypt.MinCost,
	}
	if o.relay {
		hc.Relay = link
	}
	if o.claims {
		hc.Claims = link
	}
	if o.hubConfig != nil {
		o.hubConfig(&hc)
	}
	s := servertest.Start(tb, servertest.Config{Hub: hc})
	return &node{Server: s, link: link, archive: archive}
}

// waitWho sends /who until its answer contains every name in want, or
// fails the test at the deadline.
func waitWho(tb testing.TB, c *servertest.Client, want ...string) string {
	tb.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		c.Send("/who")
		l := c.Expect(" in #")
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			return l
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: /who never showed %q; last %q", c.Nick, want, l)
		}
		time.Sleep(20 * time.Millisecond) // a poll interval, not a synchronization
	}
}
