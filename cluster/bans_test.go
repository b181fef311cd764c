package cluster_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"telchat/cluster"
	"telchat/internal/servertest"
)

// TestBanRounds: quick bans and unbans of one address on two servers at
// once, round after round, end the same on every server: as the bucket's
// last value says. A quick /ban, /unban, /ban on one server leaves the
// address banned everywhere (the late echo of the /unban does not lift
// the second /ban).
func TestBanRounds(t *testing.T) {
	const (
		rounds = 25
		addr   = "127.0.0.9"
	)
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	alice := loginAdmin(t, a, "alice")
	bea := loginAdmin(t, b, "bea")

	// answers reads n answers to /ban and /unban from c.
	answers := func(c *servertest.Client, n int) {
		t.Helper()
		for n > 0 {
			l := c.Line()
			if strings.HasPrefix(l, "*** Banned") || strings.HasPrefix(l, "*** Unbanned") || strings.HasPrefix(l, "! No such ban") {
				n--
			}
		}
	}
	for range rounds {
		for _, cmd := range []string{"/ban " + addr + " round", "/unban " + addr, "/ban " + addr + " round"} {
			alice.Send(cmd)
		}
		for _, cmd := range []string{"/unban " + addr, "/ban " + addr + " round", "/unban " + addr} {
			bea.Send(cmd)
		}
		answers(alice, 3)
		answers(bea, 3)
	}
	want := bucketBanned(t, ns.ClientURL(), addr)
	t.Logf("after %d rounds the bucket says banned: %v", rounds, want)
	settled(t, bea, a)
	settled(t, alice, b)
	for _, n := range []*node{a, b} {
		if got := refused(t, n, addr); got != want {
			t.Errorf("after %d rounds: banned %v on a server, want %v as in the bucket", rounds, got, want)
		}
	}

	// One server alone, the last change a ban.
	for _, cmd := range []string{"/ban " + addr + " last", "/unban " + addr, "/ban " + addr + " last"} {
		alice.Send(cmd)
	}
	answers(alice, 3)
	if !bucketBanned(t, ns.ClientURL(), addr) {
		t.Fatal("the bucket says not banned after /ban, /unban, /ban")
	}
	settled(t, bea, a)
	settled(t, alice, b)
	for _, n := range []*node{a, b} {
		if !refused(t, n, addr) {
			t.Error("after /ban, /unban, /ban on one server: not banned on a server")
		}
	}
}

// settled bans a marker address from admin and waits until n, a node of
// another server, refuses it, then lifts the ban: the bucket's watch
// hands on values in order, so n has then applied every value put
// before.
func settled(tb testing.TB, admin *servertest.Client, n *node) {
	tb.Helper()
	const addr = "127.0.0.10"
	admin.Send("/ban " + addr + " marker")
	admin.Expect("*** Banned " + addr)
	waitRefused(tb, n, addr, true)
	admin.Send("/unban " + addr)
	admin.Expect("*** Unbanned " + addr)
	waitRefused(tb, n, addr, false)
}

// refused connects to n from addr and reports whether it is refused as
// banned.
func refused(tb testing.TB, n *node, addr string) bool {
	tb.Helper()
	c := n.DialFrom(tb, addr)
	defer c.Conn.Close()
	return strings.Contains(c.Line(), "banned")
}

// bucketBanned reads whether the ban bucket holds a ban on the mask.
func bucketBanned(tb testing.TB, url, mask string) bool {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), servertest.Timeout)
	defer cancel()
	kv, err := js.KeyValue(ctx, cluster.BanBucket("telchat"))
	if err != nil {
		tb.Fatalf("ban bucket: %v", err)
	}
	e, err := kv.Get(ctx, "b."+hex.EncodeToString([]byte(mask)))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false
	}
	if err != nil {
		tb.Fatalf("get: %v", err)
	}
	var r struct {
		Unban bool `json:"unban"`
	}
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		tb.Fatalf("ban record %q: %v", e.Value(), err)
	}
	return !r.Unban
}
