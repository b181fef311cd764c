package cluster_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"telchat/internal/servertest"
)

// TestChatCrosses: two telchat servers on one NATS are one chat: chat,
// /me, joins, /msg and /reply cross, /who, /whois and /rooms see both.
func TestChatCrosses(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)

	alice := a.Login(t, "alice")
	bob := b.Login(t, "bob")
	alice.Expect("bob joined #lobby")
	waitWho(t, bob, "alice", "bob")

	alice.Send("hello from A")
	bob.Expect("<alice> hello from A")
	bob.Send("/me waves")
	alice.Expect("* bob waves")

	bob.Send("/msg alice psst")
	bob.Expect("-> *alice* psst")
	alice.Expect("*bob* psst")
	alice.Send("/reply hi back")
	bob.Expect("*alice* hi back")

	bob.Send("/whois alice")
	if l := bob.Expect("*** alice is in #"); !strings.Contains(l, "on server A") {
		t.Errorf("whois: %q", l)
	}

	bob.Send("/join side")
	alice.Expect("bob left #lobby (joined #side)")
	alice.Send("/rooms")
	alice.Expect("#side (1)")
	alice.Send("/who side")
	alice.Expect("1 in #side: bob")

	// The name is taken in the whole cluster.
	carol := b.Dial(t)
	carol.ExpectPrompt()
	carol.Send("alice")
	carol.Expect("That nickname is taken (on server A)")
	carol.ExpectPrompt()
	carol.Send("aIice")
	carol.Expect("looks too much like alice, who is online on server A")

	// The count counts bob, on the other server.
	alice.Send("/join side")
	alice.Expect("You are now in #side with 1 other user")
	bob.Expect("alice joined #side")
	bob.Send("/quit")
	alice.Expect("bob left #side (quit)")
}

// TestNickRace: two people take the same name at the same moment on two
// servers; exactly one wins, every round.
func TestNickRace(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	const rounds = 100
	for i := range rounds {
		name := "racer" + strconv.Itoa(i)
		c1, c2 := a.Dial(t), b.Dial(t)
		c1.ExpectPrompt()
		c2.ExpectPrompt()
		c1.Send(name)
		c2.Send(name)
		won := make(chan bool, 2)
		for _, c := range []*servertest.Client{c1, c2} {
			go func() { won <- nickAnswer(c) }()
		}
		w1, w2 := <-won, <-won
		if w1 == w2 {
			t.Fatalf("round %d: winners %v %v, want exactly one", i, w1, w2)
		}
		_ = c1.Conn.Close()
		_ = c2.Conn.Close()
	}
}

// nickAnswer reads the answer to a nickname: true for the welcome, false
// for another prompt (refused).
func nickAnswer(c *servertest.Client) bool {
	_ = c.Conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
	var sb strings.Builder
	for {
		b, err := c.R.ReadByte()
		if err != nil {
			return false
		}
		sb.WriteByte(b)
		s := sb.String()
		if strings.Contains(s, "*** Welcome, ") {
			return true
		}
		if strings.HasSuffix(s, "Choose a nickname: ") {
			return false
		}
	}
}

// TestServerLost: a server that stops hard (no goodbye on NATS) has its
// users shown as left (server lost) on the others within the timeout, and
// its nickname claims expire.
func TestServerLost(t *testing.T) {
	const timeout = 2 * time.Second
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", timeout)
	b := startNode(t, ns.ClientURL(), "B", timeout)
	alice := a.Login(t, "alice")
	b.Login(t, "bob")
	alice.Expect("bob joined #lobby")

	start := time.Now()
	b.link.Kill()
	alice.Expect("bob left #lobby (server lost)")
	if took := time.Since(start); took > 3*timeout {
		t.Errorf("server lost after %v, want within about %v", took, timeout)
	}
	// bob's claim expires: the name can be taken on A.
	deadline := time.Now().Add(servertest.Timeout)
	for {
		c := a.Dial(t)
		c.ExpectPrompt()
		c.Send("bob")
		if nickAnswer(c) {
			break
		}
		_ = c.Conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("bob's claim never expired")
		}
		time.Sleep(100 * time.Millisecond) // a poll interval
	}
}

// TestLinkCut: the NATS server goes away and comes back on the same port
// with the same store: local chat goes on meanwhile, users are told, and
// presence comes back without duplicates.
func TestLinkCut(t *testing.T) {
	for _, ordered := range []bool{false, true} {
		t.Run(fmt.Sprintf("ordered=%v", ordered), func(t *testing.T) { linkCut(t, ordered) })
	}
}

// linkCut is TestLinkCut with own room lines shown at once or in the
// feed's order (-cluster-order): either way, local chat goes on while the
// link is down and nothing is shown twice after it.
func linkCut(t *testing.T, ordered bool) {
	dir := t.TempDir()
	ns := startNATS(t, dir, -1)
	port := natsPort(ns)
	o := nodeOptions{timeout: 10 * time.Second, ordered: ordered}
	a := startNodeWith(t, ns.ClientURL(), "A", o)
	b := startNodeWith(t, ns.ClientURL(), "B", o)
	alice := a.Login(t, "alice")
	ann := a.Login(t, "ann")
	bob := b.Login(t, "bob")
	waitWho(t, bob, "alice", "ann", "bob")
	alice.Sync()

	if !a.link.Linked() {
		t.Error("Linked() is false with NATS up")
	}
	stopNATS(ns)
	alice.Expect("*** cluster link lost, local chat only")
	if a.link.Linked() {
		t.Error("Linked() is true after the link was lost")
	}
	ann.Expect("*** cluster link lost, local chat only")
	bob.Expect("*** cluster link lost, local chat only")
	alice.Send("still here")
	ann.Expect("<alice> still here")

	startNATS(t, dir, port)
	alice.Expect("*** cluster link restored")
	bob.Expect("*** cluster link restored")
	servertest.WaitFor(t, "Linked() after the link was restored", a.link.Linked)
	alice.Send("back again")
	bob.Expect("<alice> back again")
	// ann saw the line said during the cut once, at once; now the next.
	if l := ann.Expect("<alice>"); l != "<alice> back again" {
		t.Errorf("after the cut ann got %q, want the next line", l)
	}
	alice.Send("once more")
	// Nothing twice: the line before comes once, then this one.
	if l := bob.Expect("<alice>"); l != "<alice> once more" {
		t.Errorf("after the cut bob got %q, want the next line", l)
	}
	l := waitWho(t, bob, "alice", "ann", "bob")
	if strings.Count(l, "alice") != 1 || !strings.Contains(l, "3 in #lobby") {
		t.Errorf("after the cut: %q", l)
	}
}

// TestRoomStateCrosses: topics, walls, renames, away and /ignore work
// across servers.
func TestRoomStateCrosses(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	alice := a.Login(t, "alice")
	bob := b.Login(t, "bob")
	alice.Expect("bob joined #lobby")
	waitWho(t, bob, "alice")

	alice.Send("/join den")
	bob.Expect("alice left #lobby (joined #den)")
	bob.Send("/join den")
	alice.Expect("bob joined #den")
	bob.Expect("with 1 other user")
	alice.Send("/topic cozy corner")
	bob.Expect("alice set the topic of #den to: cozy corner")

	bob.Send("/nick robert")
	bob.Expect("You are now known as robert")
	bob.Nick = "robert"
	alice.Expect("bob is now known as robert")
	alice.Send("/whois robert")
	alice.Expect("*** robert is in #den")
	alice.Send("/whois bob")
	alice.Expect("No such user")

	bob.Send("/away lunch")
	bob.Expect("You are away")
	waitWho(t, alice, "robert (away)")
	alice.Send("/msg robert ping")
	alice.Expect("robert is away: lunch")

	alice.Send("/ignore robert")
	alice.Expect("ignoring robert")
	carl := b.Login(t, "carl")
	carl.Send("/join den")
	alice.Expect("carl joined #den")
	bob.Send("you should not see this")
	bob.Send("/msg alice nor this")
	bob.Sync()
	// B's events reach A in the order B sent them: carl's line comes
	// after bob's.
	carl.Send("marker")
	for l := alice.Line(); l != "<carl> marker"; l = alice.Line() {
		if strings.Contains(l, "not see this") || strings.Contains(l, "nor this") {
			t.Errorf("an ignored line got through: %q", l)
		}
	}
	alice.Send("/unignore robert")
	alice.Sync()
	bob.Send("but this")
	if l := alice.Expect("robert"); !strings.Contains(l, "<robert> but this") {
		t.Errorf("an ignored line got through: %q", l)
	}

	alice.Send("/oper sesame")
	alice.Expect("You are now an admin")
	alice.Send("/wall maintenance at noon")
	bob.Expect("NOTICE from alice: maintenance at noon")
}

// TestBansShared: a /ban on one server refuses the address on every
// server, also one started later; /unban lifts it everywhere.
func TestBansShared(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	alice := a.Login(t, "alice")
	eve := b.LoginFrom(t, "eve", "127.0.0.7")
	alice.Expect("eve joined #lobby")
	alice.Send("/oper sesame")
	alice.Expect("You are now an admin")

	alice.Send("/ban 127.0.0.7 spam")
	eve.Expect("You were banned by alice: spam")
	alice.Expect("eve left #lobby (banned: spam)")
	again := b.DialFrom(t, "127.0.0.7")
	again.Expect("You are banned from this server: spam")

	c := startNode(t, ns.ClientURL(), "C", 5*time.Second)
	waitRefused(t, c, "127.0.0.7", true)

	alice.Send("/unban 127.0.0.7")
	alice.Expect("127.0.0.7")
	waitRefused(t, b, "127.0.0.7", false)
	waitRefused(t, c, "127.0.0.7", false)
}

// waitRefused connects from addr until the server refuses it as banned
// (want true) or greets it (want false), or fails at the deadline.
func waitRefused(tb testing.TB, n *node, addr string, want bool) {
	tb.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		c := n.DialFrom(tb, addr)
		l := c.Line()
		_ = c.Conn.Close()
		if strings.Contains(l, "banned") == want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("from %s: want banned %v, got %q", addr, want, l)
		}
		time.Sleep(20 * time.Millisecond) // a poll interval
	}
}

// TestOnePublishPerLine: a line to a room with members on two servers
// costs one NATS message, whatever the number of recipients, and reaches
// each of them once, in order.
func TestOnePublishPerLine(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	alice := a.Login(t, "alice")
	var readers []*servertest.Client
	for _, n := range []string{"b1", "b2", "b3", "b4"} {
		readers = append(readers, b.Login(t, n))
	}
	readers = append(readers, a.Login(t, "a1"))
	waitWho(t, readers[0], "alice", "a1", "b4")
	before := a.link.Stats().Lines
	const lines = 20
	for i := range lines {
		alice.Send("line " + strconv.Itoa(i))
	}
	alice.Sync()
	for _, r := range readers {
		for i := range lines {
			want := "<alice> line " + strconv.Itoa(i)
			if l := r.Expect("<alice> "); l != want {
				t.Fatalf("%s got %q, want %q", r.Nick, l, want)
			}
		}
	}
	if got := a.link.Stats().Lines - before; got != lines {
		t.Errorf("%d lines cost %d NATS messages, want %d", lines, got, lines)
	}
}

// TestKickMoveCross: an admin's /move and /kick reach a user on another
// server.
func TestKickMoveCross(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	alice := a.Login(t, "alice")
	bob := b.Login(t, "bob")
	alice.Expect("bob joined #lobby")
	alice.Send("/oper sesame")
	alice.Expect("You are now an admin")

	alice.Send("/move bob quiet")
	bob.Expect("*** You were moved to #quiet by alice")
	alice.Expect("bob left #lobby (joined #quiet)")
	alice.Send("/join quiet")
	alice.Expect("with 1 other user")
	alice.Send("/kick bob being rude")
	bob.Expect("You were kicked by alice: being rude")
	alice.Expect("bob left #quiet (kicked: being rude)")
}

// TestHistoryShared: a room's history is the cluster's: a joiner on a
// server where the room did not exist, or on a server started after the
// lines were said, sees them.
func TestHistoryShared(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	alice := a.Login(t, "alice")
	alice.Send("/join den")
	alice.Expect("You are now in #den")
	for _, l := range []string{"one", "two", "three"} {
		alice.Send(l)
	}
	alice.Sync()
	waitHistory := func(n *node, nick string) {
		t.Helper()
		// The lines reach the stream a moment after A handled them.
		servertest.WaitFor(t, "the lines in the stream", func() bool {
			ms, err := n.link.RoomHistory("den")
			return err == nil && len(ms) == 3
		})
		c := n.Login(t, nick)
		c.Send("/join den")
		c.Expect("You are now in #den")
		for _, want := range []string{"<alice> one", "<alice> two", "<alice> three"} {
			if l := c.Expect("[history]"); !strings.Contains(l, want) {
				t.Errorf("%s: got %q, want %q", nick, l, want)
			}
		}
	}
	waitHistory(b, "bob")
	c := startNode(t, ns.ClientURL(), "C", 5*time.Second)
	waitHistory(c, "carol")
}

// TestStatsCluster: /stats cluster lists every server with its users.
func TestStatsCluster(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 3*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 3*time.Second)
	alice := a.Login(t, "alice")
	b.Login(t, "bob")
	b.Login(t, "bea")
	alice.Expect("bea joined #lobby")
	alice.Send("/oper sesame")
	alice.Expect("You are now an admin")
	deadline := time.Now().Add(servertest.Timeout)
	for {
		alice.Send("/stats cluster")
		alice.Expect("2 servers in the cluster:")
		self, other := alice.Line(), alice.Line()
		if !strings.HasPrefix(self, "  A: 1 user, ") || !strings.HasSuffix(self, "(this server)") || !strings.HasPrefix(other, "  B: 2 users, ") {
			t.Fatalf("/stats cluster: %q %q", self, other)
		}
		if strings.Contains(other, "last heartbeat") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no heartbeat from B shown: %q", other)
		}
		time.Sleep(50 * time.Millisecond) // a poll interval
	}
}

// TestNickConflictResolved: a name held on two servers (here: one server
// without claims that named its alice before it heard of the other's) is
// kept by the user who took it first; the other is renamed and told why,
// and the same on both servers.
func TestNickConflictResolved(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	first := b.Login(t, "alice")
	a := newNode(t, ns.ClientURL(), "A", 5*time.Second, false)
	second := a.Login(t, "alice") // A knows nothing of B yet
	if err := a.link.Start(a.Hub); err != nil {
		t.Fatal(err)
	}
	second.Expect("Your nickname alice was taken earlier by a user on server B")
	l := second.Expect("You are now known as alice-")
	newName := strings.TrimPrefix(l, "*** You are now known as ")
	second.Nick = newName
	first.Sync()
	first.Send("/whois alice")
	if l := first.Expect("*** alice is in #"); strings.Contains(l, "on server A") {
		t.Errorf("the first alice lost her name: %q", l)
	}
	waitWho(t, first, "alice", newName)
	second.Send("/whois alice")
	second.Expect("on server B")
}

// TestLinesRightAfterNickname: a client that sends its nickname and its
// next lines at once (a script, a paste: `printf 'bob\nhi\n/who\n' | nc`)
// loses none of them while the cluster checks the name, and the same for
// a /nick followed at once by a line; they are handled in order once the
// claim is answered, as on a single server. (Before, each was refused
// with "Your nickname is still being checked" and dropped.)
func TestLinesRightAfterNickname(t *testing.T) {
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", 5*time.Second)
	b := startNode(t, ns.ClientURL(), "B", 5*time.Second)
	alice := a.Login(t, "alice")
	// B must know alice before bob's /msg to her: it learns of her from
	// A's heartbeat after it started, which may come after bob's lines.
	waitWho(t, b.Login(t, "carol"), "alice", "carol")

	bob := b.Dial(t)
	bob.ExpectPrompt()
	bob.Write([]byte("bob\nhello from a script\n/me waves\n/who\n/nick robert\nas robert\n/msg alice psst\n"))
	bob.Expect("*** Welcome, bob!")
	alice.Expect("bob joined #lobby")
	alice.Expect("<bob> hello from a script")
	alice.Expect("* bob waves")
	bob.Expect("in #lobby:")
	alice.Expect("bob is now known as robert")
	alice.Expect("<robert> as robert")
	alice.Expect("*robert* psst")
}

// TestServerBack: a server cut from NATS longer than the timeout is lost
// on the others (its users "left (server lost)"); when it is back, its
// users are shown as joined again, once, not back in silence (their lines
// then came from users shown as gone).
func TestServerBack(t *testing.T) {
	const timeout = 2 * time.Second
	ns := startNATS(t, t.TempDir(), -1)
	p := startProxy(t, ns.Addr().String())
	a := startNode(t, ns.ClientURL(), "A", timeout)
	b := startNode(t, p.URL(), "B", timeout)
	alice := a.Login(t, "alice")
	bob := b.Login(t, "bob")
	alice.Expect("bob joined #lobby")
	waitWho(t, bob, "alice", "bob")

	p.cut()
	bob.Expect("*** cluster link lost, local chat only")
	alice.Expect("bob left #lobby (server lost)")
	p.restore()
	bob.Expect("*** cluster link restored")
	alice.Expect("bob joined #lobby")
	bob.Send("I am back")
	if l := alice.Expect("bob"); l != "<bob> I am back" {
		t.Errorf("after bob's return alice got %q, want his line (bob joined once)", l)
	}
}

// TestServerRestartedFast: a server that dies and starts again (same id)
// before the others count it lost: its users who did not come back are
// shown as left (server lost) when its first heartbeat says they are
// gone, not removed in silence; those who came back stay, once.
func TestServerRestartedFast(t *testing.T) {
	const timeout = 15 * time.Second // longer than an Expect: only the heartbeat can tell
	ns := startNATS(t, t.TempDir(), -1)
	a := startNode(t, ns.ClientURL(), "A", timeout)
	b := startNode(t, ns.ClientURL(), "B", timeout)
	carl := a.Login(t, "carl")
	b.Login(t, "alice")
	b.Login(t, "bob")
	waitWho(t, carl, "alice", "bob", "carl")

	b.link.Kill() // B dies: no goodbye reaches A
	b2 := startNode(t, ns.ClientURL(), "B", timeout)
	b2.Login(t, "bob") // bob comes back at once, alice does not
	carl.Expect("alice left #lobby (server lost)")
	l := waitWho(t, carl, "bob", "carl")
	if strings.Contains(l, "alice") || strings.Count(l, "bob") != 1 {
		t.Errorf("after B restarted: %q", l)
	}
}
