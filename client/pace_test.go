package client_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"telchat/client"
	"telchat/hub"
	"telchat/internal/servertest"
)

// countPrefixed counts the lines of out that start with prefix.
func countPrefixed(out, prefix string) int {
	n := 0
	for _, l := range strings.Split(out, "\r\n") {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// TestNcPasteArrivesWhole is issue 10's paste, with the server's default
// rate (5 lines a second, bursts of 10): every one of the 14 lines is
// answered, in order, after the welcome, and nothing is said about
// sending too fast. /who is a listing, with a budget of its own (ten at
// once, then two a second), which holds the last lines back a little too.
func TestNcPasteArrivesWhole(t *testing.T) {
	servertest.RequireBinary(t, "nc")
	bash := servertest.RequireBinary(t, "bash")
	s := servertest.Start(t, servertest.Config{Client: client.Config{MsgRate: 5, MsgBurst: 10, FloodTime: 30 * time.Second}})
	bob := s.Login(t, "bob")
	cmd := "(echo user1; for j in $(seq 14); do echo /who; done) | nc -N 127.0.0.1 " + s.Port()
	p := servertest.StartProcess(t, strings.NewReader(""), bash, "-c", cmd)
	if err := p.Wait(t); err != nil {
		t.Fatalf("nc: %v; output:\n%s", err, p.Out.String())
	}
	out := p.Out.String()
	welcome := strings.Index(out, "*** Welcome, user1!")
	if !strings.HasPrefix(out, "Welcome to telchat!") || welcome < 0 {
		t.Fatalf("no banner then welcome in %q", out)
	}
	const who = "*** 2 in #lobby: bob, user1"
	if first := strings.Index(out, who); first < welcome {
		t.Fatalf("a /who answer before the welcome: %q", out)
	}
	if n := countPrefixed(out, who); n != 14 {
		t.Fatalf("%d answers to 14 /who lines:\n%s", n, out)
	}
	for _, l := range strings.Split(out, "\r\n") {
		if strings.HasPrefix(l, "! ") {
			t.Fatalf("notice %q in %q", l, out)
		}
	}
	bob.Expect("*** user1 left #lobby (hangup)")
}

// TestMessageRateSlowsInOrder: lines over the rate are held back, not
// dropped: every one is handled, in order, no sooner than the token bucket
// allows, and nothing is said about it.
func TestMessageRateSlowsInOrder(t *testing.T) {
	const rate, burst, n = 20, 4, 12
	cfg := client.Config{MsgRate: rate, MsgBurst: burst, FloodTime: time.Minute}
	cases := []struct {
		name    string
		line    func(i int) string
		bobSees string // what bob gets for line %d; "" when the effect is for alice
	}{
		{"chat", func(i int) string { return fmt.Sprintf("b%d", i) }, "<alice> b%d"},
		{"private", func(i int) string { return fmt.Sprintf("/msg bob b%d", i) }, "*alice* b%d"},
		{"emote", func(i int) string { return fmt.Sprintf("/me b%d", i) }, "* alice b%d"},
		{"command", func(i int) string { return "/whois bob" }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{Client: cfg})
			bob := s.Login(t, "bob")
			alice := s.Login(t, "alice")
			bob.Expect("alice joined")
			var batch strings.Builder
			for i := range n {
				batch.WriteString(tc.line(i) + "\n")
			}
			start := time.Now()
			alice.Write([]byte(batch.String()))
			if tc.bobSees != "" {
				for i := range n {
					if l := bob.Line(); l != fmt.Sprintf(tc.bobSees, i) {
						t.Fatalf("bob got %q, want line %d", l, i)
					}
				}
			} else {
				for range n {
					if l := alice.Line(); !strings.HasPrefix(l, "*** bob is in #lobby") {
						t.Fatalf("alice got %q, want a /whois answer", l)
					}
				}
			}
			// The bucket holds at most burst lines: the rest waited for
			// their tokens.
			if took, least := time.Since(start), time.Duration(n-burst)*time.Second/rate; took < least {
				t.Fatalf("%d lines took %v, less than the rate allows (%v)", n, took, least)
			}
			bob.Send("/msg alice done")
			for l := alice.Line(); l != "*bob* done"; l = alice.Line() {
				if tc.name != "private" || !strings.HasPrefix(l, "-> *bob* b") {
					t.Fatalf("alice got %q, want only bob's message", l)
				}
			}
		})
	}
}

// TestFloodDisconnects: a client that stays over its rate for longer than
// the flood time is disconnected. Every line handled before goes through in
// order, and the notice comes after their replies, last before EOF.
func TestFloodDisconnects(t *testing.T) {
	cfg := client.Config{MsgRate: 10, MsgBurst: 2, FloodTime: 400 * time.Millisecond}
	const notice = "! Disconnected for flooding: more than 10 lines a second for 400ms"
	cases := []struct {
		name    string
		line    func(i int) string
		bobSees string // bob's line for line %d, "" for a command
	}{
		{"chat", func(i int) string { return fmt.Sprintf("f%d", i) }, "<alice> f%d"},
		{"private", func(i int) string { return fmt.Sprintf("/msg bob f%d", i) }, "*alice* f%d"},
		{"command", func(int) string { return "/whois alice" }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{Client: cfg})
			bob := s.Login(t, "bob")
			alice := s.Login(t, "alice")
			bob.Expect("alice joined")
			var batch strings.Builder
			for i := range 100 {
				batch.WriteString(tc.line(i) + "\n")
			}
			alice.Write([]byte(batch.String()))
			out := alice.ExpectEOF()
			if !strings.HasSuffix(out, notice+"\r\n") {
				t.Fatalf("alice's output does not end with the flood notice: %q", out)
			}
			passed := 0
			for {
				l := bob.Line()
				if l == "*** alice left #lobby (flood)" {
					break
				}
				if tc.bobSees == "" || l != fmt.Sprintf(tc.bobSees, passed) {
					t.Fatalf("bob got %q, want line %d or the flood", l, passed)
				}
				passed++
			}
			if tc.bobSees == "" {
				passed = countPrefixed(out, "*** alice is in #lobby")
			}
			// 0.4 s at 10 lines a second, plus what was in the bucket
			// (more on a machine too busy to read on time, never all).
			if passed < 3 || passed >= 100 {
				t.Fatalf("%d lines were handled before the flood, want 3 to 99", passed)
			}
			if n := s.Hub.Counters.FloodDrops.Load(); n != 1 {
				t.Errorf("FloodDrops = %d, want 1", n)
			}
			bob.Sync()
			s.Login(t, "alice") // the nickname is free again
		})
	}
}

// TestHeldReaderEndsWithTheSession: a reader waiting for its client's rate
// wakes at once when the session ends (kick, shutdown): nothing waits for
// the token, and no goroutine is left behind.
func TestHeldReaderEndsWithTheSession(t *testing.T) {
	cases := []struct {
		name string
		// end ends alice's session and returns her last line, and a
		// function that waits for the ending to complete.
		end func(s *servertest.Server, admin *servertest.Client) (string, func() error)
	}{
		{"kick", func(_ *servertest.Server, admin *servertest.Client) (string, func() error) {
			admin.Send("/kick alice enough")
			return "kicked by ada: enough", func() error { return nil }
		}},
		{"shutdown", func(s *servertest.Server, _ *servertest.Client) (string, func() error) {
			shut := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), servertest.Timeout)
				defer cancel()
				shut <- s.Server.Shutdown(ctx, "going down")
			}()
			return "*** going down", func() error { return <-shut }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaks := goleak.IgnoreCurrent()
			// A token every 1000 s: after the nickname and two lines (or
			// the admin's /oper and /kick), every line waits.
			var sessions sessionsByStart
			s := servertest.Start(t, servertest.Config{
				Client: client.Config{MsgRate: 0.001, MsgBurst: 3, ConnState: sessions.connState},
				Hub:    hub.Config{PasswordCheck: func(p string) bool { return p == "pw" }},
			})
			admin := s.Login(t, "ada")
			admin.Send("/oper pw")
			admin.Expect("You are now an admin")
			alice := s.Login(t, "alice")
			alice.Send("one")
			admin.Expect("<alice> one")
			alice.Write([]byte("two\nthree\nfour\n"))
			admin.Expect("<alice> two")
			// The reader has read them all and waits with "three" in hand.
			sess := sessions.nth(t, 1)
			servertest.WaitFor(t, "alice's input to be read", func() bool {
				return sess.Stats().BytesIn == int64(len("alice\none\ntwo\nthree\nfour\n"))
			})
			want, wait := tc.end(s, admin)
			start := time.Now()
			out := alice.ExpectEOF()
			if !strings.HasSuffix(out, want+"\r\n") {
				t.Fatalf("alice's output %q does not end with %q", out, want)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Fatalf("the session took %v to end", took)
			}
			if err := wait(); err != nil {
				t.Fatal(err)
			}
			_ = alice.Conn.Close()
			_ = admin.Conn.Close()
			s.Shutdown()
			goleak.VerifyNone(t, leaks)
		})
	}
}
