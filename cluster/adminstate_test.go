package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"telchat/hub"
	"telchat/internal/servertest"
)

// stopNode stops a node as a clean shutdown does: its server, then its
// link.
func stopNode(tb testing.TB, n *node) {
	tb.Helper()
	n.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), servertest.Timeout)
	defer cancel()
	if err := n.link.Close(ctx); err != nil {
		tb.Fatalf("link close: %v", err)
	}
}

// loginAdmin logs nick in on n and makes it an admin.
func loginAdmin(tb testing.TB, n *node, nick string) *servertest.Client {
	tb.Helper()
	c := n.Login(tb, nick)
	c.Send("/oper sesame")
	c.Expect("You are now an admin")
	return c
}

// TestMutesShared: a /mute on one server silences the user on another,
// holds when that server restarts (the user comes back muted) and on a
// server started later; /unmute on any server lifts it everywhere.
func TestMutesShared(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	alice := loginAdmin(t, a, "alice")
	bob := b.Login(t, "bob")
	alice.Expect("bob joined #lobby")
	alice.Send("/clients")
	alice.Expect("*** 1 connection on server A:")

	alice.Send("/mute bob")
	alice.Expect("*** Muted bob until /unmute")
	bob.Expect("*** You have been muted by alice")
	bob.Send("can anyone hear me")
	bob.Expect("You are muted; your message was not sent")
	alice.Send("/whois bob")
	if l := alice.Expect("*** bob is in #lobby"); !strings.Contains(l, ", muted") {
		t.Errorf("/whois of a muted user of another server: %q", l)
	}

	// B restarts, with nothing on its disk: the mute comes from the bucket.
	stopNode(t, b)
	alice.Expect("bob left #lobby")
	b = startNode(t, ns.ClientURL(), "B", 5*time.Second)
	bob = b.Login(t, "bob")
	bob.Send("back again")
	bob.Expect("You are muted; your message was not sent")
	bea := loginAdmin(t, b, "bea")
	bea.Send("/whois bob")
	if l := bea.Expect("*** bob is in #"); !strings.Contains(l, ", muted") {
		t.Errorf("after B restarted: %q", l)
	}

	// A timed mute on a user of A, set on B, reaches a server started
	// later.
	ann := a.Login(t, "ann")
	bea.Expect("ann joined #lobby")
	bea.Send("/mute ann 1h")
	bea.Expect("*** Muted ann for 1h0m0s")
	ann.Expect("*** You have been muted by bea for 1h0m0s")
	c := startNode(t, ns.ClientURL(), "C", 5*time.Second)
	carl := loginAdmin(t, c, "carl")
	ann.Send("/quit")
	alice.Expect("ann left #lobby (quit)")
	servertest.WaitFor(t, "ann's name free", func() bool {
		l := c.Dial(t)
		l.ExpectPrompt()
		l.Send("ann")
		ok := nickAnswer(l)
		if ok {
			l.Nick = "ann"
			l.Send("still muted?")
			l.Expect("You are muted; your message was not sent")
		}
		return ok
	})

	// /unmute on C lifts bob's mute on B.
	carl.Send("/unmute bob")
	carl.Expect("*** Unmuted bob")
	bob.Expect("*** You may speak again")
	bob.Send("thank you")
	alice.Expect("<bob> thank you")
	carl.Send("/unmute bob")
	carl.Expect("There is no mute on bob")

	// Quick changes one after the other: each is answered as made, never
	// undone by the late echo of the one before, and all servers end
	// with the last.
	for i := range 50 {
		alice.Send("/mute bob 1h")
		alice.Expect("*** Muted bob for 1h0m0s")
		alice.Send("/unmute bob")
		if l := alice.Line(); l != "*** Unmuted bob" {
			t.Fatalf("round %d: after /mute, /unmute answered %q", i, l)
		}
	}
	alice.Send("/mute bob")
	alice.Expect("*** Muted bob until /unmute")
	waitAnswer(t, bob, "say something", "You are muted")
	carl.Send("/unmute bob")
	carl.Expect("*** Unmuted bob")
	waitAnswer(t, alice, "/unmute bob", "There is no mute on bob")
}

// waitAnswer sends cmd until a line of its answer contains want, or fails
// the test at the deadline: for a change that reaches a running server a
// moment after it was stored.
func waitAnswer(tb testing.TB, c *servertest.Client, cmd, want string) {
	tb.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		c.Send(cmd)
		lines := c.Sync()
		for _, l := range lines {
			if strings.Contains(l, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: %s never answered %q; last %q", c.Nick, cmd, want, lines)
		}
		time.Sleep(20 * time.Millisecond) // a poll interval
	}
}

// TestMOTDShared: the message of the day set on one server shows at login
// on another and on a server started later; a restarted server keeps it.
func TestMOTDShared(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	alice := loginAdmin(t, a, "alice")
	bert := b.Login(t, "bert")
	alice.Send("/motd set be kind to each other")
	alice.Expect("*** Message of the day set")
	waitAnswer(t, bert, "/motd", "*** be kind to each other")

	motdAtLogin := func(n *node, nick string) {
		t.Helper()
		c := n.Dial(t)
		c.ExpectPrompt()
		c.Send(nick)
		c.Expect("Welcome")
		c.Expect("*** be kind to each other")
	}
	motdAtLogin(b, "bob")
	c := startNode(t, ns.ClientURL(), "C", 5*time.Second)
	motdAtLogin(c, "carol")
	stopNode(t, b)
	b = startNode(t, ns.ClientURL(), "B", 5*time.Second)
	motdAtLogin(b, "bea")
}

// TestMOTDFile: a server started with a MOTD file puts it in the cluster:
// it replaces the MOTD an admin set, on every server.
func TestMOTDFile(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	alice := loginAdmin(t, a, "alice")
	alice.Send("/motd set old news")
	alice.Expect("*** Message of the day set")
	b := newNodeWith(t, ns.ClientURL(), "B", nodeOptions{timeout: 5 * time.Second, claims: true, relay: true,
		hubConfig: func(hc *hub.Config) { hc.State.MOTD, hc.MOTDFromFile = "from the file", true }})
	if err := b.link.Start(b.Hub); err != nil {
		t.Fatal(err)
	}
	bob := b.Login(t, "bob")
	bob.Send("/motd")
	bob.Expect("*** from the file")
	waitAnswer(t, alice, "/motd", "*** from the file")
}

// TestTopicsShared: an admin's topic is shown on every server, also for a
// room that appears on a server later and on a server started later, and
// a restarted server keeps it.
func TestTopicsShared(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	alice := loginAdmin(t, a, "alice")
	bert := b.Login(t, "bert")
	alice.Send("/join den")
	alice.Expect("You are now in #den")
	alice.Send("/topic a quiet place")
	alice.Expect("*** The topic of #den is saved")
	alice.Send("/part")
	alice.Expect("You are now in #lobby")
	waitAnswer(t, bert, "/rooms", "#den (0) a quiet place")

	topicOnJoin := func(n *node, nick string) {
		t.Helper()
		c := n.Login(t, nick)
		c.Send("/join den")
		c.Expect("You are now in #den")
		c.Expect("*** Topic for #den: a quiet place")
	}
	topicOnJoin(b, "bob") // den does not exist on B but for its topic
	c := startNode(t, ns.ClientURL(), "C", 5*time.Second)
	topicOnJoin(c, "carol")
	stopNode(t, b)
	b = startNode(t, ns.ClientURL(), "B", 5*time.Second)
	topicOnJoin(b, "bea")

	// A change on C reaches A.
	carl := loginAdmin(t, c, "carl")
	carl.Send("/join den")
	carl.Expect("You are now in #den")
	carl.Send("/topic a louder place")
	carl.Expect("*** The topic of #den is saved")
	waitAnswer(t, alice, "/rooms", "a louder place")
}

// TestPrivateRefusedReported: a private message refused on the
// recipient's server (its budget) is reported to the sender.
func TestPrivateRefusedReported(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := newNodeWith(t, ns.ClientURL(), "B", nodeOptions{timeout: 5 * time.Second, claims: true, relay: true,
		hubConfig: func(hc *hub.Config) { hc.PrivateRate, hc.PrivateBurst = 1, 40 }})
	if err := b.link.Start(b.Hub); err != nil {
		t.Fatal(err)
	}
	alice := a.Login(t, "alice")
	bob := b.Login(t, "bob")
	alice.Expect("bob joined #lobby")
	alice.Send("/msg bob first, which fits")
	bob.Expect("*alice* first, which fits")
	alice.Send("/msg bob second, which does not")
	alice.Expect("-> *bob* second, which does not")
	if l := alice.Expect("Not sent"); !strings.HasPrefix(l, "! Not sent: bob is busy") {
		t.Errorf("the refusal: %q", l)
	}
}

// TestAdminChangeLinkDown: an admin change made while the link is down
// holds on this server, and the admin is told that the cluster did not
// store it.
func TestAdminChangeLinkDown(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	alice := loginAdmin(t, a, "alice")
	bob := a.Login(t, "bob")
	alice.Expect("bob joined #lobby")
	stopNATS(ns)
	alice.Expect("*** cluster link lost, local chat only")
	alice.Send("/mute bob")
	bob.Expect("*** You have been muted by alice")
	alice.Expect("! The mute on bob is in force on this server only: the cluster did not store it")
	alice.Expect("*** Muted bob until /unmute")
	bob.Send("hello")
	bob.Expect("You are muted")
}

// BenchmarkMuteCrossServer: an admin on server A mutes, then unmutes, a
// user on server B, one change at a time: ns/op is two admin changes,
// each until both the user (told by B, from the bucket's watch) and the
// admin (answered once the bucket stored it) have heard.
func BenchmarkMuteCrossServer(b *testing.B) {
	ns := startNATS(b, b.TempDir(), -1)
	a := startNode(b, ns.ClientURL(), "A", 30*time.Second)
	bn := startNode(b, ns.ClientURL(), "B", 30*time.Second)
	alice := loginAdmin(b, a, "alice")
	bob := bn.Login(b, "bob")
	alice.Expect("bob joined #lobby")
	b.ResetTimer()
	for range b.N {
		alice.Send("/mute bob")
		alice.Expect("*** Muted bob")
		bob.Expect("*** You have been muted")
		alice.Send("/unmute bob")
		alice.Expect("*** Unmuted bob")
		bob.Expect("*** You may speak again")
	}
}
