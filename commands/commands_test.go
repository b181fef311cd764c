package commands

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"telchat/hub"
	"telchat/message"
	"telchat/render"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		line, name, rest string
	}{
		{"/msg bob hi", "msg", "bob hi"},
		{"  /WHO  ", "who", ""},
		{"/", "", ""},
		{"", "", ""},
		{"msg bob", "msg", "bob"}, // the console's form, without the slash
		{"/msg   bob   hi  there  ", "msg", "bob   hi  there"},
		{"/Ü x", "ü", "x"},
		{"/ me waves", "me", "waves"},
	}
	for _, tt := range tests {
		name, rest := Split(tt.line)
		if name != tt.name || rest != tt.rest {
			t.Errorf("Split(%q) = %q, %q; want %q, %q", tt.line, name, rest, tt.name, tt.rest)
		}
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		rest     string
		max      int
		restLast bool
		want     []string
	}{
		{"bob hi there", 2, true, []string{"bob", "hi there"}},
		{"bob   hi  there", 2, true, []string{"bob", "hi  there"}},
		{"a b c", 2, false, []string{"a", "b", "c"}}, // too many: the caller shows the usage
		{"", 2, true, nil},
		{"a", 2, true, []string{"a"}},
		{"1h spam now", 3, true, []string{"1h", "spam", "now"}},
		{"bob 1h spam and more", 3, true, []string{"bob", "1h", "spam and more"}},
		{"x", 0, false, []string{"x"}},
		{"x y", 1, true, []string{"x y"}},
		{"x  y", 1, false, []string{"x", "y"}},
	}
	for _, tt := range tests {
		if got := SplitArgs(tt.rest, tt.max, tt.restLast); !slices.Equal(got, tt.want) {
			t.Errorf("SplitArgs(%q, %d, %v) = %q, want %q", tt.rest, tt.max, tt.restLast, got, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration // 0: an error
	}{
		{"30", 30 * time.Second},
		{"90s", 90 * time.Second},
		{"1h30m", 90 * time.Minute},
		{"100ms", 100 * time.Millisecond},
		{"7d", 7 * 24 * time.Hour},
		{"4294967295", 4294967295 * time.Second},
		{"65535d", 65535 * 24 * time.Hour},
		{"0", 0},
		{"+5s", 5 * time.Second},
		{"+5", 0},
		{"1w", 0},
		{"-5", 0},
		{"0s", 0},
		{"0d", 0},
		{"-5s", 0},
		{"-1", 0},
		{"", 0},
		{"abc", 0},
		{"1d1h", 0},
		{"65536d", 0},
		{"99999999999", 0},
		{"9999999999h", 0},
		{"spam", 0},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if tt.want == 0 {
			if err == nil || !errors.Is(err, ErrBadDuration) || errors.Is(err, ErrUsage) {
				t.Errorf("ParseDuration(%q) = %v, %v; want an error wrapping ErrBadDuration", tt.in, got, err)
			} else if want := "bad duration " + strconv.Quote(tt.in) + ": use a number of seconds or a number with s, m, h or d, like 90s, 30m, 2h, 7d"; err.Error() != want {
				t.Errorf("ParseDuration(%q) error %q, want %q", tt.in, err, want)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestLooksLikeDuration(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"1w", true},
		{"0", true},
		{"90s", true},
		{"-5", true},
		{"+5", true},
		{"-", false},
		{"+x", false},
		{"--5", false},
		{"", false},
		{"spam", false},
		{"forever", false},
		{"h1", false},
		{"#1", false},
	}
	for _, tt := range tests {
		if got := looksLikeDuration(tt.in); got != tt.want {
			t.Errorf("looksLikeDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestOptionalDuration(t *testing.T) {
	tests := []struct {
		in     string
		d      time.Duration
		reason string
		bad    bool // an error wrapping ErrBadDuration
	}{
		{"", 0, "", false},
		{"1h flooding", time.Hour, "flooding", false},
		{"30", 30 * time.Second, "", false},
		{"7d  spam  here", 7 * 24 * time.Hour, "spam  here", false},
		{"spammers", 0, "spammers", false},
		{"spam 1h", 0, "spam 1h", false},
		{"1w", 0, "", true},
		{"-5", 0, "", true},
		{"+5", 0, "", true},
		{"0", 0, "", true},
		{"0 reason", 0, "", true},
		{"2nd warning", 0, "", true}, // starts with a digit: meant as a duration
	}
	for _, tt := range tests {
		d, reason, err := optionalDuration(tt.in)
		if tt.bad {
			if !errors.Is(err, ErrBadDuration) {
				t.Errorf("optionalDuration(%q) = %v, %q, %v; want ErrBadDuration", tt.in, d, reason, err)
			}
			continue
		}
		if err != nil || d != tt.d || reason != tt.reason {
			t.Errorf("optionalDuration(%q) = %v, %q, %v; want %v, %q", tt.in, d, reason, err, tt.d, tt.reason)
		}
	}
}

func TestSuggest(t *testing.T) {
	table := New()
	tests := []struct {
		name  string
		admin bool
		want  string
	}{
		{"hepl", false, "help"},
		{"/hepl", false, "help"},
		{"HEPL", false, "help"},
		{"jion", false, "join"},
		{"wh", false, "who"},
		{"whoi", false, "whois"},
		{"mgs", false, "msg"},
		{"nmaes", false, "names"},
		{"qiut", false, "quit"},
		{"kcik", true, "kick"},
		{"kcik", false, ""}, // never an admin command for a user, and "nick" is 2 edits away
		{"kick", false, "nick"},
		{"kick", true, "kick"},
		{"stast", true, "stats"},
		{"stast", false, ""},
		{"x", false, ""}, // one letter is no basis for a guess
		{"k", true, ""},
		{"xyzzy", true, ""},
		{"xyz", false, ""}, // two edits in three letters: "bye" is no guess
		{"xyz", true, ""},  // nor "wall"
		{"byee", false, "bye"},
		{"hlep", false, "help"},
		{"jon", false, "join"},
		{"mssg", false, "msg"},
		{"qt", false, ""}, // two edits from "quit" in two letters
		{"mtod", false, "motd"},
		{"mtdo", false, ""}, // two edits from "motd": too many for 4 letters
		{"rooom", false, "rooms"},
		{"rommms", false, "rooms"}, // two edits, 6 letters
		{"shtdwn", true, "shutdown"},
		{"shtdwnn", true, ""}, // three edits
		{"wallz", false, ""},  // an admin command's neighbour, for a user
		{"", false, ""},
		{"/", false, ""},
		{strings.Repeat("a", 33), true, ""},
		{"\xff\xfe", true, ""},
	}
	for _, tt := range tests {
		if got := table.Suggest(tt.name, Caller{Admin: tt.admin}); got != tt.want {
			t.Errorf("Suggest(%q, admin=%v) = %q, want %q", tt.name, tt.admin, got, tt.want)
		}
	}
	// The console is offered only what it can run.
	console := Caller{Admin: true, Console: true}
	for _, tt := range []struct{ name, want string }{
		{"jion", ""}, {"mgs", ""}, {"kcik", "kick"}, {"whoo", "who"}, {"tpic", "topic"}, {"qiut", "quit"},
	} {
		if got := table.Suggest(tt.name, console); got != tt.want {
			t.Errorf("Suggest(%q, console) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestMaxSuggestDistance(t *testing.T) {
	tests := []struct {
		name string
		want int
	}{
		{"", 1}, {"x", 1}, {"xyz", 1}, {"abcd", 1}, {"abcde", 2}, {"shutdwn", 2},
	}
	for _, tt := range tests {
		if got := maxSuggestDistance(tt.name); got != tt.want {
			t.Errorf("maxSuggestDistance(%q) = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"help", "help", 0},
		{"hepl", "help", 1},
		{"jion", "join", 1},
		{"kitten", "sitting", 3},
		{"ca", "abc", 3}, // optimal string alignment, not full Damerau
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := distance(tt.b, tt.a); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}

// The commands the issue asks for, and who may run them.
var (
	userCommands  = []string{"help", "who", "whois", "msg", "reply", "me", "nick", "away", "ignore", "unignore", "join", "part", "rooms", "topic", "motd", "quit", "oper", "history", "register", "passwd", "unregister"}
	adminCommands = []string{"kick", "ban", "unban", "bans", "mute", "unmute", "wall", "motd", "move", "clients", "stats", "rehash", "shutdown", "backup", "accounts", "drop", "resetpass", "opers", "purge"}
	// chatOnly commands need a nickname or a room; the console has neither.
	chatOnly = []string{"msg", "reply", "me", "nick", "away", "ignore", "unignore", "join", "part", "oper", "history", "mode", "set", "register", "passwd", "unregister"}
)

func TestTableIntegrity(t *testing.T) {
	table := New()
	for _, name := range userCommands {
		if c, ok := table.Lookup(name); !ok || c.Perm != Anyone {
			t.Errorf("/%s: missing or not for everyone", name)
		}
	}
	for _, name := range adminCommands {
		if _, ok := table.Lookup(name); !ok {
			t.Errorf("/%s: missing", name)
		}
	}
	for alias, name := range map[string]string{"w": "msg", "names": "who", "/W": "msg", "NAMES": "who"} {
		if c, ok := table.Lookup(alias); !ok || c.Name != name {
			t.Errorf("Lookup(%q) = %v, %v; want /%s", alias, c, ok, name)
		}
	}
	if !slices.IsSortedFunc(table.Commands(), func(a, b *Command) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Commands() is not in name order")
	}
	seen := map[string]bool{}
	console := Caller{Admin: true, Console: true}
	userHelp, adminHelp, consoleHelp := table.HelpLines(Caller{}, 0), table.HelpLines(Caller{Admin: true}, 0), table.HelpLines(console, 0)
	for _, c := range table.Commands() {
		if c.Summary == "" || c.Run == nil {
			t.Errorf("/%s: no summary or no Run", c.Name)
		}
		if u := c.Usage(); !strings.HasPrefix(u, "/"+c.Name) || c.MaxArgs > 0 && c.Args == "" {
			t.Errorf("/%s: usage %q does not describe its arguments", c.Name, u)
		}
		if c.MinArgs > c.MaxArgs {
			t.Errorf("/%s: MinArgs %d > MaxArgs %d", c.Name, c.MinArgs, c.MaxArgs)
		}
		if (c.Perm == AdminOnly) != slices.Contains(adminCommands, c.Name) && c.Name != "motd" {
			t.Errorf("/%s: permission %v", c.Name, c.Perm)
		}
		for _, n := range c.names() {
			if seen[n] {
				t.Errorf("name %q used twice", n)
			}
			seen[n] = true
			if got, ok := table.Lookup(n); !ok || got != c {
				t.Errorf("Lookup(%q) does not find /%s", n, c.Name)
			}
		}
		listed := func(lines []string) bool {
			return slices.ContainsFunc(lines, func(l string) bool {
				return strings.HasPrefix(strings.TrimSpace(l), c.Usage()+" ") && strings.Contains(l, c.Summary)
			})
		}
		if !listed(adminHelp) {
			t.Errorf("/help for admins does not list /%s", c.Name)
		}
		if listed(userHelp) != (c.Perm == Anyone) {
			t.Errorf("/help for users lists /%s: %v", c.Name, !(c.Perm == Anyone))
		}
		if c.ChatOnly != slices.Contains(chatOnly, c.Name) {
			t.Errorf("/%s: ChatOnly %v", c.Name, c.ChatOnly)
		}
		onConsole := slices.ContainsFunc(consoleHelp, func(l string) bool {
			return strings.HasPrefix(strings.TrimSpace(l), c.UsageFor(console)+" ") && strings.Contains(l, c.SummaryFor(console))
		})
		if onConsole != !c.ChatOnly || c.Allowed(console) != !c.ChatOnly {
			t.Errorf("console: /%s listed %v, allowed %v; ChatOnly %v", c.Name, onConsole, c.Allowed(console), c.ChatOnly)
		}
	}
}

func TestInitRejectsBadTables(t *testing.T) {
	run := func(*hub.Ctx, []string) error { return nil }
	tests := []struct {
		name string
		cmds []*Command
	}{
		{"duplicate", []*Command{{Name: "a", Summary: "s", Run: run}, {Name: "b", Aliases: []string{"a"}, Summary: "s", Run: run}}},
		{"no summary", []*Command{{Name: "a", Run: run}}},
		{"no run", []*Command{{Name: "a", Summary: "s"}}},
		{"min over max", []*Command{{Name: "a", Summary: "s", Args: "X", MinArgs: 2, MaxArgs: 1, Run: run}}},
		{"args undocumented", []*Command{{Name: "a", Summary: "s", MaxArgs: 1, Run: run}}},
		{"upper case", []*Command{{Name: "A", Summary: "s", Run: run}}},
		{"empty name", []*Command{{Name: "", Summary: "s", Run: run}}},
		{"slash", []*Command{{Name: "/a", Summary: "s", Run: run}}},
		{"console form of a chat-only command", []*Command{{Name: "a", Summary: "s", ChatOnly: true, ConsoleSummary: "c", Run: run}}},
	}
	for _, tt := range tests {
		if err := (&Table{}).init(tt.cmds); err == nil {
			t.Errorf("%s: init accepted the table", tt.name)
		}
	}
	if err := (&Table{}).init(builtin(&Table{})); err != nil {
		t.Errorf("the builtin table: %v", err)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 3, "hel"},
		{"héllo", 2, "h"}, // never half a character
		{"日本", 4, "日"},
		{"", 0, ""},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func BenchmarkRunLookupSuggest(b *testing.B) {
	table := New()
	b.ReportAllocs()
	for b.Loop() {
		name, rest := Split("/msgg bob hello there")
		if _, ok := table.Lookup(name); !ok {
			_ = table.Suggest(name, Caller{})
		}
		_ = SplitArgs(rest, 2, true)
	}
}

// lockedBuffer is a log sink shared by the hub goroutine and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRefusalsAreLogged(t *testing.T) {
	var logs lockedBuffer
	h := hub.New(hub.Config{
		Commands:      New(),
		Log:           zerolog.New(&logs),
		PasswordCheck: func(pw string) bool { return pw == "right" },
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel()
		<-h.Done()
	}()
	go h.Run(ctx)
	loopback := netip.MustParseAddr("127.0.0.1")
	alice, bob := &fuzzPeer{}, &fuzzPeer{}
	ac := hub.NewConn("sess-a", "127.0.0.1:1", loopback, alice)
	bc := hub.NewConn("sess-b", "127.0.0.1:2", loopback, bob)
	for _, err := range []error{
		h.Connect(ac), h.Input(ac, "alice", false), h.Connect(bc), h.Input(bc, "bob", false),
		h.Input(ac, "/kick bob", false), h.Input(ac, "/motd set mine", false), h.Input(ac, "/oper wrong", false),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`"session":"sess-a","remote":"127.0.0.1:1","by":"alice","action":"kick","args":"bob","outcome":"permission denied: not an admin"`,
		`"by":"alice","action":"motd","args":"set mine","outcome":"permission denied: only admins can set the message of the day"`,
		`"by":"alice","action":"oper","args":"","outcome":"wrong password"`,
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, w := range want {
		for !strings.Contains(logs.String(), w) {
			if time.Now().After(deadline) {
				t.Fatalf("log lacks %s:\n%s", w, logs.String())
			}
			time.Sleep(time.Millisecond)
		}
	}
	if strings.Contains(logs.String(), "wrong\"") {
		t.Fatalf("the password attempt was logged:\n%s", logs.String())
	}
}

// TestAdminLogRecordsOutcomes: every admin command is logged after it ran,
// with "ok" or the error its caller was told, never as allowed before the
// fact.
func TestAdminLogRecordsOutcomes(t *testing.T) {
	var logs lockedBuffer
	h := hub.New(hub.Config{Commands: New(), Log: zerolog.New(&logs)})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel()
		<-h.Done()
	}()
	go h.Run(ctx)
	loopback := netip.MustParseAddr("127.0.0.1")
	bob := hub.NewConn("sess-b", "127.0.0.1:2", loopback, &recPeer{})
	console := hub.NewConsole("sess-c", "console", &recPeer{})
	for _, err := range []error{h.Connect(bob), h.Input(bob, "bob", false), h.Connect(console)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ line, action, args, outcome string }{
		{"ban 1.2.3.4 1w", "ban", "1.2.3.4 1w", `bad duration \"1w\": use a number of seconds or a number with s, m, h or d, like 90s, 30m, 2h, 7d`},
		{"ban 1.2.3.4 1h spam", "ban", "1.2.3.4 1h spam", "ok"},
		{"kick nobody", "kick", "nobody", "no such user: nobody"},
		{"unban 9.9.9.9", "unban", "9.9.9.9", "no such ban: 9.9.9.9"},
		{"mute ghost", "mute", "ghost", "no such user: ghost"},
		{"mute bob forever", "mute", "bob forever", "wrong arguments; usage: /mute NICK [DURATION]"},
		{"move", "move", "", "wrong arguments; usage: /move NICK ROOM"},
		{"mute bob 10m", "mute", "bob 10m", "ok"},
		{"kick bob bye", "kick", "bob bye", "ok"},
		// Commands that log their own outcome once the store answers are
		// logged once when they fail at once.
		{"drop nobody", "drop", "nobody", "accounts need the store; not enabled on this server"},
		{"opers add nobody", "opers", "add nobody", "accounts need the store; not enabled on this server"},
		{"rehash", "rehash", "", "rehash is not enabled on this server"},
	}
	var want []string
	for _, tc := range tests {
		if err := h.Input(console, tc.line, false); err != nil {
			t.Fatal(err)
		}
		want = append(want, `"by":"console","action":"`+tc.action+`","args":"`+tc.args+`","outcome":"`+tc.outcome+`"`)
	}
	// The hub handles its input in order: once it runs this, it has run
	// (and logged) every command.
	done := make(chan struct{})
	if err := h.Do(func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("hub stalled")
	}
	var got []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"admin command"`) {
			got = append(got, l)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d admin log lines for %d commands:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("%q logged\n%s\nwant %s", tests[i].line, got[i], w)
		}
		if strings.Contains(got[i], `"allowed"`) {
			t.Errorf("%q logged intent: %s", tests[i].line, got[i])
		}
	}
}

// recPeer is a hub.Peer that keeps the lines it is sent.
type recPeer struct {
	mu    sync.Mutex
	lines []string
}

func (p *recPeer) Deliver(m *message.Message) bool {
	msg := render.Bytes(m, render.Plain)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, strings.Split(strings.TrimSuffix(string(msg), "\r\n"), "\r\n")...)
	return true
}

func (p *recPeer) Finish(hub.Reason) {}

// take returns the lines received since the last take.
func (p *recPeer) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.lines
	p.lines = nil
	return out
}

// callerRig is a running hub with two users, alice in #lobby and bob in
// #den, and an operator console.
type callerRig struct {
	h        *hub.Hub
	conns    map[string]*hub.Conn
	peers    map[string]*recPeer
	shutdown atomic.Int32 // OnShutdown calls
}

func newCallerRig(t *testing.T) *callerRig {
	t.Helper()
	r := &callerRig{conns: map[string]*hub.Conn{}, peers: map[string]*recPeer{}}
	r.h = hub.New(hub.Config{Commands: New(), Log: zerolog.Nop(), OnShutdown: func(string) { r.shutdown.Add(1) }})
	ctx, cancel := context.WithCancel(context.Background())
	go r.h.Run(ctx)
	t.Cleanup(func() {
		cancel()
		<-r.h.Done()
	})
	loopback := netip.MustParseAddr("127.0.0.1")
	for i, name := range []string{"alice", "bob", "console"} {
		p := &recPeer{}
		c := hub.NewConn("s-"+name, "127.0.0.1:"+strconv.Itoa(i+1), loopback, p)
		if name == "console" {
			c = hub.NewConsole("s-console", "console", p)
		}
		r.conns[name], r.peers[name] = c, p
		if err := r.h.Connect(c); err != nil {
			t.Fatal(err)
		}
		if name != "console" {
			if err := r.h.Input(c, name, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.run(t, "bob", "/join den")
	return r
}

// run has who type line and waits until the hub has handled it.
func (r *callerRig) run(t *testing.T, who, line string) {
	t.Helper()
	if err := r.h.Input(r.conns[who], line, false); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	if err := r.h.Do(func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("hub stalled on %q", line)
	}
}

// drain forgets everything received so far.
func (r *callerRig) drain() {
	for _, p := range r.peers {
		p.take()
	}
}

const badDurationHelp = ": use a number of seconds or a number with s, m, h or d, like 90s, 30m, 2h, 7d"

// TestCallerRules runs commands as a user and on the console and checks
// every line everyone got: durations, console topics and who, what help
// says about commands the caller cannot run.
func TestCallerRules(t *testing.T) {
	r := newCallerRig(t)
	r.drain()
	tests := []struct {
		by, line string
		want     map[string][]string // everyone not named gets nothing
	}{
		// 1: durations are valid or refused, never a reason.
		{"console", "ban 192.0.2.3 1w", map[string][]string{"console": {`! Bad duration "1w"` + badDurationHelp}}},
		{"console", "ban 1.2.3.4 -5", map[string][]string{"console": {`! Bad duration "-5"` + badDurationHelp}}},
		{"console", "ban 192.0.2.4 0", map[string][]string{"console": {`! Bad duration "0"` + badDurationHelp}}},
		{"console", "ban 192.0.2.4 +5 x", map[string][]string{"console": {`! Bad duration "+5"` + badDurationHelp}}},
		{"console", "bans", map[string][]string{"console": {"*** No bans"}}},
		{"console", "ban 192.0.2.5 spam wave", map[string][]string{"console": {"*** Banned 192.0.2.5 for good; 0 connection(s) kicked"}}},
		{"console", "ban 192.0.2.6 2h spam", map[string][]string{"console": {"*** Banned 192.0.2.6 for 2h0m0s; 0 connection(s) kicked"}}},
		{"console", "mute bob 1w", map[string][]string{"console": {`! Bad duration "1w"` + badDurationHelp}}},
		{"console", "mute bob -1", map[string][]string{"console": {`! Bad duration "-1"` + badDurationHelp}}},
		{"console", "mute bob forever", map[string][]string{"console": {"! Usage: /mute NICK [DURATION]"}}},
		{"console", "shutdown 1w", map[string][]string{"console": {`! Bad duration "1w"` + badDurationHelp}}},
		{"console", "shutdown -5 now", map[string][]string{"console": {`! Bad duration "-5"` + badDurationHelp}}},
		// 2: the console sets a named room's topic.
		{"console", "topic", map[string][]string{"console": {"! Usage: /topic ROOM [TEXT]"}}},
		{"console", "topic lobby", map[string][]string{"console": {"*** #lobby has no topic"}}},
		{"console", "topic #Lobby  Welcome  all", map[string][]string{
			"console": {"*** You set the topic of #lobby to: Welcome  all"},
			"alice":   {"*** console set the topic of #lobby to: Welcome  all"},
		}},
		{"console", "topic #lobby", map[string][]string{"console": {"*** Topic for #lobby: Welcome  all"}}},
		{"console", "topic den 1 rule: be nice", map[string][]string{
			"console": {"*** You set the topic of #den to: 1 rule: be nice"},
			"bob":     {"*** console set the topic of #den to: 1 rule: be nice"},
		}},
		{"console", "topic nosuch hi", map[string][]string{"console": {"! No such room: #nosuch"}}},
		{"alice", "/topic", map[string][]string{"alice": {"*** Topic for #lobby: Welcome  all"}}},
		{"alice", "/topic mine", map[string][]string{"alice": {"! Only admins can set the lobby's topic"}}},
		// A user's /topic TEXT is still all text, even when it names a room.
		{"bob", "/topic #lobby is elsewhere", map[string][]string{"bob": {"*** bob set the topic of #den to: #lobby is elsewhere"}}},
		// 4: who on the console without a room lists every room.
		{"console", "who", map[string][]string{"console": {"*** 1 in #den: bob", "*** 1 in #lobby: alice"}}},
		{"console", "names lobby", map[string][]string{"console": {"*** 1 in #lobby: alice"}}},
		{"alice", "/who", map[string][]string{"alice": {"*** 1 in #lobby: alice"}}},
		// 3: the console runs only what it can.
		{"console", "me waves", map[string][]string{"console": {"! Only a chat user can do that: /me needs a nickname and a room"}}},
		{"console", "join den", map[string][]string{"console": {"! Only a chat user can do that: /join needs a nickname and a room"}}},
		{"console", "help me", map[string][]string{"console": {"! /me is for chat users only: the console has no nickname or room"}}},
		{"console", "help topic", map[string][]string{"console": {"*** /topic ROOM [TEXT]: show or set a room's topic (kept across restarts)"}}},
		{"console", "help who", map[string][]string{"console": {"*** /who [ROOM]: list the users in ROOM, or in every room (also /names)"}}},
		{"console", "jion den", map[string][]string{"console": {"! Unknown command /jion: type /help for the list"}}},
		{"alice", "/help topic", map[string][]string{"alice": {"*** /topic [TEXT]: show or set your room's topic"}}},
		// 5: help about an admin command agrees with running it.
		{"alice", "/help kick", map[string][]string{"alice": {"! /kick is an operator command, for admins only"}}},
		{"alice", "/kick bob", map[string][]string{"alice": {"! Permission denied: /kick is for admins"}}},
		{"alice", "/help broadcast", map[string][]string{"alice": {"! /wall is an operator command, for admins only"}}},
		{"alice", "/help nosuch", map[string][]string{"alice": {"! No command /nosuch; type /help for the list"}}},
		{"alice", "/xyz", map[string][]string{"alice": {"! Unknown command /xyz: type /help for the list"}}},
		{"alice", "/byee", map[string][]string{"alice": {"! Unknown command /byee: type /help for the list (did you mean /bye?)"}}},
		{"console", "help kick", map[string][]string{"console": {"*** /kick NICK [REASON]: disconnect a user"}}},
	}
	for _, tt := range tests {
		r.run(t, tt.by, tt.line)
		for name, p := range r.peers {
			if got := p.take(); !slices.Equal(got, tt.want[name]) {
				t.Errorf("%s: %q: %s got %q, want %q", tt.by, tt.line, name, got, tt.want[name])
			}
		}
	}
	if n := r.shutdown.Load(); n != 0 {
		t.Errorf("a bad duration shut the server down (%d calls)", n)
	}

	// The console's help lists exactly what it can run, in its own form.
	r.run(t, "console", "help")
	lines := r.peers["console"].take()
	if len(lines) == 0 || lines[0] != "*** Commands (the leading / is optional here):" {
		t.Fatalf("console help: %q", lines)
	}
	console := Caller{Admin: true, Console: true}
	for _, c := range New().Commands() {
		listed := slices.ContainsFunc(lines, func(l string) bool {
			return strings.HasPrefix(strings.TrimSpace(l), c.UsageFor(console)+" ")
		})
		if listed != !c.ChatOnly {
			t.Errorf("console help lists %s: %v (ChatOnly %v)", c.UsageFor(console), listed, c.ChatOnly)
		}
	}
	if len(lines) != 1+len(New().Commands())-len(chatOnly) {
		t.Errorf("console help has %d lines: %q", len(lines), lines)
	}
}
