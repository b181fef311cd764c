package cluster_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"telchat/cluster"
	"telchat/internal/servertest"
)

// startNATSCluster runs n embedded NATS nodes routed to each other on
// loopback (cluster "tc"), JetStream each in its own temp dir, and waits
// until their JetStream cluster has a meta leader that every node
// follows.
func startNATSCluster(tb testing.TB, n int) []*server.Server {
	tb.Helper()
	nodes, _ := startNATSClusterOpts(tb, n)
	return nodes
}

// startNATSClusterOpts is startNATSCluster that also returns each node's
// options, to start it again (startNATSNode) on the same ports and store.
func startNATSClusterOpts(tb testing.TB, n int) ([]*server.Server, []server.Options) {
	tb.Helper()
	ports := freePorts(tb, 2*n)
	var routes []string
	for _, p := range ports[:n] {
		routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(p))
	}
	nodes := make([]*server.Server, n)
	opts := make([]server.Options, n)
	for i := range n {
		opts[i] = server.Options{
			ServerName: fmt.Sprintf("n%d", i),
			Host:       "127.0.0.1", Port: ports[n+i], JetStream: true, StoreDir: tb.TempDir(),
			NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "tc", Host: "127.0.0.1", Port: ports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		}
		nodes[i] = startNATSNode(tb, opts[i])
	}
	waitJetStreamCluster(tb, nodes)
	return nodes, opts
}

// startNATSNode starts a node of a NATS cluster with (a copy of) o and
// waits until it takes connections.
func startNATSNode(tb testing.TB, o server.Options) *server.Server {
	tb.Helper()
	ns, err := server.NewServer(&o)
	if err != nil {
		tb.Fatalf("nats node %s: %v", o.ServerName, err)
	}
	go ns.Start()
	tb.Cleanup(func() { stopNATS(ns) })
	if !ns.ReadyForConnections(servertest.Timeout) {
		tb.Fatalf("nats node %s not ready", o.ServerName)
	}
	return ns
}

// waitJetStreamCluster waits until the nodes' JetStream cluster has a
// meta leader that every node follows.
func waitJetStreamCluster(tb testing.TB, nodes []*server.Server) {
	tb.Helper()
	n := len(nodes)
	servertest.WaitFor(tb, "a JetStream meta leader known to every node", func() bool {
		leaders := 0
		for _, ns := range nodes {
			if ns.JetStreamIsLeader() {
				leaders++
				if len(ns.JetStreamClusterPeers()) != n { // known to the leader only
					return false
				}
			}
			if !ns.JetStreamIsCurrent() {
				return false
			}
		}
		return leaders == 1
	})
}

// freePorts finds n free TCP ports on 127.0.0.1 (for the route
// listeners, which must be known before the nodes start).
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("listen: %v", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// TestNATSNodeDies: in a 3-node NATS cluster with three telchat servers,
// each connected to a different node (given only its own node's URL: it
// learns the others from the node and reconnects to one of them), one
// NATS node dies while users on every server chat in a room from several
// senders. Every recipient gets every line exactly once, each sender's in
// order, and nobody is shown as left: the node of a telchat server, and
// (in turn) the node leading the feed stream.
func TestNATSNodeDies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		leader bool // kill the feed stream's leader, else another node
	}{
		{"a server's node", false},
		{"the stream leader", true},
	} {
		t.Run(tc.name, func(t *testing.T) { natsNodeDies(t, tc.leader) })
	}
}

func natsNodeDies(t *testing.T, killLeader bool) {
	const (
		timeout = 15 * time.Second
		lines   = 100                   // per sender
		pace    = 15 * time.Millisecond // between a sender's lines
		killAt  = lines / 3
	)
	nats := startNATSCluster(t, 3)
	ids := []string{"A", "B", "C"}
	nodes := make([]*node, len(nats))
	for i, ns := range nats {
		nodes[i] = startNodeWith(t, ns.ClientURL(), ids[i], nodeOptions{timeout: timeout, replicas: 3, opTimeout: 5 * time.Second})
	}
	var senders, all []*servertest.Client
	for i, n := range nodes {
		s := n.Login(t, strings.ToLower(ids[i])+"1")
		senders = append(senders, s)
		all = append(all, s, n.Login(t, strings.ToLower(ids[i])+"2"))
	}
	var nicks []string
	for _, c := range all {
		nicks = append(nicks, c.Nick)
	}
	for _, c := range all {
		waitWho(t, c, nicks...)
		c.Sync()
	}

	victim := -1
	for i, ns := range nats {
		if ns.JetStreamIsStreamLeader("$G", cluster.FeedStream("telchat")) == killLeader {
			victim = i
			break
		}
	}
	if victim < 0 {
		t.Fatalf("no node with stream leader %v", killLeader)
	}

	// Every user reads until it has each other sender's end line.
	type result struct {
		got  map[string][]int // sender -> line numbers, in the order shown
		bad  []string         // lines that must not be
		err  error
		nick string
	}
	results := make(chan result, len(all))
	for _, c := range all {
		go func() {
			r := result{got: map[string][]int{}, nick: c.Nick}
			ends := 0
			want := len(senders)
			if strings.HasSuffix(c.Nick, "1") {
				want-- // a sender does not see its own lines
			}
			deadline := time.Now().Add(6 * servertest.Timeout)
			for ends < want && time.Now().Before(deadline) {
				// A failover takes some seconds: wait longer than TryLine.
				_ = c.Conn.SetReadDeadline(time.Now().Add(3 * servertest.Timeout))
				l, err := c.R.ReadString('\n')
				l = strings.TrimRight(l, "\r\n")
				if err != nil {
					r.err = err
					break
				}
				from, text, ok := strings.Cut(strings.TrimPrefix(l, "<"), "> ")
				switch {
				case strings.Contains(l, " left #"):
					r.bad = append(r.bad, l)
				case !ok || !strings.HasPrefix(l, "<"):
					// notices: link lost and restored
				case text == "end":
					ends++
				case strings.HasPrefix(text, "ln "):
					n, _ := strconv.Atoi(strings.TrimPrefix(text, "ln "))
					r.got[from] = append(r.got[from], n)
				default:
					r.bad = append(r.bad, l)
				}
			}
			if ends < want && r.err == nil {
				r.err = fmt.Errorf("%d of %d end lines by the deadline", ends, want)
			}
			results <- r
		}()
	}

	var sent atomic.Int64
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				s.Send("ln " + strconv.Itoa(i))
				sent.Add(1)
				time.Sleep(pace) // the pace of a chat, not a synchronization
			}
			s.Send("end")
		}()
	}
	servertest.WaitFor(t, "the senders a third of the way", func() bool { return sent.Load() >= int64(len(senders)*killAt) })
	stopNATS(nats[victim])
	t.Logf("stopped NATS node n%d (stream leader: %v) after %d lines", victim, killLeader, sent.Load())
	wg.Wait()

	for range all {
		r := <-results
		if r.err != nil {
			t.Errorf("%s: %v", r.nick, r.err)
		}
		for _, l := range r.bad {
			t.Errorf("%s was shown %q", r.nick, l)
		}
		for _, s := range senders {
			if s.Nick == r.nick {
				continue
			}
			got := r.got[s.Nick]
			ok := len(got) == lines
			for i := 0; ok && i < lines; i++ {
				ok = got[i] == i
			}
			if !ok {
				t.Errorf("%s got %d lines of %s, want 0..%d once each in order: %v", r.nick, len(got), s.Nick, lines-1, got)
			}
		}
	}
}

// TestFeedStalls: with -cluster-order stream, a feed that stores nothing
// while the connection stays up (two of three NATS nodes gone: JetStream
// has no majority) does not hold back a server's own chat: its users are
// told the link is lost, and their lines are shown at once. When the
// nodes come back, the link is restored, and every line said meanwhile
// reaches the other server, once, in order, and is not shown twice.
func TestFeedStalls(t *testing.T) {
	nats, opts := startNATSClusterOpts(t, 3)
	o := nodeOptions{timeout: 30 * time.Second, replicas: 3, opTimeout: 2 * time.Second, ordered: true}
	a := startNodeWith(t, nats[0].ClientURL(), "A", o)
	b := startNodeWith(t, nats[0].ClientURL(), "B", o)
	alice, ann := a.Login(t, "alice"), a.Login(t, "ann")
	bob := b.Login(t, "bob")
	waitWho(t, bob, "alice", "ann", "bob")
	waitWho(t, ann, "alice", "ann", "bob")
	alice.Send("before")
	ann.Expect("<alice> before")
	bob.Expect("<alice> before")

	stopNATS(nats[1])
	stopNATS(nats[2])
	alice.Send("one")
	// Not stored, so not back: after the publish timeout the link is
	// called down, and from then on lines are shown at once.
	ann.Expect("*** cluster link lost, local chat only")
	alice.Send("two")
	ann.Expect("<alice> two")

	startNATSNode(t, opts[1])
	startNATSNode(t, opts[2])
	// JetStream takes a while to elect its leaders again, and the
	// consumers to start again: wait longer than Expect does. "one" comes
	// back from the feed (late) and is shown then, once, before or after
	// the notice; "two" was shown already.
	var got []string
	for restored := false; !restored; {
		l := slowExpect(t, ann, "")
		restored = l == "*** cluster link restored"
		if strings.HasPrefix(l, "<alice> ") {
			got = append(got, l)
		}
	}
	alice.Send("three")
	for len(got) < 2 {
		got = append(got, slowExpect(t, ann, "<alice> "))
	}
	if got[0] != "<alice> one" || got[1] != "<alice> three" {
		t.Errorf("after the stall ann got %q, want one, then three", got)
	}
	for _, want := range []string{"one", "two", "three"} {
		if l := slowExpect(t, bob, "<alice> "); l != "<alice> "+want {
			t.Errorf("bob got %q, want %q", l, "<alice> "+want)
		}
	}
	// The servers and links stop while the NATS nodes still run (the
	// cleanups would stop the nodes started last first, and a link
	// closing without a JetStream majority waits for its goodbyes in
	// vain).
	for _, n := range []*node{a, b} {
		n.Shutdown()
		ctx, cancel := context.WithTimeout(context.Background(), servertest.Timeout)
		if err := n.link.Close(ctx); err != nil {
			t.Errorf("link close: %v", err)
		}
		cancel()
	}
}

// slowExpect is Client.Expect with a longer wait for each line, for what
// comes after a NATS failover.
func slowExpect(tb testing.TB, c *servertest.Client, want string) string {
	tb.Helper()
	var seen []string
	for {
		_ = c.Conn.SetReadDeadline(time.Now().Add(4 * servertest.Timeout))
		l, err := c.R.ReadString('\n')
		if err != nil {
			tb.Fatalf("%s: waiting for %q: %v; lines seen: %q", c.Nick, want, err, seen)
		}
		l = strings.TrimRight(l, "\r\n")
		if strings.Contains(l, want) {
			return l
		}
		seen = append(seen, l)
	}
}

// TestOneOutageOneNotice: a whole 3-node NATS stopped and started again
// gives each user one "cluster link lost" and one "restored": the link is
// called restored only once an event was stored and one read after the
// reconnect (health.go), not while JetStream still settles; for some
// seconds after the notice no other one comes.
func TestOneOutageOneNotice(t *testing.T) {
	nats, opts := startNATSClusterOpts(t, 3)
	o := nodeOptions{timeout: 15 * time.Second, replicas: 3, opTimeout: 5 * time.Second}
	a := startNodeWith(t, nats[0].ClientURL(), "A", o)
	alice := a.Login(t, "alice")
	for _, ns := range nats {
		stopNATS(ns)
	}
	alice.Expect("*** cluster link lost, local chat only")
	for i := range nats {
		startNATSNode(t, opts[i])
	}
	slowExpect(t, alice, "*** cluster link restored")
	// A bounded look for a flip after the notice (the flips came within
	// a second of an early "restored").
	quiet := time.Now().Add(8 * time.Second)
	for {
		_ = alice.Conn.SetReadDeadline(quiet)
		l, err := alice.R.ReadString('\n')
		if err != nil {
			break // nothing more within the window
		}
		if strings.Contains(l, "cluster link") {
			t.Fatalf("another notice after the outage ended: %q", strings.TrimSpace(l))
		}
	}
}
