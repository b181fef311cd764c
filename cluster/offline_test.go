package cluster_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"telchat/internal/servertest"
	"telchat/store"
)

// TestOfflineShared: a message sent on one server to a registered user
// who is away is handed out at their login on another server, once, in
// order, marked; the 100 a recipient may have waiting are counted across
// servers.
func TestOfflineShared(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	opB := b.Login(t, "opb")
	oper(t, opB)
	bob := a.Login(t, "bob")
	register(t, bob, "bob-secret")
	waitAccounts(t, opB, "bob", true)
	bob.Send("/quit")
	bob.ExpectEOF()

	alice := a.Login(t, "alice")
	for i := range 3 {
		alice.Send("/msg bob note " + strconv.Itoa(i))
		alice.Expect("*** bob is not online; they will get your message when they log in: note " + strconv.Itoa(i))
	}
	bob = login(t, b, "bob", "bob-secret", "127.0.0.1")
	bob.Expect("*** 3 messages came while you were away (times in UTC):")
	for i := range 3 {
		if l := bob.Line(); !strings.HasPrefix(l, "[away ") || !strings.HasSuffix(l, "] *alice* note "+strconv.Itoa(i)) {
			t.Errorf("message %d: %q", i, l)
		}
	}
	bob.Expect("*** End of messages")
	bob.Send("/quit")
	bob.ExpectEOF()
	alice.Expect("bob left #lobby (quit)") // A knows bob is gone

	// Not again at the next login (on A): only what came since.
	alice.Send("/msg bob one more")
	alice.Expect("*** bob is not online")
	bob = login(t, a, "bob", "bob-secret", "127.0.0.1")
	if l := bob.Expect("came while you were away"); l != "*** 1 message came while you were away (times in UTC):" {
		t.Errorf("second login: %q", l)
	}
	if l := bob.Line(); !strings.HasSuffix(l, "*alice* one more") {
		t.Errorf("second login's message: %q", l)
	}
	bob.Expect("*** End of messages")
	bob.Send("/quit")
	bob.ExpectEOF()

	// 100 waiting at most, from both servers together.
	carol := b.Login(t, "carol")
	waitGone(t, carol, "bob")
	for _, s := range []struct {
		c    *servertest.Client
		n    int
		mark string
	}{{alice, 60, "a"}, {carol, 40, "c"}} {
		for i := range s.n {
			s.c.Send(fmt.Sprintf("/msg bob %s%d", s.mark, i))
		}
		for range s.n {
			s.c.Expect("*** bob is not online; they will get your message")
		}
	}
	carol.Send("/msg bob one too many")
	carol.Expect("! bob is not online and has too many messages waiting; not sent")
	bob = login(t, b, "bob", "bob-secret", "127.0.0.1")
	bob.Expect("*** 100 messages came while you were away (times in UTC):")
	for i := range 100 {
		want := fmt.Sprintf("*alice* a%d", i)
		if i >= 60 {
			want = fmt.Sprintf("*carol* c%d", i-60)
		}
		if l := bob.Line(); !strings.HasSuffix(l, "] "+want) {
			t.Fatalf("message %d: %q, want %q", i, l, want)
		}
	}
	bob.Expect("*** End of messages")
}

// TestOfflineTakenOnce: two servers take one recipient's messages at the
// same moment; each message is handed out by exactly one of them, and
// each server's share is in order.
func TestOfflineTakenOnce(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	const rounds, n = 5, 50
	base := time.Now()
	for r := range rounds {
		to := "zed" + strconv.Itoa(r)
		errs := make(chan error, n)
		for i := range n {
			a.archive.PutOffline(to, store.Offline{Time: base.Add(time.Duration(i) * time.Millisecond), From: "ann", Text: strconv.Itoa(i)}, func(err error) { errs <- err })
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: put: %v", r, err)
			}
		}
		var wg sync.WaitGroup
		got := make([][]store.Offline, 2)
		for k, n := range []*node{a, b} {
			wg.Add(1)
			n.archive.TakeOffline(to, func(o []store.Offline, err error) {
				defer wg.Done()
				if err != nil {
					t.Errorf("round %d: take on %s: %v", r, n.link.ServerID(), err)
				}
				got[k] = o
			})
		}
		wg.Wait()
		seen := make(map[string]bool)
		for k, share := range got {
			last := -1
			for _, o := range share {
				i, _ := strconv.Atoi(o.Text)
				if seen[o.Text] {
					t.Errorf("round %d: message %s handed out twice", r, o.Text)
				}
				if i <= last {
					t.Errorf("round %d: server %d's share out of order: %d after %d", r, k, i, last)
				}
				seen[o.Text], last = true, i
			}
		}
		if len(seen) != n {
			t.Errorf("round %d: %d of %d messages handed out (shares %d and %d)", r, len(seen), n, len(got[0]), len(got[1]))
		}
	}
}

// waitGone sends /whois nick until c's server no longer knows nick as
// online, or fails the test at the deadline.
func waitGone(t *testing.T, c *servertest.Client, nick string) {
	t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		c.Send("/whois " + nick)
		l := c.Expect(nick)
		if !strings.Contains(l, " is in #") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s still online: %q", c.Nick, nick, l)
		}
		time.Sleep(20 * time.Millisecond) // a poll interval
	}
}
