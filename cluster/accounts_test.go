package cluster_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"telchat/internal/servertest"
	"telchat/store"
	"telchat/usertext"
)

// register makes c's nickname an account with password pw and returns the
// answer line.
func register(t *testing.T, c *servertest.Client, pw string) string {
	t.Helper()
	c.Send("/register")
	c.ExpectText("Password: ")
	c.Send(pw)
	c.ExpectText("Again: ")
	c.Send(pw)
	return c.Expect("registered")
}

// oper logs c in as an admin (the test nodes' /oper password).
func oper(t *testing.T, c *servertest.Client) {
	t.Helper()
	c.Send("/oper sesame")
	c.Expect("You are now an admin")
}

// waitAccounts sends /accounts (as admin c) until nick is listed (want)
// or not, or fails the test at the deadline.
func waitAccounts(t *testing.T, c *servertest.Client, nick string, want bool) {
	t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		c.Send("/accounts")
		lines := c.Sync()
		listed := false
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), nick+" ") {
				listed = true
			}
		}
		if listed == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/accounts on %s: %s listed = %v, want %v; got %q", c.Nick, nick, listed, want, lines)
		}
		time.Sleep(20 * time.Millisecond) // a poll interval, not a synchronization
	}
}

// answerNick dials n from local and gives nick at the prompt, again while
// the answer is that the name is taken (its last holder's claim is on its
// way out); it returns the client and what came after the nickname: the
// password prompt of a registered name, the welcome, or a refusal.
func answerNick(t *testing.T, n *node, nick, local string) (*servertest.Client, string) {
	t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		c := n.DialFrom(t, local)
		c.ExpectPrompt()
		c.Send(nick)
		got := readAnswer(t, c)
		if !strings.Contains(got, "taken") || time.Now().After(deadline) {
			c.Nick = nick
			return c, got
		}
		_ = c.Conn.Close()
		time.Sleep(20 * time.Millisecond) // a poll interval
	}
}

// readAnswer reads the server's answer to a nickname: up to a password
// prompt, the welcome line or another nickname prompt.
func readAnswer(t *testing.T, c *servertest.Client) string {
	t.Helper()
	_ = c.Conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
	var sb strings.Builder
	for {
		b, err := c.R.ReadByte()
		if err != nil {
			t.Fatalf("waiting for the answer to a nickname: %v (got %q)", err, sb.String())
		}
		sb.WriteByte(b)
		s := sb.String()
		if strings.HasSuffix(s, "Password: ") || strings.HasSuffix(s, "Choose a nickname: ") ||
			strings.Contains(s, "*** Welcome, ") && strings.HasSuffix(s, "\n") {
			return s
		}
	}
}

// login logs in to the registered name nick on n with pw, from local, and
// returns the client after the welcome.
func login(t *testing.T, n *node, nick, pw, local string) *servertest.Client {
	t.Helper()
	c, got := answerNick(t, n, nick, local)
	if !strings.HasSuffix(got, "Password: ") {
		t.Fatalf("%s on %s: no password asked: %q", nick, n.link.ServerID(), got)
	}
	c.Send(pw)
	c.Expect("*** Welcome, " + nick + "!")
	c.Expect("You are now in #")
	return c
}

// TestAccountsShared: a name registered on one server asks for its
// password on the other; /passwd on one changes it everywhere; look-alikes
// are refused everywhere; /opers, /drop and /unregister hold everywhere.
func TestAccountsShared(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	opB := b.Login(t, "opb")
	oper(t, opB)
	opA := a.Login(t, "opa")
	oper(t, opA)

	alice := a.Login(t, "alice")
	if l := register(t, alice, "first-secret"); !strings.Contains(l, "*** alice is registered to you") {
		t.Fatalf("register: %q", l)
	}
	waitAccounts(t, opB, "alice", true)
	alice.Send("/quit")
	alice.ExpectEOF()

	// On B the name asks for the password: a wrong one is refused, the
	// right one lets alice in.
	wrong, got := answerNick(t, b, "alice", "127.0.0.2")
	if !strings.Contains(got, "alice is a registered nickname.") || !strings.HasSuffix(got, "Password: ") {
		t.Fatalf("alice on B: %q", got)
	}
	wrong.Send("not-the-password")
	wrong.Expect("! Wrong password")
	_ = wrong.Conn.Close()
	alice = login(t, b, "alice", "first-secret", "127.0.0.1")

	// A look-alike is refused on both servers.
	for _, n := range []*node{a, b} {
		c, got := answerNick(t, n, "aIice", "127.0.0.1")
		if !strings.Contains(got, "alice") || !strings.HasSuffix(got, "Choose a nickname: ") {
			t.Errorf("aIice on %s: %q", n.link.ServerID(), got)
		}
		_ = c.Conn.Close()
	}

	// /passwd on B; A asks for the new password at once.
	alice.Send("/passwd")
	alice.ExpectText("Current password: ")
	alice.Send("first-secret")
	alice.ExpectText("New password: ")
	alice.Send("second-secret")
	alice.ExpectText("Again: ")
	alice.Send("second-secret")
	alice.Expect("*** Password changed")
	alice.Send("/quit")
	alice.ExpectEOF()
	old, got := answerNick(t, a, "alice", "127.0.0.3")
	if !strings.HasSuffix(got, "Password: ") {
		t.Fatalf("alice on A: %q", got)
	}
	old.Send("first-secret")
	old.Expect("! Wrong password")
	_ = old.Conn.Close()
	alice = login(t, a, "alice", "second-secret", "127.0.0.1")

	// An operator account granted on B is an admin at its login on A.
	dave := b.Login(t, "dave")
	register(t, dave, "dave-secret")
	waitAccounts(t, opA, "dave", true)
	opA.Send("/opers add dave")
	opA.Expect("*** The account dave is an operator")
	dave.Send("/quit")
	dave.ExpectEOF()
	dave = login(t, a, "dave", "dave-secret", "127.0.0.1")
	dave.Expect("*** Your account is an operator: you are now an admin")

	// /drop on A removes dave's account on B too.
	opA.Send("/drop dave")
	opA.Expect("*** The account dave is removed")
	waitAccounts(t, opB, "dave", false)

	// /unregister on A: B lets anyone take the name.
	alice.Send("/unregister")
	alice.ExpectText("your password: ")
	alice.Send("second-secret")
	alice.Expect("*** alice is no longer registered")
	waitAccounts(t, opB, "alice", false)
	alice.Send("/quit")
	alice.ExpectEOF()
	c, got := answerNick(t, b, "alice", "127.0.0.1")
	if !strings.Contains(got, "*** Welcome, alice!") {
		t.Errorf("alice on B after /unregister: %q", got)
	}
	_ = c.Conn.Close()
}

// TestRegisterRace: two users hold one name on two servers (a split: each
// server let its user take it) and register it at the same moment;
// exactly one gets it, every round, and the other is told.
func TestRegisterRace(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	split := nodeOptions{timeout: 5 * time.Second}
	a := newNodeWith(t, ns.ClientURL(), "A", split)
	b := newNodeWith(t, ns.ClientURL(), "B", split)
	for _, n := range []*node{a, b} {
		if err := n.link.Start(n.Hub); err != nil {
			t.Fatal(err)
		}
	}
	const rounds = 10
	for i := range rounds {
		name := "racer" + strconv.Itoa(i)
		c1, c2 := a.Login(t, name), b.Login(t, name)
		for _, c := range []*servertest.Client{c1, c2} {
			c.Send("/register")
			c.ExpectText("Password: ")
			c.Send("race-secret-" + strconv.Itoa(i))
			c.ExpectText("Again: ")
		}
		c1.Send("race-secret-" + strconv.Itoa(i))
		c2.Send("race-secret-" + strconv.Itoa(i))
		won := make(chan string, 2)
		for _, c := range []*servertest.Client{c1, c2} {
			go func() {
				for {
					l, err := c.TryLine()
					if err != nil {
						won <- "error: " + err.Error()
						return
					}
					if strings.Contains(l, "registered") {
						won <- l
						return
					}
				}
			}()
		}
		r1, r2 := <-won, <-won
		w1 := strings.Contains(r1, "is registered to you")
		w2 := strings.Contains(r2, "is registered to you")
		if w1 == w2 {
			t.Fatalf("round %d: answers %q and %q, want exactly one registration", i, r1, r2)
		}
		loser := r2
		if w2 {
			loser = r1
		}
		if !strings.Contains(loser, "That nickname is registered") {
			t.Errorf("round %d: the other was told %q", i, loser)
		}
		_ = c1.Conn.Close()
		_ = c2.Conn.Close()
	}
}

// TestAccountsLinkDown: while this server's NATS link is down, account
// changes and logins to registered names are refused with one clear line
// (nobody gets in without the cluster's word); once it is back they work.
func TestAccountsLinkDown(t *testing.T) {
	dir := t.TempDir()
	ns := startNATS(t, dir, -1)
	port := natsPort(ns)
	a := startNode(t, ns.ClientURL(), "A", 10*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 10*time.Second)
	alice := a.Login(t, "alice")
	register(t, alice, "alice-secret")
	bob := a.Login(t, "bob")
	opB := b.Login(t, "opb")
	oper(t, opB)

	stopNATS(ns)
	alice.Expect("*** cluster link lost, local chat only")
	bob.Expect("*** cluster link lost, local chat only")
	alice.Send("/passwd")
	alice.Expect("! Accounts cannot be checked right now; try again in a moment")
	bob.Send("/register")
	bob.Expect("! Accounts cannot be checked right now; try again in a moment")
	alice.Send("/quit")
	alice.ExpectEOF()
	bob.Send("/msg alice are you there?")
	bob.Expect("! alice is not online, and messages for them cannot be kept right now; try again in a moment")
	c := a.Dial(t)
	c.ExpectPrompt()
	c.Send("alice")
	c.ExpectText("Password: ")
	c.Send("alice-secret")
	if l := c.Expect("!"); !strings.Contains(l, "Accounts cannot be checked right now; try again in a moment") {
		t.Errorf("login with the link down: %q", l)
	}
	c.ExpectPrompt()

	startNATS(t, dir, port)
	bob.Expect("*** cluster link restored")
	opB.Expect("*** cluster link restored")
	login(t, a, "alice", "alice-secret", "127.0.0.1")
	// The watches came back: a registration on A reaches B.
	register(t, bob, "bob-secret")
	waitAccounts(t, opB, "bob", true)
}

// TestAccountsImported: a server that joins a cluster with accounts in
// its own store copies those the cluster has no account for (or for a
// look-alike of); the cluster's account wins a clash.
func TestAccountsImported(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	alice := a.Login(t, "alice")
	register(t, alice, "cluster-secret")

	// B joins with accounts of its own (from its disk store): an Alice
	// and a carol.
	b := newNode(t, ns.ClientURL(), "B", 5*time.Second, true)
	copied, kept, err := b.link.ImportAccounts(context.Background(), map[string]store.Account{
		"alice": {Nick: "Alice", Hash: []byte("x"), Created: time.Now()},
		"carol": {Nick: "carol", Hash: hashOf(t, "carol-secret"), Created: time.Now()},
	}, usertext.NickRules{}.Lookalike)
	if err != nil || copied != 1 || len(kept) != 1 || kept[0] != "Alice" {
		t.Fatalf("import = %d, %q, %v; want 1 copied, Alice kept", copied, kept, err)
	}
	if err := b.link.Start(b.Hub); err != nil {
		t.Fatal(err)
	}
	alice.Send("/quit")
	alice.ExpectEOF()
	login(t, b, "alice", "cluster-secret", "127.0.0.1")
	login(t, a, "carol", "carol-secret", "127.0.0.1")
}

// hashOf is pw's bcrypt hash at the lowest cost.
func hashOf(t *testing.T, pw string) []byte {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
