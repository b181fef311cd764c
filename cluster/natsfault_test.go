package cluster_test

import (
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
	ports := freePorts(tb, n)
	var routes []string
	for _, p := range ports {
		routes = append(routes, "nats://127.0.0.1:"+strconv.Itoa(p))
	}
	nodes := make([]*server.Server, n)
	for i := range n {
		ns, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i),
			Host:       "127.0.0.1", Port: -1, JetStream: true, StoreDir: tb.TempDir(),
			NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "tc", Host: "127.0.0.1", Port: ports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		})
		if err != nil {
			tb.Fatalf("nats node %d: %v", i, err)
		}
		go ns.Start()
		tb.Cleanup(func() { stopNATS(ns) })
		nodes[i] = ns
	}
	for i, ns := range nodes {
		if !ns.ReadyForConnections(servertest.Timeout) {
			tb.Fatalf("nats node %d not ready", i)
		}
	}
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
	return nodes
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
