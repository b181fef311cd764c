package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"telchat/store"
	"telchat/store/boltstore"
)

// readContains reads raw bytes until text has come (a prompt without a
// line end, say), and returns them, text included.
func readContains(t *testing.T, r *bufio.Reader, text string) string {
	t.Helper()
	var seen strings.Builder
	for {
		b, err := r.ReadByte()
		if err != nil {
			t.Fatalf("waiting for %q: %v; got %q", text, err, seen.String())
		}
		seen.WriteByte(b)
		if strings.HasSuffix(seen.String(), text) {
			return seen.String()
		}
	}
}

// connect dials the chat port and reads up to the nickname prompt.
func connect(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(2 * waitLimit))
	r := bufio.NewReader(c)
	readContains(t, r, "Choose a nickname: ")
	return c, r
}

// send writes one line.
func send(t *testing.T, c net.Conn, line string) {
	t.Helper()
	if _, err := fmt.Fprintf(c, "%s\n", line); err != nil {
		t.Fatal(err)
	}
}

// register makes the logged-in user's nickname an account.
func register(t *testing.T, c net.Conn, r *bufio.Reader, nick, pw string) {
	t.Helper()
	send(t, c, "/register")
	readContains(t, r, "Password: ")
	send(t, c, pw)
	readContains(t, r, "Again: ")
	send(t, c, pw)
	readUntil(t, r, "*** "+nick+" is registered to you")
}

var retryIn = regexp.MustCompile(`try again in (\d+)s`)

// password answers a password prompt; when the server says to wait (the
// per-address backoff after a wrong password), it waits as told and
// answers again. It returns the server's answer line.
func password(t *testing.T, c net.Conn, r *bufio.Reader, pw string) string {
	t.Helper()
	for range 10 {
		send(t, c, pw)
		l := readUntil(t, r, "")
		m := retryIn.FindStringSubmatch(l)
		if m == nil {
			return l
		}
		readContains(t, r, "Password: ")
		secs, _ := strconv.Atoi(m[1])
		time.Sleep(time.Duration(secs) * time.Second) // the wait the server asked for
	}
	t.Fatal("still told to wait after 10 answers")
	return ""
}

// TestAccountsAcrossRestart: a registered name survives a restart and asks
// for its password; a look-alike is refused; wrong passwords are refused
// (three end the attempt); /nick cannot take it; private messages sent
// while its owner was away wait, and come once, in order, after the login.
func TestAccountsAcrossRestart(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	args := []string{"-data-dir", dir, "-msg-rate", "0"}
	s := startServer(t, bin, nil, args...)
	alice, aliceR := login(t, s.addr, "alice")
	register(t, alice, aliceR, "alice", "correct horse")
	send(t, alice, "/register")
	readUntil(t, aliceR, "registered already")
	send(t, alice, "/quit")
	readUntil(t, aliceR, "Goodbye")

	bob, bobR := login(t, s.addr, "bob")
	send(t, bob, "/msg alice first")
	readUntil(t, bobR, "alice is not online; they will get your message when they log in: first")
	send(t, bob, "/msg alice second")
	readUntil(t, bobR, "when they log in: second")
	send(t, bob, "/nick Alice")
	readUntil(t, bobR, "registered")
	send(t, bob, "/msg nobody hi")
	readUntil(t, bobR, "No such user")
	stopServer(t, s)

	s = startServer(t, bin, nil, args...)
	c, r := connect(t, s.addr)
	send(t, c, "aIice")
	readContains(t, r, "Choose a nickname: ")
	send(t, c, "alice")
	head := readContains(t, r, "Password: ")
	if !strings.Contains(head, "alice is a registered nickname") || !strings.Contains(head, "shows what you type") {
		t.Fatalf("before the password prompt: %q", head)
	}
	if l := password(t, c, r, "wrong password"); !strings.Contains(l, "Wrong password") {
		t.Fatalf("a wrong password: %q", l)
	}
	readContains(t, r, "Password: ")
	if l := password(t, c, r, "correct horse"); !strings.Contains(l, "Welcome, alice!") {
		t.Fatalf("the right password: %q", l)
	}
	readUntil(t, r, "2 messages came while you were away")
	if l := readUntil(t, r, "[away "); !strings.HasSuffix(strings.TrimSpace(l), "*bob* first") {
		t.Fatalf("first offline message: %q", l)
	}
	if l := readUntil(t, r, "[away "); !strings.HasSuffix(strings.TrimSpace(l), "*bob* second") {
		t.Fatalf("second offline message: %q", l)
	}
	readUntil(t, r, "*** End of messages")
	send(t, c, "/quit")
	readUntil(t, r, "Goodbye")

	// Three wrong passwords end the attempt; another name is then fine.
	c2, r2 := connect(t, s.addr)
	send(t, c2, "alice")
	readContains(t, r2, "Password: ")
	for i := range 3 {
		l := password(t, c2, r2, fmt.Sprintf("nope %d", i))
		if !strings.Contains(l, "Wrong password") || i == 2 && !strings.Contains(l, "Wrong password 3 times") {
			t.Fatalf("wrong password %d: %q", i+1, l)
		}
		if i < 2 {
			readContains(t, r2, "Password: ")
		}
	}
	readContains(t, r2, "Choose a nickname: ")
	send(t, c2, "zed")
	readUntil(t, r2, "Welcome, zed!")
	stopServer(t, s)

	// The messages were handed out once: none is left.
	db, err := boltstore.Open(dir, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	left := make(chan int, 1)
	db.TakeOffline("alice", func(o []store.Offline, err error) {
		if err != nil {
			t.Error(err)
		}
		left <- len(o)
	})
	if n := <-left; n != 0 {
		t.Fatalf("%d offline messages left after their delivery", n)
	}
}

// TestAcknowledgedRegistrationsSurviveKill: users register in a burst
// while chat goes on; the server is killed (SIGKILL) right after the last
// acknowledgement; after a restart every acknowledged name asks for its
// password.
func TestAcknowledgedRegistrationsSurviveKill(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	args := []string{"-data-dir", dir, "-msg-rate", "0", "-accounts-per-day", "0", "-max-per-ip", "0", "-connect-rate", "0"}
	s := startServer(t, bin, nil, args...)
	const n = 8
	type user struct {
		c net.Conn
		r *bufio.Reader
	}
	users := make([]user, n)
	for i := range users {
		users[i].c, users[i].r = login(t, s.addr, fmt.Sprintf("user%d", i))
	}
	for i, u := range users {
		send(t, u.c, "/register")
		readContains(t, u.r, "Password: ")
		send(t, u.c, fmt.Sprintf("password%d", i))
		readContains(t, u.r, "Again: ")
		send(t, u.c, fmt.Sprintf("password%d", i))
	}
	for i, u := range users {
		readUntil(t, u.r, fmt.Sprintf("*** user%d is registered to you", i))
	}
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = s.wait(t)

	s = startServer(t, bin, nil, args...)
	for i := range n {
		c, r := connect(t, s.addr)
		send(t, c, fmt.Sprintf("user%d", i))
		if head := readContains(t, r, "Password: "); !strings.Contains(head, "is a registered nickname") {
			t.Fatalf("user%d after the kill: %q", i, head)
		}
		_ = c.Close()
	}
}

// TestAccountAdmin: /accounts lists, /opers add makes the owner an admin
// at login, /resetpass (admin socket) gives a working password, /drop
// frees the name, /unregister gives it up, /purge removes what a name
// said.
func TestAccountAdmin(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	sock := filepath.Join(t.TempDir(), "a.sock")
	s := startServer(t, bin, nil, "-data-dir", dir, "-admin-socket", sock, "-msg-rate", "0")
	admin, adminR := dialAdmin(t, sock)

	carol, carolR := login(t, s.addr, "carol")
	register(t, carol, carolR, "carol", "carol's pass")
	send(t, carol, "hello from carol")
	send(t, carol, "/quit")
	readUntil(t, carolR, "Goodbye")

	fmt.Fprintf(admin, "accounts\n")
	readUntil(t, adminR, "1 account")
	readUntil(t, adminR, "carol  registered")
	fmt.Fprintf(admin, "opers add carol\n")
	readUntil(t, adminR, "The account carol is an operator")
	fmt.Fprintf(admin, "resetpass carol\n")
	l := readUntil(t, adminR, "New password for carol: ")
	pw := strings.Fields(strings.SplitN(l, "New password for carol: ", 2)[1])[0]

	c, r := connect(t, s.addr)
	send(t, c, "carol")
	readContains(t, r, "Password: ")
	if l := password(t, c, r, pw); !strings.Contains(l, "Welcome, carol!") {
		t.Fatalf("login with the reset password: %q", l)
	}
	readUntil(t, r, "you are now an admin")
	send(t, c, "/history 5")
	readUntil(t, r, "<carol> hello from carol")
	send(t, c, "/purge carol")
	readUntil(t, r, "Removed 1 line by carol")
	send(t, c, "/history 5")
	readUntil(t, r, "No messages in #lobby")
	send(t, c, "/resetpass carol")
	readUntil(t, r, "works only on the server's console or admin socket")

	send(t, c, "/passwd")
	readContains(t, r, "Current password: ")
	send(t, c, pw)
	readContains(t, r, "New password: ")
	send(t, c, "new password 1")
	readContains(t, r, "Again: ")
	send(t, c, "new password 1")
	readUntil(t, r, "*** Password changed")
	send(t, c, "/unregister")
	readContains(t, r, "your password: ")
	send(t, c, "new password 1")
	readUntil(t, r, "carol is no longer registered")

	dave, daveR := login(t, s.addr, "dave")
	register(t, dave, daveR, "dave", "dave's pass")
	fmt.Fprintf(admin, "drop dave\n")
	readUntil(t, adminR, "The account dave is removed")
	send(t, dave, "/quit")
	readUntil(t, daveR, "Goodbye")
	login(t, s.addr, "dave") // no password asked
}

// TestLoginTimeoutRefusesTheName: no password within the nickname timeout
// refuses the registered name, and the user may choose another.
func TestLoginTimeoutRefusesTheName(t *testing.T) {
	bin := buildServer(t)
	s := startServer(t, bin, nil, "-data-dir", t.TempDir(), "-nick-timeout", "2s")
	alice, aliceR := login(t, s.addr, "alice")
	register(t, alice, aliceR, "alice", "pass word 1")
	send(t, alice, "/quit")
	readUntil(t, aliceR, "Goodbye")

	c, r := connect(t, s.addr)
	send(t, c, "alice")
	readContains(t, r, "Password: ")
	// The server's clock decides: wait for its answer.
	if l := readUntil(t, r, "!"); !strings.Contains(l, "No password given in time") {
		t.Fatalf("after the nickname timeout: %q", l)
	}
	readContains(t, r, "Choose a nickname: ")
	send(t, c, "zed")
	readUntil(t, r, "Welcome, zed!")
}

// TestRegisterInCharacterMode: in character mode the passwords of
// /register are asked without echo, and without the line-mode warning.
func TestRegisterInCharacterMode(t *testing.T) {
	bin := buildServer(t)
	s := startServer(t, bin, nil, "-data-dir", t.TempDir())
	c, r := connect(t, s.addr)
	// DO ECHO, DO SGA (inetutils' "mode character"), then TTYPE xterm.
	if _, err := c.Write([]byte{0xff, 0xfd, 0x01, 0xff, 0xfd, 0x03, 0xff, 0xfb, 0x18, 0xff, 0xfa, 0x18, 0x00, 'x', 't', 'e', 'r', 'm', 0xff, 0xf0}); err != nil {
		t.Fatal(err)
	}
	readContains(t, r, "Character mode")
	fmt.Fprint(c, "hana\r\x00")
	readContains(t, r, "You are now in #lobby")
	fmt.Fprint(c, "/register\r\x00")
	seen := readContains(t, r, "Password: ")
	fmt.Fprint(c, "hidden pw 1\r\x00")
	seen += readContains(t, r, "Again: ")
	fmt.Fprint(c, "hidden pw 1\r\x00")
	seen += readContains(t, r, "hana is registered to you")
	if strings.Contains(seen, "hidden") || strings.Contains(seen, "shows what you type") {
		t.Fatalf("in character mode: %q", seen)
	}
}

// TestAccountsPerDay: one address registers at most -accounts-per-day
// names a day; the refusal says so, and a bad password length is refused
// with the bounds.
func TestAccountsPerDay(t *testing.T) {
	bin := buildServer(t)
	s := startServer(t, bin, nil, "-data-dir", t.TempDir(), "-accounts-per-day", "1")
	a, ar := login(t, s.addr, "ann")
	send(t, a, "/register")
	readContains(t, ar, "Password: ")
	send(t, a, "short")
	if head := readContains(t, ar, "Password: "); !strings.Contains(head, "8 to 128 bytes") {
		t.Fatalf("a 5-byte password: %q", head)
	}
	send(t, a, "long enough")
	readContains(t, ar, "Again: ")
	send(t, a, "long enough")
	readUntil(t, ar, "*** ann is registered to you")
	b, br := login(t, s.addr, "ben")
	send(t, b, "/register")
	readUntil(t, br, "Too many accounts were registered from your address today")
}
