package cluster_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"telchat/cluster"
	"telchat/internal/servertest"
)

// TestAdminWatchResumes: bans and mutes set on another server while this
// server's NATS link is cut, and right after it is restored, apply here
// within a few seconds of the link coming back (not after the 10 to 20 s
// a bucket watch takes to notice, by itself, that it missed something).
func TestAdminWatchResumes(t *testing.T) {
	const prompt = 5 * time.Second // far below 10 s, far above a reconnect
	ns := startNATS(t, t.TempDir(), -1)
	p := startProxy(t, ns.Addr().String())
	a := startNode(t, p.URL(), "A", 15*time.Second)
	aStarted := time.Now()
	b := startNode(t, ns.ClientURL(), "B", 15*time.Second)
	bob := a.Login(t, "bob")
	carl := a.Login(t, "carl")
	eve := a.LoginFrom(t, "eve", "127.0.0.7")
	fay := a.LoginFrom(t, "fay", "127.0.0.8")
	bea := loginAdmin(t, b, "bea")
	waitWho(t, bea, "bob", "carl", "eve", "fay")

	p.cut()
	bob.Expect("*** cluster link lost, local chat only")
	bea.Send("/ban 127.0.0.7 during")
	bea.Expect("127.0.0.7")
	bea.Send("/mute bob")
	bea.Expect("*** Muted bob until /unmute")
	// The NATS server drops A's watches after a few seconds without
	// interest: after that, a watch by itself only notices from missing
	// heartbeats.
	waitConsumers(t, ns.ClientURL(), 1, cluster.BanBucket("telchat"), cluster.AdminBucket("telchat"))
	// A watch checks for heartbeats every 10 s from its start: the link
	// comes back just after such a check, so that a watch left to itself
	// would be 10 s late, not merely a few. (A phase, not a
	// synchronization: the fixed watch passes at any phase.)
	time.Sleep(time.Until(aStarted.Add(10*time.Second + 500*time.Millisecond)))

	p.restore()
	restored := time.Now()
	bea.Send("/ban 127.0.0.8 after")
	bea.Expect("127.0.0.8")
	bea.Send("/mute carl")
	bea.Expect("*** Muted carl until /unmute")

	for _, tc := range []struct {
		c    *servertest.Client
		want string
	}{
		{eve, "You were banned by bea: during"},
		{fay, "You were banned by bea: after"},
		{bob, "*** You have been muted by bea"},
		{carl, "*** You have been muted by bea"},
	} {
		if err := expectBy(tc.c, tc.want, restored.Add(prompt)); err != nil {
			t.Errorf("%s, %v after the link came back: %v", tc.c.Nick, prompt, err)
		}
	}
	t.Logf("applied on A within %v after the link came back", time.Since(restored).Round(time.Millisecond))
}

// waitConsumers waits until each bucket's stream has n consumers.
func waitConsumers(tb testing.TB, url string, n int, buckets ...string) {
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
	deadline := time.Now().Add(servertest.Timeout)
	for _, bk := range buckets {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), servertest.Timeout)
			s, err := js.Stream(ctx, "KV_"+bk)
			var got int
			if err == nil {
				var info *jetstream.StreamInfo
				if info, err = s.Info(ctx); err == nil {
					got = info.State.Consumers
				}
			}
			cancel()
			if err == nil && got == n {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("%s: want %d consumers, have %d (%v)", bk, n, got, err)
			}
			time.Sleep(100 * time.Millisecond) // a poll interval
		}
	}
}

// expectBy reads lines of c until one contains want, up to deadline.
func expectBy(c *servertest.Client, want string, deadline time.Time) error {
	var seen []string
	for {
		_ = c.Conn.SetReadDeadline(deadline)
		l, err := c.R.ReadString('\n')
		if err != nil {
			return fmt.Errorf("no %q: %w; lines seen: %q", want, err, seen)
		}
		if strings.Contains(l, want) {
			return nil
		}
		seen = append(seen, strings.TrimRight(l, "\r\n"))
	}
}
