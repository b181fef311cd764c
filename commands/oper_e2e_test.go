package commands_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"telchat/hub"
	"telchat/internal/servertest"
)

// TestOperNotStarvedByFailingAddresses: 40 addresses (127.1.0.x) that have
// failed /oper keep trying, and their checks take as long as the attacker
// likes (here: until the test ends), but an address with no recent failure
// still gets its check at once, every time, and the console answers.
func TestOperNotStarvedByFailingAddresses(t *testing.T) {
	const attackers = 40
	release := make(chan struct{})
	var blocked atomic.Int64
	check := func(pw string) bool {
		switch pw {
		case operPassword:
			return true
		case "slow":
			blocked.Add(1)
			<-release // a check that takes forever: the attacker holds its slot
		}
		return false
	}
	s := start(t, servertest.Config{Hub: hub.Config{PasswordCheck: check}})
	defer close(release)
	clients := make([]*servertest.Client, attackers)
	for i := range clients {
		clients[i] = s.LoginFrom(t, fmt.Sprintf("m%d", i), fmt.Sprintf("127.1.0.%d", i+1))
		clients[i].Send("/join attack") // keep the lobby quiet for the admins
		clients[i].Expect("You are now in #attack")
	}
	// Every attacking address fails once, then keeps trying with a check
	// that never ends.
	failedAt := make([]time.Time, attackers)
	for i, c := range clients {
		c.Send("/oper fast")
		c.Expect("! Wrong password")
		failedAt[i] = time.Now()
	}
	const backoff = 2 * time.Second // after one failure
	// settled counts the attackers refused after their wait was over: by
	// then every slot open to failing addresses holds a check that never
	// ends (an attacker whose own check runs is refused too, as pending).
	var settled atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			pace := time.NewTicker(50 * time.Millisecond)
			defer pace.Stop()
			for {
				sent := time.Now()
				if _, err := c.Conn.Write([]byte("/oper slow\n")); err != nil {
					return
				}
				// No answer in time: the check is running, or the answer
				// is late; either way, try again.
				_ = c.Conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				l, _ := c.R.ReadString('\n')
				// Refused (all slots busy, or its own check pending, or,
				// while its own check runs, more lines waiting for it
				// than a connection may queue) once its wait is over.
				refused := strings.HasPrefix(l, "! Too many password checks") || strings.HasPrefix(l, "! Your last password is still being checked") ||
					strings.HasPrefix(l, "! Your password is still being checked")
				if refused && sent.Sub(failedAt[i]) > backoff+time.Second {
					settled.Add(1)
					<-stop
					return
				}
				select {
				case <-stop:
					return
				case <-pace.C:
				}
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	servertest.WaitFor(t, "every attacker to be refused after its wait", func() bool {
		return settled.Load() == attackers
	})
	if n := blocked.Load(); n == 0 || n >= 4 {
		t.Fatalf("%d checks held by failing addresses; want some, and fewer than all 4 slots", n)
	}

	con := startConsole(t, s.Hub)
	for i := range 5 {
		ada := s.LoginFrom(t, fmt.Sprintf("ada%d", i), "127.0.0.1")
		ada.Send("/oper " + operPassword)
		if l := ada.Line(); l != "*** You are now an admin" {
			t.Fatalf("try %d from an address with no failure: %q", i, l)
		}
		ada.Send("/quit")
		ada.ExpectEOF()
		con.Send("stats")
		con.Expect("*** ")
	}
}

// TestLinesAfterOperWait: a script that sends /oper and its next commands
// at once (printf '/oper pw\n/wall hi\n' | nc) has them handled after the
// password check, in order: the /wall runs as an admin, and the chat line
// after it is said, not refused or lost.
func TestLinesAfterOperWait(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	check := func(pw string) bool {
		close(started)
		<-release // the check takes until the next lines have arrived
		return pw == operPassword
	}
	s := start(t, servertest.Config{Hub: hub.Config{PasswordCheck: check}})
	bob := s.Login(t, "bob")
	alice := s.Login(t, "alice")
	bob.Expect("alice joined")
	if _, err := alice.Conn.Write([]byte("/oper " + operPassword + "\n/wall hi all\nafter\n")); err != nil {
		t.Fatal(err)
	}
	// The check runs; one round trip of bob's gives alice's reader time
	// to hand on the two lines it read with the /oper (one write).
	<-started
	bob.Sync()
	close(release)
	alice.Expect("*** You are now an admin")
	bob.Expect("hi all")
	bob.Expect("<alice> after")
}
