package client_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	telnet "github.com/reiver/go-telnet"

	"telchat/internal/servertest"
	"telchat/message"
	tn "telchat/telnet"
)

// goTelnetPeer is a user on github.com/reiver/go-telnet, an independent
// Telnet implementation: its writer doubles 0xFF, its reader removes
// negotiation and undoubles IAC IAC. Its reader blocks until the caller's
// whole buffer is full, so a goroutine reads one byte at a time.
type goTelnetPeer struct {
	t     *testing.T
	conn  *telnet.Conn
	in    chan byte  // decoded bytes, in order
	ended chan error // receives the reader's final error, then is closed
	seen  []byte     // every decoded byte taken from in so far
	done  chan struct{}
}

func dialGoTelnet(t *testing.T, addr string) *goTelnetPeer {
	t.Helper()
	conn, err := telnet.DialTo(addr)
	if err != nil {
		t.Fatalf("go-telnet dial: %v", err)
	}
	p := &goTelnetPeer{t: t, conn: conn, in: make(chan byte, 1<<16), ended: make(chan error, 1), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		var one [1]byte
		for {
			n, err := conn.Read(one[:])
			if n == 1 {
				p.in <- one[0]
			}
			if err != nil {
				p.ended <- err
				close(p.in)
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		<-p.done
	})
	return p
}

// readUntil reads decoded bytes until they end with marker.
func (p *goTelnetPeer) readUntil(marker string) string {
	p.t.Helper()
	timer := time.NewTimer(servertest.Timeout)
	defer timer.Stop()
	var got []byte
	for !bytes.HasSuffix(got, []byte(marker)) {
		select {
		case b, ok := <-p.in:
			if !ok {
				p.t.Fatalf("go-telnet: stream ended (%v) waiting for %q; got %q", <-p.ended, marker, got)
			}
			got = append(got, b)
			p.seen = append(p.seen, b)
		case <-timer.C:
			p.t.Fatalf("go-telnet: timed out waiting for %q; got %q", marker, got)
		}
	}
	return string(got)
}

// line reads one line and returns it without its CR LF.
func (p *goTelnetPeer) line() string {
	p.t.Helper()
	l := p.readUntil("\n")
	if !strings.HasSuffix(l, "\r\n") {
		p.t.Fatalf("go-telnet: line %q does not end in CR LF", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// expectLine reads lines until one equals want.
func (p *goTelnetPeer) expectLine(want string) {
	p.t.Helper()
	var skipped []string
	for {
		l := p.line()
		if l == want {
			return
		}
		skipped = append(skipped, l)
		if len(skipped) > 100 {
			p.t.Fatalf("go-telnet: no line %q; got %q", want, skipped)
		}
	}
}

func (p *goTelnetPeer) write(s string) {
	p.t.Helper()
	if _, err := p.conn.Write([]byte(s)); err != nil {
		p.t.Fatalf("go-telnet: write: %v", err)
	}
}

// expectEOF reads the rest of the stream and returns it; the stream must end
// with a clean EOF.
func (p *goTelnetPeer) expectEOF() string {
	p.t.Helper()
	timer := time.NewTimer(servertest.Timeout)
	defer timer.Stop()
	var got []byte
	for {
		select {
		case b, ok := <-p.in:
			if !ok {
				if err := <-p.ended; !errors.Is(err, io.EOF) {
					p.t.Fatalf("go-telnet: stream ended with %v, want EOF; got %q", err, got)
				}
				return string(got)
			}
			got = append(got, b)
			p.seen = append(p.seen, b)
		case <-timer.C:
			p.t.Fatalf("go-telnet: timed out waiting for EOF; got %q", got)
		}
	}
}

// checkLineEnds fails unless every LF in out comes right after a CR and
// every CR is followed by LF or NUL (RFC 854 NVT line ends).
func checkLineEnds(t *testing.T, who string, out []byte) {
	t.Helper()
	for i, b := range out {
		switch {
		case b == '\n' && (i == 0 || out[i-1] != '\r'):
			t.Fatalf("%s: bare LF at byte %d in %q", who, i, out)
		case b == '\r' && (i+1 >= len(out) || out[i+1] != '\n' && out[i+1] != 0):
			t.Fatalf("%s: bare CR at byte %d in %q", who, i, out)
		}
	}
}

// expectExactLine reads lines on c until one starts with prefix and fails
// unless that line is exactly want.
func expectExactLine(t *testing.T, c *servertest.Client, prefix, want string) {
	t.Helper()
	l := c.Expect(prefix)
	if l != want {
		t.Fatalf("%s: got line %q, want %q", c.Nick, l, want)
	}
}

// TestGoTelnetPeerChatsWithRawClient logs a go-telnet user in and has it chat
// with a raw TCP user: the server's output must decode correctly with an
// independent Telnet reader (CR LF line ends, 0xFF sent as IAC IAC).
func TestGoTelnetPeerChatsWithRawClient(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})
	bob := s.Login(t, "bob")
	gt := dialGoTelnet(t, s.Addr)

	greeting := gt.readUntil("Choose a nickname: ")
	if !strings.HasPrefix(greeting, "Welcome to telchat!") || !strings.Contains(greeting, "\r\n") {
		t.Fatalf("greeting %q", greeting)
	}
	gt.write("bad nick!\r\n")
	if l := gt.line(); !strings.HasPrefix(l, "! ") {
		t.Fatalf("invalid nickname: got %q, want a one-line reason", l)
	}
	gt.readUntil("Choose a nickname: ")
	gt.write("gtuser\r\n")
	gt.expectLine("*** Welcome, gtuser! Type /help for commands.")
	gt.expectLine("*** You are now in #lobby with 1 other user")
	bob.Expect("*** gtuser joined #lobby")

	// go-telnet -> raw: UTF-8 passes, and a typed 0xFF (sent as IAC IAC by
	// go-telnet's writer) is one invalid byte, shown as U+FFFD, with the
	// byte after it intact.
	gt.write("hello from go-telnet é€\r\n")
	expectExactLine(t, bob, "<gtuser>", "<gtuser> hello from go-telnet é€")
	gt.write("a\xffb\r\n")
	expectExactLine(t, bob, "<gtuser>", "<gtuser> a\uFFFDb")

	// raw -> go-telnet, a private message and an emote.
	bob.Send("hi gt ü")
	gt.expectLine("<bob> hi gt ü")
	bob.Send("/msg gtuser secret")
	gt.expectLine("*bob* secret")
	bob.Send("/me waves")
	gt.expectLine("* bob waves")

	// Output holding a 0xFF byte: on the wire it is IAC IAC (the raw client
	// sees both bytes), and go-telnet decodes it back to one 0xFF.
	if err := s.Hub.Publish(message.Message{Kind: message.Reply, Room: "lobby", Text: "raw \xff byte"}); err != nil {
		t.Fatal(err)
	}
	expectExactLine(t, bob, "raw ", "raw \xff\xff byte")
	gt.expectLine("raw \xff byte")

	// Nothing the go-telnet user typed came back to it (no echo).
	gt.write("/whois gtuser\r\n")
	gt.readUntil("*** gtuser is in #lobby")
	gt.line()
	if bytes.Contains(gt.seen, []byte("hello from go-telnet")) {
		t.Fatalf("go-telnet user got its own line back: %q", gt.seen)
	}

	gt.write("/quit done\r\n")
	rest := gt.expectEOF()
	if !strings.Contains(rest, "*** Goodbye, gtuser!\r\n") {
		t.Fatalf("no goodbye before EOF: %q", rest)
	}
	bob.Expect("*** gtuser left #lobby (quit: done)")
	checkLineEnds(t, "go-telnet", gt.seen)
	if n := bytes.Count(gt.seen, []byte{0xff}); n != 1 {
		t.Fatalf("go-telnet decoded %d 0xFF bytes, want 1 (the published one): %q", n, gt.seen)
	}
}

// TestNcOneShot runs `printf ... | nc -N 127.0.0.1 PORT`: nc sends the lines,
// half-closes, and exits 0 once the server has answered and closed.
func TestNcOneShot(t *testing.T) {
	nc := servertest.RequireBinary(t, "nc")
	const who = "*** 2 in #lobby: alice, bob\r\n"
	cases := []struct {
		name, input string
		wantOut     []string // in nc's output
		bobSees     string   // a line bob must see, "" for none
	}{
		{"who", "alice\n/who\n", []string{who}, ""},
		{"last line unterminated", "alice\n/who\nbye", []string{who}, "<alice> bye"},
		{"unterminated command", "alice\n/who", []string{who}, ""},
		{"crlf, help and unknown command", "alice\r\n/help\r\n/nosuch\r\n",
			[]string{"\r\n  /quit [REASON]", "\r\n! Unknown command /nosuch: type /help for the list\r\n"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{})
			bob := s.Login(t, "bob")
			p := servertest.StartProcess(t, strings.NewReader(tc.input), nc, "-N", "127.0.0.1", s.Port())
			if err := p.Wait(t); err != nil {
				t.Fatalf("nc: %v; output:\n%s", err, p.Out.String())
			}
			out := p.Out.String()
			if !strings.HasPrefix(out, "Welcome to telchat!") {
				t.Fatalf("nc output %q lacks the greeting", out)
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(out, want) {
					t.Fatalf("nc output %q lacks %q", out, want)
				}
			}
			if i := strings.IndexFunc(out, func(r rune) bool { return r == '\uFFFD' }); i >= 0 || bytes.IndexByte([]byte(out), 0xff) >= 0 {
				t.Fatalf("nc saw negotiation or invalid bytes: %q", out)
			}
			checkLineEnds(t, "nc", []byte(out))
			bob.Expect("*** alice joined #lobby")
			if tc.bobSees != "" {
				expectExactLine(t, bob, "<alice>", tc.bobSees)
			}
			bob.Expect("*** alice left #lobby (hangup)")
			servertest.WaitFor(t, "nc's session to end", func() bool { return s.Server.Active() == 1 })
		})
	}
}

// TestNcInteractiveChat has a real nc user and a raw client chat both ways.
// The nc user never sees its own line (no echo) nor any Telnet negotiation.
func TestNcInteractiveChat(t *testing.T) {
	nc := servertest.RequireBinary(t, "nc")
	s := servertest.Start(t, servertest.Config{})
	dave := s.Login(t, "dave")
	p := servertest.StartProcess(t, nil, nc, "-N", "127.0.0.1", s.Port())
	send := func(s string) {
		t.Helper()
		if _, err := io.WriteString(p.Stdin, s); err != nil {
			t.Fatalf("write to nc: %v", err)
		}
	}
	at := p.Out.WaitFor(t, 0, "Choose a nickname: ")
	send("taken?\n")
	at = p.Out.WaitFor(t, at, "! ")
	at = p.Out.WaitFor(t, at, "Choose a nickname: ")
	send("Dave\n")
	at = p.Out.WaitFor(t, at, "hat nickname is taken")
	at = p.Out.WaitFor(t, at, "Choose a nickname: ")
	send("carol\n")
	at = p.Out.WaitFor(t, at, "*** You are now in #lobby with 1 other user\r\n")
	dave.Expect("*** carol joined #lobby")

	send("hi dave\n")
	expectExactLine(t, dave, "<carol>", "<carol> hi dave")
	dave.Send("hi carol")
	at = p.Out.WaitFor(t, at, "<dave> hi carol\r\n")
	send("x\x1b[2Jy\x07z\n")
	expectExactLine(t, dave, "<carol>", "<carol> xyz")
	send("/nick caz\n")
	at = p.Out.WaitFor(t, at, "*** You are now known as caz\r\n")
	dave.Expect("*** carol is now known as caz")
	send("/bogus\n")
	at = p.Out.WaitFor(t, at, "! Unknown command /bogus: type /help for the list")
	send("/whois caz\n")
	p.Out.WaitFor(t, at, "*** caz is in #lobby")

	out := p.Out.String()
	if strings.Contains(out, "hi dave") || strings.Contains(out, "xyz") {
		t.Fatalf("nc user got its own line back: %q", out)
	}
	if bytes.IndexByte([]byte(out), 0xff) >= 0 {
		t.Fatalf("nc user saw Telnet negotiation: %q", out)
	}
	checkLineEnds(t, "nc", []byte(strings.TrimSuffix(out, "Choose a nickname: ")))

	// Closing nc's input makes it half-close (-N); the server finishes and
	// closes, and nc exits 0.
	if err := p.Stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(t); err != nil {
		t.Fatalf("nc: %v; output:\n%s", err, p.Out.String())
	}
	dave.Expect("*** caz left #lobby (hangup)")
	servertest.WaitFor(t, "nc's session to end", func() bool { return s.Server.Active() == 1 })
}

// telnetScript drives inetutils telnet (line mode: a port is given, so it
// negotiates nothing). Each step waits for bob's answer, which the test
// sends when bob has seen the step's line. Failures exit non-zero with a
// marker line.
const telnetScript = `
set timeout 10
set port [lindex $argv 0]
set ayt [lindex $argv 1]
proc want {pat} {
	expect {
		-ex $pat {}
		timeout { puts "\n@@ timeout waiting for: $pat"; exit 2 }
		eof { puts "\n@@ eof waiting for: $pat"; exit 3 }
	}
}
spawn telnet 127.0.0.1 $port
want "Choose a nickname: "
send "tom\r"
want "You are now in #lobby"
send "hello from telnet\r"
want "<bob> hi tom"

# Ctrl-C: line-mode telnet sends IAC IP IAC DO TIMING-MARK and shows no
# output until the TIMING-MARK answer arrives.
send "\003"
send "after ctrl-c\r"
want "<bob> seen ctrl-c"

# ^] send ayt: the server must answer visibly.
send "\035"
want "telnet> "
send "send ayt\r"
want $ayt

# ^] send ip: an interrupt alone.
send "\035"
want "telnet> "
send "send ip\r"
send "after ip\r"
want "<bob> seen ip"

# ^] send synch: IAC goes as TCP urgent data, then DM.
send "\035"
want "telnet> "
send "send synch\r"
send "after synch\r"
want "<bob> seen synch"

send "esc \033\[31mred\r"
want "<bob> seen esc"
send "/quit bye\r"
want "Goodbye, tom!"
want "Connection closed by foreign host."
expect eof
lassign [wait] pid spawnid oserr status
puts "\n@@ telnet exit status $status"
exit $status
`

// TestInetutilsTelnet drives Debian's telnet through expect: login, chat,
// Ctrl-C (answered TIMING-MARK, so later output still shows), AYT, IP, Synch,
// escape sequences and /quit.
func TestInetutilsTelnet(t *testing.T) {
	expect := servertest.RequireBinary(t, "expect")
	servertest.RequireBinary(t, "telnet")
	s := servertest.Start(t, servertest.Config{})
	bob := s.Login(t, "bob")
	script := filepath.Join(t.TempDir(), "telnet.exp")
	if err := os.WriteFile(script, []byte(telnetScript), 0o600); err != nil {
		t.Fatal(err)
	}
	ayt := strings.TrimSpace(tn.AYTAnswer)
	p := servertest.StartProcess(t, nil, expect, "-f", script, s.Port(), ayt)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("expect transcript:\n%s", p.Out.String())
		}
	})
	// If the script fails, stop bob's waiting at once.
	stop := make(chan struct{})
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		select {
		case <-p.Done():
			if p.Err() != nil {
				_ = bob.Conn.Close()
			}
		case <-stop:
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-watcherDone
	})

	bob.Expect("*** tom joined #lobby")
	steps := []struct{ from, reply string }{
		{"<tom> hello from telnet", "hi tom"},
		{"<tom> after ctrl-c", "seen ctrl-c"},
		{"<tom> after ip", "seen ip"},
		{"<tom> after synch", "seen synch"},
		{"<tom> esc red", "seen esc"},
	}
	for _, st := range steps {
		expectExactLine(t, bob, "<tom>", st.from)
		bob.Send(st.reply)
	}
	bob.Expect("*** tom left #lobby (quit: bye)")
	if err := p.Wait(t); err != nil {
		t.Fatalf("expect/telnet: %v", err)
	}
	out := p.Out.String()
	if !strings.Contains(out, ayt) {
		t.Fatalf("no AYT answer in %q", out)
	}
	// The terminal shows the typed line once: its local echo, no server echo.
	if n := strings.Count(out, "hello from telnet"); n != 1 {
		t.Fatalf("typed line shown %d times, want 1:\n%s", n, out)
	}
	servertest.WaitFor(t, "telnet's session to end", func() bool { return s.Server.Active() == 1 })
}

// sendUrgent sends one byte as TCP urgent data (MSG_OOB), as telnet clients
// do for the Synch.
func sendUrgent(t *testing.T, c *net.TCPConn, b byte) {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var sendErr error
	err = raw.Write(func(fd uintptr) bool {
		sendErr = syscall.Sendto(int(fd), []byte{b}, syscall.MSG_OOB, nil)
		return !errors.Is(sendErr, syscall.EAGAIN)
	})
	if err != nil || sendErr != nil {
		t.Fatalf("send urgent byte: %v, %v", err, sendErr)
	}
}

// TestSynchUrgentData sends the Telnet Synch (IAC DM) with one of its bytes
// as TCP urgent data. Linux takes an urgent byte out of the stream unless
// SO_OOBINLINE is set; the text around the Synch must arrive intact, with
// no stray byte and no byte swallowed.
func TestSynchUrgentData(t *testing.T) {
	const iac, dm = 0xff, 0xf2
	s := servertest.Start(t, servertest.Config{})
	bob := s.Login(t, "bob")
	alice := s.Login(t, "alice")
	bob.Expect("*** alice joined")
	cases := []struct {
		name   string
		before string
		urgent byte   // sent as urgent data after before
		after  []byte // sent normally after the urgent byte
		want   string
	}{
		// inetutils/netkit: IAC urgent, DM in the normal stream.
		{"IAC urgent mid-line", "before", iac, append([]byte{dm}, " after\n"...), "<alice> before after"},
		{"IAC urgent at line start", "", iac, append([]byte{dm}, "text\n"...), "<alice> text"},
		// PuTTY: IAC in the normal stream, DM urgent.
		{"DM urgent", "x\xff", dm, []byte("yz\n"), "<alice> xyz"},
	}
	for _, tc := range cases {
		if tc.before != "" {
			alice.Write([]byte(tc.before))
		}
		sendUrgent(t, alice.Conn, tc.urgent)
		alice.Write(tc.after)
		l := bob.Expect("<alice>")
		if l != tc.want {
			t.Fatalf("%s: bob got %q, want %q", tc.name, l, tc.want)
		}
	}
	// The session goes on normally.
	bob.Send("still here")
	expectExactLine(t, alice, "<bob>", "<bob> still here")
}
