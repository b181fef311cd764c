package commands_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"

	"telchat/admin"
	"telchat/client"
	"telchat/commands"
	"telchat/hub"
	"telchat/internal/servertest"
	"telchat/store"
	"telchat/usertext"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// shortLinger keeps a shutdown from waiting on test clients that stay open.
const shortLinger = 20 * time.Millisecond

// operPassword is the /oper password of the test servers.
const operPassword = "correct horse"

// passwordCheck returns a PasswordCheck for operPassword with a real
// bcrypt hash (at the minimum cost, to keep tests fast).
func passwordCheck(t testing.TB) func(string) bool {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(operPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return func(pw string) bool { return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil }
}

// start runs a server whose /oper password is operPassword.
func start(t *testing.T, cfg servertest.Config) *servertest.Server {
	t.Helper()
	if cfg.Hub.PasswordCheck == nil {
		cfg.Hub.PasswordCheck = passwordCheck(t)
	}
	return servertest.Start(t, cfg)
}

// loginAdmin logs nick in and makes it an admin with /oper.
func loginAdmin(t *testing.T, s *servertest.Server, nick string) *servertest.Client {
	t.Helper()
	c := s.Login(t, nick)
	c.Send("/oper " + operPassword)
	c.Expect("*** You are now an admin")
	return c
}

// absent fails the test if any line contains text.
func absent(t *testing.T, who string, lines []string, text string) {
	t.Helper()
	for _, l := range lines {
		if strings.Contains(l, text) {
			t.Fatalf("%s got %q, which must not reach them (lines: %q)", who, l, lines)
		}
	}
}

// say sends chat text and waits until the server has handled it.
func say(c *servertest.Client, text string) {
	c.Send(text)
	c.Sync()
}

func TestRoomsKeepTextApart(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	carol := s.Login(t, "carol")
	alice.Expect("carol joined #lobby")
	bob.Expect("carol joined #lobby")

	bob.Send("/join games")
	bob.Expect("*** You are now in #games with 0 other users")
	alice.Expect("*** bob left #lobby (joined #games)")
	carol.Expect("*** bob left #lobby (joined #games)")
	carol.Send("/j #GAMES") // alias, '#', other case: the same room
	carol.Expect("*** You are now in #games with 1 other user")
	bob.Expect("*** carol joined #games")

	say(alice, "lobby text")
	say(alice, "/me dances in the lobby")
	bob.Send("games text")
	bob.Send("/me dances in games")
	carol.Expect("<bob> games text")
	carol.Expect("* bob dances in games")
	bob.Sync()
	for _, l := range alice.Sync() {
		if strings.Contains(l, "games text") || strings.Contains(l, "dances in games") {
			t.Fatalf("alice in the lobby got %q", l)
		}
	}
	for _, c := range []*servertest.Client{bob, carol} {
		for _, l := range c.Sync() {
			if strings.Contains(l, "lobby text") || strings.Contains(l, "dances in the lobby") {
				t.Fatalf("%s in #games got %q", c.Nick, l)
			}
		}
	}

	bob.Send("/rooms")
	bob.Expect("*** 2 rooms:")
	if l := bob.Line(); l != "  #games (2)" {
		t.Fatalf("rooms line %q", l)
	}
	if l := bob.Line(); l != "  #lobby (1)" {
		t.Fatalf("rooms line %q", l)
	}
	bob.Send("/who")
	bob.Expect("*** 2 in #games: bob, carol")
	bob.Send("/names")
	bob.Expect("*** 2 in #games: bob, carol")

	bob.Send("/part")
	bob.Expect("*** You are now in #lobby with 1 other user")
	carol.Expect("*** bob left #games (joined #lobby)")
	alice.Expect("*** bob joined #lobby")
	carol.Send("/leave")
	carol.Expect("You are now in #lobby")
	carol.Send("/part")
	carol.Expect("! You are in the lobby already")
	carol.Send("/join lobby")
	carol.Expect("! You are already in #lobby")
	// The empty room is gone.
	carol.Send("/rooms")
	carol.Expect("*** 1 room:")
	carol.Expect("  #lobby (3)")

	for _, bad := range []string{"bad!name", strings.Repeat("r", 33), "#", "a b", "ünï"} {
		carol.Send("/join " + bad)
		l := carol.Line()
		if !strings.HasPrefix(l, "! ") {
			t.Fatalf("/join %q: got %q, want an error", bad, l)
		}
	}
	carol.Send("/join " + strings.Repeat("r", 32))
	carol.Expect("You are now in #" + strings.Repeat("r", 32))
}

func TestHistoryShownToJoiners(t *testing.T) {
	s := start(t, servertest.Config{Hub: hub.Config{HistorySize: 3}})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	alice.Send("/join den")
	alice.Expect("You are now in #den")
	bob.Send("/join den")
	bob.Expect("You are now in #den")
	for _, m := range []string{"m1", "m2", "m3"} {
		say(alice, m)
	}
	say(bob, "from bob")
	say(alice, "/me m5")

	carol := s.Login(t, "carol")
	carol.Send("/join den")
	carol.Expect("You are now in #den with 2 other users")
	want := []string{
		"*** Last 3 messages in #den:",
		"[history] <alice> m3",
		"[history] <bob> from bob",
		"[history] * alice m5",
		"*** End of history",
	}
	for _, w := range want {
		if l := carol.Line(); l != w {
			t.Fatalf("got %q, want %q", l, w)
		}
	}

	// Someone who ignores bob is not shown his lines as history either.
	dave := s.Login(t, "dave")
	dave.Send("/ignore bob")
	dave.Expect("You are now ignoring bob")
	dave.Send("/join den")
	dave.Expect("You are now in #den")
	if l := dave.Line(); l != "*** Last 2 messages in #den:" {
		t.Fatalf("got %q", l)
	}
	absent(t, "dave", dave.Sync(), "from bob")
}

func TestHistoryDisabled(t *testing.T) {
	s := start(t, servertest.Config{Hub: hub.Config{HistorySize: -1}})
	alice := s.Login(t, "alice")
	say(alice, "not kept")
	bob := s.Login(t, "bob")
	absent(t, "bob", bob.Sync(), "history")
}

func TestTopic(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	alice.Send("/join den")
	alice.Send("/topic")
	alice.Expect("*** #den has no topic")
	alice.Send("/topic plans   for the weekend") // runs of spaces collapse (no padding)
	alice.Expect("*** alice set the topic of #den to: plans for the weekend")
	say(bob, "/join den")
	bob.Send("/topic")
	bob.Expect("*** Topic for #den: plans for the weekend")
	bob.Send("/rooms")
	bob.Expect("  #den (2) plans for the weekend")
	// A user's topic goes with the room when it empties (so users cannot
	// fill the server with rooms); an admin's topic keeps the room.
	alice.Send("/part")
	alice.Expect("You are now in #lobby")
	bob.Send("/part")
	bob.Expect("You are now in #lobby") // the room is gone before carol comes
	carol := s.Login(t, "carol")
	carol.Send("/join den")
	carol.Send("/topic")
	carol.Expect("*** #den has no topic")
	carol.Send("/part")
	carol.Send("/topic lobby topic")
	carol.Expect("! Only admins can set the lobby's topic")
	ada := loginAdmin(t, s, "ada")
	ada.Send("/join hall")
	ada.Send("/topic welcome hall")
	ada.Expect("set the topic of #hall to: welcome hall")
	ada.Send("/part")
	carol.Send("/join hall")
	carol.Expect("*** Topic for #hall: welcome hall")
	carol.Send("/topic " + strings.Repeat("t", 900))
	l := carol.Expect("set the topic of #hall to: ")
	if len(l) > 400 {
		t.Fatalf("topic not bounded: %d bytes", len(l))
	}
}

func TestPrivateMessagesAndReply(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	carol := s.Login(t, "carol")
	carol.Send("/join elsewhere")
	carol.Expect("You are now in #elsewhere")

	alice.Send("/msg BOB hi bob")
	alice.Expect("-> *bob* hi bob")
	bob.Expect("*alice* hi bob")
	bob.Send("/reply hi yourself")
	alice.Expect("*bob* hi yourself")
	bob.Expect("-> *alice* hi yourself")
	carol.Send("/w alice across rooms")
	alice.Expect("*carol* across rooms")
	absent(t, "bob", bob.Sync(), "across rooms")

	alice.Send("/away at lunch")
	alice.Expect("*** You are away: at lunch")
	bob.Send("/msg alice you there?")
	bob.Expect("*** alice is away: at lunch")

	// /reply follows the sender through a rename...
	bob.Send("/msg carol ping")
	carol.Expect("*bob* ping")
	bob.Send("/nick robert")
	bob.Expect("*** You are now known as robert")
	bob.Nick = "robert"
	carol.Send("/r pong")
	bob.Expect("*carol* pong")
	carol.Expect("-> *robert* pong")
	// ...and never reaches whoever takes a departed sender's name.
	bob.Send("/msg carol last words")
	carol.Expect("*robert* last words")
	bob.Send("/quit")
	bob.ExpectEOF()
	impostor := s.Login(t, "robert")
	carol.Send("/reply are you still there?")
	carol.Expect("! No such user: they have left")
	absent(t, "impostor", impostor.Sync(), "still there")

	alice.Send("/msg alice note to self")
	alice.Expect("! You cannot do that to yourself")
	alice.Send("/msg nobody hello")
	alice.Expect("! No such user: nobody")
	alice.Send("/msg")
	alice.Expect("! Usage: /msg NICK TEXT")
	alice.Send("/msg carol")
	alice.Expect("! Usage: /msg NICK TEXT")
	dave := s.Login(t, "dave")
	dave.Send("/reply anyone?")
	dave.Expect("! Nobody has sent you a private message yet")
}

func TestIgnoredUserNeverArrives(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	carol := s.Login(t, "carol")
	alice.Send("/ignore BOB")
	alice.Expect("*** You are now ignoring bob")

	check := func(secret string) {
		t.Helper()
		bob.Send(secret)
		bob.Send("/me " + secret)
		bob.Send("/msg alice " + secret)
		bob.Expect("-> *alice* " + secret) // the sender is not told
		carol.Expect("<" + bob.Nick + "> " + secret)
		bob.Sync()
		// A marker from someone else, handled after bob's lines: alice
		// gets it, and nothing of bob's before it.
		carol.Send("marker")
		carol.Sync()
		lines := alice.Sync()
		if !slices.Contains(lines, "<carol> marker") {
			t.Fatalf("alice did not get the marker: %q", lines)
		}
		absent(t, "alice", lines, secret)
	}
	check("secret one")
	// Renaming does not escape the ignore.
	bob.Send("/nick bobby")
	bob.Expect("You are now known as bobby")
	bob.Nick = "bobby"
	check("secret two")
	alice.Send("/ignore")
	alice.Expect("*** You are ignoring: bobby")
	alice.Send("/ignore alice")
	alice.Expect("! You cannot do that to yourself")

	alice.Send("/unignore Bobby")
	alice.Expect("*** You are no longer ignoring Bobby")
	bob.Send("back again")
	alice.Expect("<bobby> back again")
	alice.Send("/unignore bobby")
	alice.Expect("! You are not ignoring bobby")
}

func TestWhoisAwayAndNick(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	alice.Send("/whois BOB")
	l := alice.Expect("*** bob is in #lobby, idle ")
	if !strings.Contains(l, "connected since "+time.Now().UTC().Format("2006-01-02")) {
		t.Fatalf("whois: %q", l)
	}
	if strings.Contains(l, "127.0.0.1") {
		t.Fatalf("whois shows a user's address to a non-admin: %q", l)
	}
	bob.Send("/away")
	bob.Expect("*** You are not away (/away TEXT sets an away message)")
	bob.Send("/away gone fishing")
	bob.Expect("*** You are away: gone fishing")
	alice.Send("/whois bob")
	alice.Expect("*** bob is in #lobby, idle ")
	alice.Send("/whois bob")
	if l := alice.Expect("*** bob is in"); !strings.HasSuffix(l, ", away: gone fishing") {
		t.Fatalf("whois: %q", l)
	}
	alice.Send("/who")
	alice.Expect("*** 2 in #lobby: alice, bob (away)")
	bob.Send("/away")
	bob.Expect("*** You are no longer away")
	bob.Send("/away")
	bob.Expect("*** You are not away (/away TEXT sets an away message)")
	alice.Send("/who")
	alice.Expect("*** 2 in #lobby: alice, bob")

	bob.Send("/nick Bob") // a change of case is a rename
	bob.Expect("*** You are now known as Bob")
	alice.Expect("*** bob is now known as Bob")
	bob.Nick = "Bob"
	bob.Send("/nick Bob")
	bob.Expect("! That is your nickname already")
	bob.Send("/nick ALICE")
	bob.Expect("! That nickname is taken")
	bob.Send("/nick admin")
	bob.Expect("! That nickname is reserved")
	bob.Send("/nick x\x1b[2Jy")
	bob.Expect("! Nicknames cannot contain control characters")
	bob.Send("/nick two words")
	bob.Expect("! Usage: /nick NEW")
	alice.Send("/whois bob")
	alice.Expect("*** Bob is in #lobby")
	alice.Send("/whois nobody")
	alice.Expect("! No such user: nobody")
}

func TestHelpListsTheTable(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	alice.Send("/help")
	alice.Expect("*** Commands")
	lines := alice.Sync()
	table := commands.New()
	for _, c := range table.Commands() {
		found := slices.ContainsFunc(lines, func(l string) bool {
			return strings.HasPrefix(strings.TrimSpace(l), c.Usage()+" ")
		})
		if want := c.Perm == commands.Anyone; found != want {
			t.Errorf("/help for a user lists %s: %v, want %v", c.Usage(), found, want)
		}
	}
	alice.Send("/help w")
	alice.Expect("*** /msg NICK TEXT: send a private message (also /w")
	alice.Send("/h /me")
	alice.Expect("*** /me ACTION: ")
	alice.Send("/help kick")
	alice.Expect("! /kick is an operator command, for admins only")
	alice.Send("/help hepl")
	alice.Expect("(did you mean /help?)")

	admin := loginAdmin(t, s, "ada")
	admin.Send("/help")
	admin.Expect("*** Commands")
	lines = admin.Sync()
	for _, c := range table.Commands() {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, c.Usage()) }) {
			t.Errorf("/help for an admin does not list %s", c.Usage())
		}
	}
	admin.Send("/help kick")
	admin.Expect("*** /kick NICK [REASON]: ")
}

func TestUnknownCommandSuggests(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	for _, tc := range []struct{ send, want string }{
		{"/hepl", "! Unknown command /hepl: type /help for the list (did you mean /help?)"},
		{"/JION x", "! Unknown command /jion: type /help for the list (did you mean /join?)"},
		{"/wh", "(did you mean /who?)"},
		{"/xyzzy", "! Unknown command /xyzzy: type /help for the list"},
		{"/xyz", "! Unknown command /xyz: type /help for the list"}, // not "/bye": two edits in three letters
		{"/" + strings.Repeat("z", 200), "! Unknown command /" + strings.Repeat("z", 32) + "...: type /help for the list"},
		{"/", "! Empty command; type /help for the list"},
	} {
		alice.Send(tc.send)
		if l := alice.Line(); !strings.Contains(l, tc.want) || strings.Contains(tc.want, "/xyz") && l != tc.want {
			t.Errorf("%q: got %q, want %q", tc.send, l, tc.want)
		}
	}
	// Admin commands are not suggested to users.
	alice.Send("/kcik bob")
	if l := alice.Line(); strings.Contains(l, "/kick") {
		t.Errorf("admin command suggested to a user: %q", l)
	}
	// "//" starts chat text that begins with a slash.
	bob := s.Login(t, "bob")
	alice.Send("//not a command")
	bob.Expect("<alice> /not a command")
}

func TestWrongCallsGetUsage(t *testing.T) {
	s := start(t, servertest.Config{})
	user := s.Login(t, "alice")
	admin := loginAdmin(t, s, "ada")
	user.Sync()
	for _, c := range commands.New().Commands() {
		var calls []string
		if c.MinArgs > 0 {
			calls = append(calls, "/"+c.Name, "/"+c.Name+"    ")
		}
		if !c.Rest {
			calls = append(calls, "/"+c.Name+strings.Repeat(" extra", c.MaxArgs+1))
		}
		for _, call := range calls {
			who := user
			if c.Perm == commands.AdminOnly {
				who = admin
			}
			who.Send(call)
			if l := who.Line(); l != "! Usage: "+c.Usage() {
				t.Errorf("%q: got %q, want the usage line %q", call, l, c.Usage())
			}
		}
	}
	// Arguments of the wrong form get the usage line too.
	for _, call := range []string{"/mute alice forever", "/motd sett x", "/shutdown 2h"} {
		admin.Send(call)
		if l := admin.Line(); !strings.HasPrefix(l, "! Usage: /") {
			t.Errorf("%q: got %q", call, l)
		}
	}
}

func TestAdminCommandsNeedAdmin(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	alice.Sync()
	for _, c := range commands.New().Commands() {
		if c.Perm != commands.AdminOnly {
			continue
		}
		alice.Send("/" + c.Name + " bob some reason")
		if l := alice.Line(); !strings.Contains(strings.ToLower(l), "permission denied") {
			t.Errorf("/%s by a user: got %q", c.Name, l)
		}
	}
	alice.Send("/motd set mine now")
	alice.Expect("! Permission denied: only admins can set the message of the day")
	alice.Send("/motd")
	alice.Expect("*** There is no message of the day")
	// Nothing happened to bob, and he heard nothing.
	absent(t, "bob", bob.Sync(), "alice")
}

func TestOper(t *testing.T) {
	s := start(t, servertest.Config{})
	ada := s.Login(t, "ada")
	ada.Send("/oper " + operPassword)
	ada.Expect("*** You are now an admin")
	ada.Send("/oper " + operPassword)
	ada.Expect("! You are an admin already")
	ada.Send("/who")
	ada.Expect("*** 1 in #lobby: @ada")

	mallory := s.Login(t, "mallory")
	mallory.Send("/oper guess1")
	mallory.Expect("! Wrong password")
	// The first failure means a 2 s wait, and the answer says how long.
	waitSays := regexp.MustCompile(`^! Too many attempts, try again in [12]s\r?\n?$`)
	mallory.Send("/oper guess2")
	if l := mallory.Expect("! Too many attempts"); !waitSays.MatchString(l) {
		t.Fatalf("refused /oper said %q", l)
	}
	// Reconnecting from the same address does not reset the limit, even
	// with the right password.
	again := s.Login(t, "mallory2")
	again.Send("/oper " + operPassword)
	if l := again.Expect("! Too many attempts"); !waitSays.MatchString(l) {
		t.Fatalf("refused /oper said %q", l)
	}
	again.Send("/kick ada")
	again.Expect("! Permission denied")

	plain := servertest.Start(t, servertest.Config{})
	u := plain.Login(t, "alice")
	u.Send("/oper anything")
	u.Expect("! /oper is not enabled on this server")
}

func TestKick(t *testing.T) {
	s := start(t, servertest.Config{})
	ada := loginAdmin(t, s, "ada")
	bob := s.Login(t, "bob")
	carol := s.Login(t, "carol")
	ada.Send("/kick BOB spamming the lobby")
	ada.Expect("*** Kicked bob")
	out := bob.ExpectEOF() // an orderly close, not a reset
	if !strings.Contains(out, "*** You were kicked by ada: spamming the lobby\r\n") {
		t.Fatalf("kicked client got %q", out)
	}
	carol.Expect("*** bob left #lobby (kicked: spamming the lobby)")
	ada.Send("/kick ada")
	ada.Expect("! You cannot do that to yourself")
	ada.Send("/kick bob")
	ada.Expect("! No such user: bob")
	ada.Send("/kick carol")
	carol.ExpectEOF()
	// The nickname is free again.
	s.Login(t, "bob")
}

func TestMove(t *testing.T) {
	s := start(t, servertest.Config{})
	ada := loginAdmin(t, s, "ada")
	bob := s.Login(t, "bob")
	carol := s.Login(t, "carol")
	carol.Send("/join games")
	carol.Expect("You are now in #games")
	ada.Send("/move Bob Games")
	ada.Expect("*** bob left #lobby (joined #games)")
	ada.Expect("*** Moved bob to #games")
	bob.Expect("*** You were moved to #games by ada")
	bob.Expect("*** You are now in #games with 1 other user")
	carol.Expect("*** bob joined #games")
	bob.Send("in games now")
	carol.Expect("<bob> in games now")
	bob.Sync()
	absent(t, "ada", ada.Sync(), "in games now")
	ada.Send("/move bob games")
	ada.Expect("! Cannot move bob: already in #games")
	ada.Send("/move bob no/such")
	ada.Expect("! Room name must be")
	ada.Send("/move nobody games")
	ada.Expect("! No such user: nobody")
	ada.Send("/move bob newroom")
	bob.Expect("You are now in #newroom with 0 other users")
	carol.Expect("*** bob left #games (joined #newroom)")
}

func TestBanKicksAndRefuses(t *testing.T) {
	s := start(t, servertest.Config{})
	ada := loginAdmin(t, s, "ada")
	bob := s.Login(t, "bob")
	carol := s.Login(t, "carol")

	ada.Send("/ban Bob 1h flooding")
	ada.Expect("*** Banned bob for 1h0m0s; 1 connection(s) kicked")
	if out := bob.ExpectEOF(); !strings.Contains(out, "*** You were banned by ada: flooding") {
		t.Fatalf("banned client got %q", out)
	}
	carol.Expect("*** bob left #lobby (banned: flooding)")
	// The nickname is refused at login, with the reason.
	c := s.Dial(t)
	c.ExpectPrompt()
	c.Send("BOB")
	if out := c.ExpectEOF(); !strings.Contains(out, "! You are banned from this server: flooding") {
		t.Fatalf("got %q", out)
	}
	carol.Send("/nick bob")
	carol.Expect("! That nickname is banned: flooding")
	ada.Send("/bans")
	ada.Expect("*** 1 ban:")
	if l := ada.Line(); !strings.HasPrefix(l, "  bob by ada since ") || !strings.HasSuffix(l, ": flooding") || !strings.Contains(l, "until") {
		t.Fatalf("ban line %q", l)
	}
	ada.Send("/unban BOB")
	ada.Expect("*** Unbanned bob")
	ada.Send("/unban bob")
	ada.Expect("! No such ban: bob")
	s.Login(t, "bob")

	// An address ban kicks everyone on it except the admin, who is told,
	// and refuses new connections before they pick a nickname.
	ada.Send("/ban 127.0.0.1 spammers")
	ada.Expect("*** Banned 127.0.0.1 for good; 2 connection(s) kicked (the ban matches you too")
	carol.ExpectEOF()
	if out := s.Dial(t).ExpectEOF(); out != "! You are banned from this server: spammers\r\n" {
		t.Fatalf("banned address got %q", out)
	}
	ada.Send("/ban 10.1.2.3/8")
	ada.Expect("*** Banned 10.0.0.0/8 for good; 0 connection(s) kicked")
	for _, bad := range []string{"10.0.0.300", "*", "a:b", "ab?"} {
		ada.Send("/ban " + bad)
		if l := ada.Line(); !strings.HasPrefix(l, "! Bad ban mask") {
			t.Errorf("/ban %q: got %q", bad, l)
		}
	}
	ada.Send("/unban 127.0.0.1")
	ada.Expect("*** Unbanned 127.0.0.1")
	s.Login(t, "carol")
}

func TestUnicodeNicknameBansCoverLookAlikes(t *testing.T) {
	s := start(t, servertest.Config{Hub: hub.Config{Nick: usertext.NickRules{Unicode: true}}})
	ada := loginAdmin(t, s, "ada")
	cases := []struct {
		ban     string   // the banned nickname, as the admin types it
		refused []string // nicknames refused at login because of it
	}{
		{"\u0441\u043e\u0440", []string{"\u0441\u043e\u0440", "cop", "COP"}},                                             // сор (Cyrillic) and its Latin look-alike
		{"\u0410\u043b\u0438\u0441\u0430", []string{"\u0410\u043b\u0438\u0441\u0430", "\u0430\u043b\u0438\u0441\u0430"}}, // Алиса, any case
		{"cop2", []string{"\u0441\u043e\u04402"}},                                                                        // a Latin ban covers the Cyrillic look-alike
		{"bill", []string{"biII", "BILL"}},                                                                               // capital i for l: the Lookalike key
	}
	for _, tc := range cases {
		ada.Send("/ban " + tc.ban + " 1h impostor")
		ada.Expect("*** Banned ")
		for _, nick := range tc.refused {
			c := s.Dial(t)
			c.ExpectPrompt()
			c.Send(nick)
			if out := c.ExpectEOF(); !strings.Contains(out, "! You are banned from this server: impostor") {
				t.Fatalf("ban %q, login %q (%+q): got %q", tc.ban, nick, nick, out)
			}
		}
	}
	// A user already online under a look-alike is kicked by the ban.
	bob := s.Login(t, "bob")
	ada.Send("/ban \uff42\uff4f\uff42 1h impostor") // ｂｏｂ (fullwidth): a look-alike of bob
	if out := bob.ExpectEOF(); !strings.Contains(out, "You were banned by ada") {
		t.Fatalf("look-alike ban did not kick bob: %q", out)
	}
	// Other names are not caught.
	s.Login(t, "carol")
}

func TestNicknameBansCoverLookAlikes(t *testing.T) {
	s := start(t, servertest.Config{}) // ASCII nicknames, the default
	ada := loginAdmin(t, s, "ada")
	cases := []struct {
		ban     string   // the banned nickname, as the admin types it
		refused []string // nicknames refused at login because of it
	}{
		{"alice", []string{"alice", "ALICE", "aIice", "a1ice", "AL1CE"}},
		{"bob", []string{"b0b", "B0B"}},
		{"m", []string{"rn", "M"}},
	}
	for _, tc := range cases {
		ada.Send("/ban " + tc.ban + " 1h impostor")
		ada.Expect("*** Banned ")
		for _, nick := range tc.refused {
			c := s.Dial(t)
			c.ExpectPrompt()
			c.Send(nick)
			if out := c.ExpectEOF(); !strings.Contains(out, "! You are banned from this server: impostor") {
				t.Fatalf("ban %q, login %q: got %q", tc.ban, nick, out)
			}
		}
	}
	// A user already online under a look-alike is kicked by the ban.
	c0p := s.Login(t, "c0p")
	ada.Send("/ban cop 1h impostor")
	if out := c0p.ExpectEOF(); !strings.Contains(out, "You were banned by ada") {
		t.Fatalf("look-alike ban did not kick c0p: %q", out)
	}
	// Other names are not caught.
	s.Login(t, "bobby")
	s.Login(t, "alice2")
}

func TestMute(t *testing.T) {
	s := start(t, servertest.Config{})
	ada := loginAdmin(t, s, "ada")
	bob := s.Login(t, "bob")
	carol := s.Login(t, "carol")
	ada.Send("/mute BOB 10m")
	ada.Expect("*** Muted bob for 10m0s")
	bob.Expect("*** You have been muted by ada for 10m0s")
	for _, line := range []string{"muted text", "/me muted action", "/msg carol muted private", "/topic muted topic"} {
		bob.Send(line)
		bob.Expect("! You are muted; your message was not sent")
	}
	carol.Send("marker")
	bob.Expect("<carol> marker")
	bob.Sync()
	absent(t, "carol", carol.Sync(), "muted")
	ada.Send("/whois bob")
	ada.Expect(", muted")
	ada.Send("/unmute bob")
	ada.Expect("*** Unmuted bob")
	bob.Expect("*** You may speak again")
	bob.Send("free again")
	carol.Expect("<bob> free again")
	ada.Send("/unmute bob")
	ada.Expect("! There is no mute on bob")
	ada.Send("/mute ada")
	ada.Expect("! You cannot do that to yourself")
	ada.Send("/mute bob")
	ada.Expect("*** Muted bob until /unmute")
	// A muted user cannot rename (every rename is announced) ...
	bob.Send("/nick bob2")
	bob.Expect("! You are muted; you cannot change your nickname")
	// ... and the mute holds for the name: leaving and coming back does
	// not end it.
	bob.Send("/quit")
	bob.ExpectEOF()
	carol.Expect("*** bob left")
	bob = s.Login(t, "bob")
	bob.Send("still muted?")
	bob.Expect("! You are muted; your message was not sent")
	ada.Send("/unmute bob")
	ada.Expect("*** Unmuted bob")
	bob.Send("free at last")
	carol.Expect("<bob> free at last")
}

func TestWallMOTDStatsClients(t *testing.T) {
	s := start(t, servertest.Config{})
	ada := loginAdmin(t, s, "ada")
	bob := s.Login(t, "bob")
	carol := s.Login(t, "carol")
	carol.Send("/join elsewhere")
	carol.Expect("You are now in #elsewhere")
	ada.Send("/wall maintenance at noon")
	for _, c := range []*servertest.Client{ada, bob, carol} {
		c.Expect("*** NOTICE from ada: maintenance at noon")
	}
	ada.Send("/motd set Be excellent to each other")
	ada.Expect("*** Message of the day set")
	bob.Send("/motd")
	bob.Expect("*** Be excellent to each other")
	dave := s.Dial(t)
	dave.ExpectPrompt()
	dave.Send("dave")
	dave.Expect("*** Welcome, dave!")
	if l := dave.Line(); l != "*** Be excellent to each other" {
		t.Fatalf("after the welcome: %q", l)
	}

	ada.Send("/stats")
	l := ada.Expect("*** uptime ")
	for _, want := range []string{"connections now 4 (named 4)", "total 4", "/s)", "dropped slow 0"} {
		if !strings.Contains(l, want) {
			t.Errorf("stats %q lacks %q", l, want)
		}
	}
	ada.Send("/clients")
	ada.Expect("*** 4 connections:")
	lines := ada.Sync()
	var bobLine string
	for _, l := range lines {
		if strings.HasPrefix(l, "  bob ") {
			bobLine = l
		}
	}
	for _, want := range []string{" 127.0.0.1:", " #lobby since " + time.Now().UTC().Format("2006-01-02"), " in=", "B out=", "B queued="} {
		if !strings.Contains(bobLine, want) {
			t.Errorf("clients line %q lacks %q (all: %q)", bobLine, want, lines)
		}
	}
}

func TestShutdownCommand(t *testing.T) {
	reasons := make(chan string, 2)
	s := start(t, servertest.Config{
		Hub:    hub.Config{OnShutdown: func(r string) { reasons <- r }},
		Client: client.Config{Linger: shortLinger},
	})
	ada := loginAdmin(t, s, "ada")
	bob := s.Login(t, "bob")
	ada.Send("/shutdown 100ms upgrade")
	bob.Expect("*** NOTICE from ada: Server shutting down in 100ms: upgrade")
	select {
	case r := <-reasons:
		if r != "upgrade" {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(servertest.Timeout):
		t.Fatal("no shutdown")
	}
	ada.Send("/shutdown now")
	bob.Expect("*** NOTICE from ada: Server shutting down: now")
	if r := <-reasons; r != "now" {
		t.Fatalf("reason %q", r)
	}
	// What main does when OnShutdown fires.
	s.Shutdown()
	if out := bob.ExpectEOF(); !strings.Contains(out, "test over") {
		t.Fatalf("got %q", out)
	}
}

func TestQuit(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	bob.Send("/quit see you   later")
	if out := bob.ExpectEOF(); !strings.Contains(out, "*** Goodbye, bob!") {
		t.Fatalf("got %q", out)
	}
	alice.Expect("*** bob left #lobby (quit: see you later)")
	c := s.Login(t, "carol")
	c.Send("/bye")
	c.ExpectEOF()
	alice.Expect("*** carol left #lobby (quit)")
}

// hostileArgs are arguments that must never crash, stall or confuse the hub.
var hostileArgs = []string{
	"", " ", "#", "##", "/", "//", "-", "0", "-1", "99999999999999999999", "1e9h",
	strings.Repeat("A", 900), strings.Repeat("é", 300), "\x00\x01\x02\xfe\xfd\xc3", "\x1b[2J\x1b]0;x\x07",
	"ALICE", "Alice", "bob", "BOB bob BOB", "alice alice", "%s%n%x", "../../etc/passwd",
	"127.0.0.1", "::1", "0.0.0.0/0", "lobby", "#LOBBY", "\u202eevil", "ｂｏｂ", "аdmin",
}

func TestHostileArguments(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	ada := loginAdmin(t, s, "ada")
	for _, c := range commands.New().Commands() {
		if c.Name == "quit" || c.Name == "shutdown" || c.Name == "nick" {
			continue // ending the test, or renaming alice away from her Sync
		}
		for _, arg := range hostileArgs {
			line := "/" + c.Name + " " + arg
			alice.Write([]byte(line + "\r\n"))
			if c.Perm == commands.AdminOnly && !strings.Contains(strings.ToLower(arg), "bob") &&
				!strings.Contains(strings.ToLower(arg), "alice") && !strings.Contains(arg, ".") && !strings.Contains(arg, ":") {
				// Admin commands with arguments naming nobody present.
				ada.Write([]byte(line + "\r\n"))
			}
		}
		for _, c := range []*servertest.Client{alice, ada} {
			for _, l := range c.Sync() {
				if strings.ContainsAny(l, "\x1b\x07\x00") {
					t.Fatalf("%s got control characters back: %q", c.Nick, l)
				}
			}
		}
	}
	// Everyone is still there with their name, in a room.
	alice.Send("/join lobby")
	alice.Sync()
	bob.Send("/who lobby")
	l := bob.Expect("in #lobby:")
	t.Log(l)
	for _, n := range []string{"alice", "bob", "@ada"} {
		if !strings.Contains(l, n) {
			t.Errorf("%s gone: %q", n, l)
		}
	}
	alice.Send("still here")
	bob.Expect("<alice> still here")
}

func TestBansMOTDAndTopicsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	saver := store.NewSaver(dir, zerolog.Nop())
	s1 := start(t, servertest.Config{Hub: hub.Config{State: st, Saver: saver}, Client: client.Config{Linger: shortLinger}})
	ada := loginAdmin(t, s1, "ada")
	ada.Send("/join den")
	ada.Send("/topic plans for the weekend")
	ada.Expect("*** ada set the topic of #den to: plans for the weekend")
	ada.Send("/motd set Be nice")
	ada.Expect("*** Message of the day set")
	ada.Send("/ban 127.0.0.1 spammers")
	ada.Expect("*** Banned 127.0.0.1 for good")
	s1.Shutdown()
	if err := saver.Close(context.Background()); err != nil {
		t.Fatalf("saver: %v", err)
	}

	st, err = store.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Bans) != 1 || st.Bans[0].Mask != "127.0.0.1" || st.Bans[0].Reason != "spammers" || st.Bans[0].By != "ada" ||
		st.MOTD != "Be nice" || st.Topics["den"] != "plans for the weekend" {
		t.Fatalf("loaded state %+v", st)
	}
	s2 := start(t, servertest.Config{Hub: hub.Config{State: st}})
	if out := s2.Dial(t).ExpectEOF(); out != "! You are banned from this server: spammers\r\n" {
		t.Fatalf("banned address after restart got %q", out)
	}
	con := startConsole(t, s2.Hub)
	con.Send("bans")
	con.Expect("*** 1 ban:")
	con.Expect("  127.0.0.1 by ada since ")
	con.Send("/motd")
	con.Expect("*** Be nice")
	con.Send("rooms")
	con.Expect("  #den (0) plans for the weekend")
	con.Send("unban 127.0.0.1")
	con.Expect("*** Unbanned 127.0.0.1")
	bob := s2.Dial(t)
	bob.ExpectPrompt()
	bob.Send("bob")
	bob.Expect("*** Welcome, bob!")
	bob.Expect("*** Be nice")
	bob.Send("/join DEN")
	bob.Expect("*** Topic for #den: plans for the weekend")
}

func TestCorruptStateIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(store.Path(dir), []byte(`{"version":1,"bans":[{"mask":"10.0.0.300"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := store.Load(dir)
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), store.Path(dir)) {
		t.Fatalf("Load of a corrupt file: %v", err)
	}
}

// testConsole is an operator console over pipes.
type testConsole struct {
	t     *testing.T
	in    *io.PipeWriter
	lines chan string
}

// startConsole serves an admin console on h through pipes; it is closed
// (end of input) when the test ends.
func startConsole(t *testing.T, h *hub.Hub) *testConsole {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	served := make(chan struct{})
	go func() {
		defer close(served)
		admin.Serve(h, inR, outW, "test console", zerolog.Nop())
		_ = outW.Close()
	}()
	c := &testConsole{t: t, in: inW, lines: make(chan string, 1024)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			c.lines <- strings.TrimSuffix(sc.Text(), "\r")
		}
	}()
	t.Cleanup(func() {
		_ = inW.Close()
		for range c.lines {
		}
		<-served
	})
	c.Expect("telchat admin console")
	return c
}

// Send writes one line to the console.
func (c *testConsole) Send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		c.t.Fatalf("console: write: %v", err)
	}
}

// Line returns the console's next line of output.
func (c *testConsole) Line() string {
	c.t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			c.t.Fatal("console: output ended")
		}
		return l
	case <-time.After(servertest.Timeout):
		c.t.Fatal("console: timed out waiting for a line")
	}
	return ""
}

// Expect reads console output until a line contains want.
func (c *testConsole) Expect(want string) string {
	c.t.Helper()
	timeout := time.After(servertest.Timeout)
	var seen []string
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("console: output ended waiting for %q; seen %q", want, seen)
			}
			if strings.Contains(l, want) {
				return l
			}
			seen = append(seen, l)
		case <-timeout:
			c.t.Fatalf("console: timed out waiting for %q; seen %q", want, seen)
		}
	}
}

// badDuration is the answer to a duration argument that does not parse.
func badDuration(d string) string {
	return `! Bad duration "` + d + `": use a number of seconds or a number with s, m, h or d, like 90s, 30m, 2h, 7d`
}

// TestBadDurationsAreRefused: an optional duration that starts like one
// must be one, for an admin in chat and on the console; a word is a reason.
func TestBadDurationsAreRefused(t *testing.T) {
	s := start(t, servertest.Config{})
	ada := loginAdmin(t, s, "ada")
	bob := s.Login(t, "bob")
	ada.Sync()
	con := startConsole(t, s.Hub)
	tests := []struct {
		line, want string
	}{
		{"/ban 192.0.2.3 1w", badDuration("1w")},
		{"/ban 1.2.3.4 -5", badDuration("-5")},
		{"/ban 192.0.2.4 0", badDuration("0")},
		{"/ban 192.0.2.4 +1 spam", badDuration("+1")},
		{"/ban 192.0.2.4 12x spam", badDuration("12x")},
		{"/mute bob 1w", badDuration("1w")},
		{"/mute bob -5", badDuration("-5")},
		{"/mute bob never", "! Usage: /mute NICK [DURATION]"},
		{"/shutdown 1w", badDuration("1w")},
		{"/shutdown -5 now", badDuration("-5")},
		{"/bans", "*** No bans"},
		{"/ban 192.0.2.5 spam wave", "*** Banned 192.0.2.5 for good; 0 connection(s) kicked"},
		{"/ban 192.0.2.6 90s spam", "*** Banned 192.0.2.6 for 1m30s; 0 connection(s) kicked"},
		{"/ban 192.0.2.7 7d", "*** Banned 192.0.2.7 for 168h0m0s; 0 connection(s) kicked"},
	}
	for _, tt := range tests {
		ada.Send(tt.line)
		if l := ada.Line(); l != tt.want {
			t.Errorf("ada: %q: got %q, want %q", tt.line, l, tt.want)
		}
		if strings.HasPrefix(tt.want, "! ") {
			con.Send(strings.TrimPrefix(tt.line, "/"))
			if l := con.Line(); l != tt.want {
				t.Errorf("console: %q: got %q, want %q", tt.line, l, tt.want)
			}
		}
	}
	// Nothing was muted, and the server is still up.
	bob.Send("still talking")
	ada.Expect("<bob> still talking")
	ada.Send("/bans")
	ada.Expect("*** 3 bans:")
	if l := ada.Line(); !strings.HasPrefix(l, "  192.0.2.5 by ada since ") || !strings.HasSuffix(l, ": spam wave") || strings.Contains(l, "until") {
		t.Fatalf("ban line %q", l)
	}
}

// TestConsoleSetsTopics: the console names the room; the room hears it, a
// newcomer sees it, and it survives a restart.
func TestConsoleSetsTopics(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	saver := store.NewSaver(dir, zerolog.Nop())
	s := start(t, servertest.Config{Hub: hub.Config{State: st, Saver: saver}, Client: client.Config{Linger: shortLinger}})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	bob.Send("/join den")
	bob.Expect("You are now in #den")
	alice.Sync()
	con := startConsole(t, s.Hub)
	tests := []struct {
		line    string
		console string // the console's answer
		alice   string // what alice, in #lobby, sees ("": nothing)
		bob     string // what bob, in #den, sees
	}{
		{"topic", "! Usage: /topic ROOM [TEXT]", "", ""},
		{"topic #lobby", "*** #lobby has no topic", "", ""},
		{"topic #lobby Welcome all", "*** You set the topic of #lobby to: Welcome all", "*** console set the topic of #lobby to: Welcome all", ""},
		{"/TOPIC Den 2 rules: be nice", "*** You set the topic of #den to: 2 rules: be nice", "", "*** console set the topic of #den to: 2 rules: be nice"},
		{"topic lobby", "*** Topic for #lobby: Welcome all", "", ""},
		{"topic nowhere x", "! No such room: #nowhere", "", ""},
		{"topic bad/name x", "! Room name must be", "", ""},
	}
	for _, tt := range tests {
		con.Send(tt.line)
		if l := con.Line(); !strings.HasPrefix(l, tt.console) {
			t.Errorf("console %q: got %q, want %q", tt.line, l, tt.console)
		}
		for _, u := range []struct {
			c    *servertest.Client
			want string
		}{{alice, tt.alice}, {bob, tt.bob}} {
			got := u.c.Sync()
			if u.want == "" && len(got) > 0 || u.want != "" && !slices.Equal(got, []string{u.want}) {
				t.Errorf("console %q: %s got %q, want %q", tt.line, u.c.Nick, got, u.want)
			}
		}
	}
	carol := s.Dial(t)
	carol.ExpectPrompt()
	carol.Send("carol")
	carol.Expect("You are now in #lobby")
	if l := carol.Line(); l != "*** Topic for #lobby: Welcome all" {
		t.Fatalf("newcomer got %q", l)
	}
	alice.Send("/topic")
	alice.Expect("*** Topic for #lobby: Welcome all")
	// The den is kept when it empties: an admin topic.
	bob.Send("/part")
	bob.Expect("You are now in #lobby")
	con.Send("rooms")
	con.Expect("  #den (0) 2 rules: be nice")

	s.Shutdown()
	if err := saver.Close(context.Background()); err != nil {
		t.Fatalf("saver: %v", err)
	}
	st, err = store.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Topics["lobby"] != "Welcome all" || st.Topics["den"] != "2 rules: be nice" {
		t.Fatalf("saved topics %q", st.Topics)
	}
}

// TestConsoleHelpAndWho: the console's help lists only what it can run,
// and who without a room lists every room.
func TestConsoleHelpAndWho(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	bob := s.Login(t, "bob")
	bob.Send("/join den")
	bob.Expect("You are now in #den")
	bob.Send("/away lunch")
	bob.Expect("*** You are away: lunch")
	_ = loginAdmin(t, s, "ada")
	alice.Sync()
	con := startConsole(t, s.Hub)

	con.Send("help")
	con.Expect("*** Commands (the leading / is optional here):")
	table := commands.New()
	var listed []string
	console := commands.Caller{Admin: true, Console: true}
	allowed := 0
	for _, c := range table.Commands() {
		if c.Allowed(console) {
			allowed++
		}
	}
	for range allowed {
		listed = append(listed, con.Line())
	}
	for _, c := range table.Commands() {
		got := slices.ContainsFunc(listed, func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), c.UsageFor(console)+" ") })
		if got != c.Allowed(console) {
			t.Errorf("console help lists %s: %v, want %v", c.UsageFor(console), got, c.Allowed(console))
		}
	}
	for _, tt := range []struct{ line, want string }{
		{"who", "*** 2 in #lobby: @ada, alice"},
		{"", "*** 1 in #den: bob (away)"},
		{"who #den", "*** 1 in #den: bob (away)"},
		{"help who", "*** /who [ROOM]: list the users in ROOM, or in every room (also /names)"},
		{"help nick", "! /nick is for chat users only: the console has no nickname or room"},
		{"nick boss", "! Only a chat user can do that: /nick needs a nickname and a room"},
		{"msg alice hi", "! Only a chat user can do that: /msg needs a nickname and a room"},
	} {
		if tt.line != "" {
			con.Send(tt.line)
		}
		if l := con.Line(); l != tt.want {
			t.Errorf("console %q: got %q, want %q", tt.line, l, tt.want)
		}
	}
	// Chat users' help is unchanged by the console's.
	alice.Send("/help who")
	alice.Expect("*** /who [ROOM]: list the users in your room, or in ROOM (also /names)")
	alice.Send("/help nick")
	alice.Expect("*** /nick NEW: change your nickname")
}

// TestHelpAboutAdminCommands: a user asking about an admin command hears
// the same news as running it; suggestions are only offered when close.
func TestHelpAboutAdminCommands(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	ada := loginAdmin(t, s, "ada")
	alice.Sync()
	tests := []struct {
		c          *servertest.Client
		line, want string
	}{
		{alice, "/help kick", "! /kick is an operator command, for admins only"},
		{alice, "/kick ada", "! Permission denied: /kick is for admins"},
		{alice, "/help /BAN", "! /ban is an operator command, for admins only"},
		{alice, "/help broadcast", "! /wall is an operator command, for admins only"},
		{alice, "/help zzz", "! No command /zzz; type /help for the list"},
		{alice, "/xyz", "! Unknown command /xyz: type /help for the list"},
		{alice, "/byee", "! Unknown command /byee: type /help for the list (did you mean /bye?)"},
		{alice, "/mtdo", "! Unknown command /mtdo: type /help for the list"},
		{alice, "/rommms", "! Unknown command /rommms: type /help for the list (did you mean /rooms?)"},
		{ada, "/help kick", "*** /kick NICK [REASON]: disconnect a user"},
		{ada, "/kcik", "! Unknown command /kcik: type /help for the list (did you mean /kick?)"},
	}
	for _, tt := range tests {
		tt.c.Send(tt.line)
		if l := tt.c.Line(); l != tt.want {
			t.Errorf("%s %q: got %q, want %q", tt.c.Nick, tt.line, l, tt.want)
		}
	}
}

func TestAnswersDoNotEchoHugeNamesAndSayWhatHappened(t *testing.T) {
	s := start(t, servertest.Config{})
	bob := s.Login(t, "bob")
	s.Login(t, "carol")
	bob.Expect("carol joined")
	huge := strings.Repeat("x", 1000)
	cases := []struct{ send, want string }{
		{"/whois " + huge, "! No such user: " + strings.Repeat("x", 40) + "..."},
		{"/ignore carol", "*** You are now ignoring carol"},
		{"/ignore carol", "! You are already ignoring carol"},
		{"/unignore " + huge, "! No such user: " + strings.Repeat("x", 40) + "..."},
	}
	for _, tc := range cases {
		bob.Send(tc.send)
		if l := bob.Line(); l != tc.want {
			t.Fatalf("%.40q: got %.200q, want %q", tc.send, l, tc.want)
		}
	}
}

func TestVersionInGreetingAndStats(t *testing.T) {
	tests := []struct {
		version, greeting, stats string
	}{
		{"v9.8.7", "Welcome to telchat! (telchat v9.8.7) Nicknames are", "*** telchat v9.8.7, uptime "},
		{"", "Welcome to telchat! Nicknames are", "*** uptime "},
	}
	for _, tc := range tests {
		t.Run(tc.version, func(t *testing.T) {
			s := start(t, servertest.Config{Hub: hub.Config{Version: tc.version}})
			c := s.Dial(t)
			if l := c.Expect("Welcome to"); !strings.HasPrefix(l, tc.greeting) {
				t.Errorf("greeting %q, want prefix %q", l, tc.greeting)
			}
			c.Send("ada")
			c.Expect("*** Welcome, ada!")
			c.Send("/oper " + operPassword)
			c.Expect("*** You are now an admin")
			c.Send("/stats")
			if l := c.Expect("uptime"); !strings.HasPrefix(l, tc.stats) {
				t.Errorf("stats %q, want prefix %q", l, tc.stats)
			}
		})
	}
}

// TestAdminActionsConfirmedWhenSaved: an admin's change to the durable
// state is confirmed once it is on disk; while saves fail (state.json
// replaced by a directory, so the rename fails even for root), the admin
// is told it is pending, the operators that saving fails, and both hear
// when it works again.
func TestAdminActionsConfirmedWhenSaved(t *testing.T) {
	dir := t.TempDir()
	saver := store.NewSaver(dir, zerolog.Nop())
	s := start(t, servertest.Config{Hub: hub.Config{State: store.State{}, Saver: saver}, Client: client.Config{Linger: shortLinger}})
	ada := loginAdmin(t, s, "ada")
	con := startConsole(t, s.Hub)

	ada.Send("/ban mallory")
	ada.Expect("*** Banned mallory for good")
	if st, err := store.Load(dir); err != nil || len(st.Bans) != 1 {
		t.Fatalf("after the confirmation the file holds %+v, %v; want the ban", st, err)
	}

	blocker := filepath.Join(store.Path(dir), "blocker")
	if err := os.Remove(store.Path(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	ada.Send("/motd set hello")
	ada.Expect("! Cannot save bans, MOTD and topics to disk")
	ada.Expect("! The new message of the day is in force but not yet on disk (saving failed: ")
	con.Expect("! Cannot save bans, MOTD and topics to disk")
	con.Send("ban 192.0.2.1")
	// Saving is known to fail: pending at once.
	con.Expect("! The ban on 192.0.2.1 is in force but not yet on disk (saving failed: ")
	for _, l := range ada.Sync() {
		if strings.Contains(l, "Message of the day set") {
			t.Fatalf("confirmed while the save fails: %q", l)
		}
	}

	if err := os.RemoveAll(store.Path(dir)); err != nil {
		t.Fatal(err)
	}
	con.Expect("*** Bans, MOTD and topics are saved to disk again")
	con.Expect("*** Banned 192.0.2.1 for good")
	ada.Expect("*** Message of the day set")
	st, err := store.Load(dir)
	if err != nil || st.MOTD != "hello" || len(st.Bans) != 2 {
		t.Fatalf("after the confirmations the file holds %+v, %v", st, err)
	}
	s.Shutdown()
	if err := saver.Close(context.Background()); err != nil {
		t.Fatalf("saver: %v", err)
	}
}

// heldSaver is a hub.Saver whose saves finish only when the test says so.
type heldSaver struct {
	mu      sync.Mutex
	gen     uint64
	report  func(store.SaveResult)
	pending chan struct{} // gets a value per Submit
}

func (s *heldSaver) Submit(_ store.State, gen uint64, report func(store.SaveResult)) {
	s.mu.Lock()
	s.gen, s.report = gen, report
	s.mu.Unlock()
	s.pending <- struct{}{}
}

// finish reports the newest snapshot saved.
func (s *heldSaver) finish() {
	s.mu.Lock()
	gen, report := s.gen, s.report
	s.mu.Unlock()
	report(store.SaveResult{Gen: gen})
}

// TestSlowSaveIsAnsweredAsPending: a save that takes longer than 2 s gets
// the admin a pending notice, then the confirmation once it is on disk.
func TestSlowSaveIsAnsweredAsPending(t *testing.T) {
	saver := &heldSaver{pending: make(chan struct{}, 16)}
	s := start(t, servertest.Config{Hub: hub.Config{Saver: saver}})
	con := startConsole(t, s.Hub)
	started := time.Now()
	con.Send("unban nobody") // not a change: answered at once
	con.Expect("! No such ban: nobody")
	con.Send("ban 192.0.2.9 2h")
	<-saver.pending
	con.Expect("! The ban on 192.0.2.9 is in force but not yet on disk (saving is taking a while); you will be told when it is saved")
	if waited := time.Since(started); waited < 2*time.Second {
		t.Fatalf("pending notice after %v; want it after 2 s of waiting", waited)
	}
	saver.finish()
	con.Expect("*** Banned 192.0.2.9 for 2h0m0s")
}
