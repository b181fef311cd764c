package cluster_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBurstCross: 20,000 lines sent back to back by a user on server A
// all reach a user on server B, in order: the link queues what the
// publisher has not taken yet (more than the 8,192 events its buffer used
// to hold) instead of dropping it, and the hub never waits for it.
func TestBurstCross(t *testing.T) {
	if testing.Short() {
		t.Skip("a burst of 20,000 lines")
	}
	const lines = 20000
	ns := startNATS(t, t.TempDir(), -1)
	o := nodeOptions{timeout: 30 * time.Second}
	a := startNodeWith(t, ns.ClientURL(), "A", o)
	b := startNodeWith(t, ns.ClientURL(), "B", o)
	alice := a.Login(t, "alice")
	bob := b.Login(t, "bob")
	alice.Expect("bob joined #lobby")
	waitWho(t, bob, "alice")
	bob.Sync()
	before := a.link.Stats()

	// alice's own screen is read (and thrown away) so that she is never
	// cut as a slow reader; it ends when her connection is closed.
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for {
			if _, err := alice.TryLine(); err != nil {
				return
			}
		}
	}()
	defer func() { _ = alice.Conn.Close(); <-drained }()

	got := make(chan error, 1)
	go func() {
		for i := range lines {
			want := "<alice> b" + strconv.Itoa(i)
			l, err := bob.TryLine()
			for err == nil && l != want && !strings.HasPrefix(l, "<alice> ") {
				l, err = bob.TryLine() // not a line of alice's: skip it
			}
			if err != nil {
				got <- err
				return
			}
			if l != want {
				got <- fmt.Errorf("line %d: got %q, want %q", i, l, want)
				return
			}
		}
		got <- nil
	}()
	for i := range lines {
		alice.Send("b" + strconv.Itoa(i))
	}
	// Each read waits at most servertest.Timeout: the loop ends.
	if err := <-got; err != nil {
		s := a.link.Stats()
		t.Fatalf("bob: %v (A's link: %d published, %d dropped)", err, s.Published-before.Published, s.Dropped-before.Dropped)
	}
	if d := a.link.Stats().Dropped - before.Dropped; d != 0 {
		t.Errorf("A's link dropped %d events", d)
	}
}
