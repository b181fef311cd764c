package commands

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"telchat/hub"
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
			if err == nil || !errors.Is(err, ErrUsage) {
				t.Errorf("ParseDuration(%q) = %v, %v; want an error wrapping ErrUsage", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
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
		{"kcik", false, "nick"}, // never an admin command for a user
		{"kick", false, "nick"},
		{"kick", true, "kick"},
		{"stast", true, "stats"},
		{"stast", false, ""},
		{"x", false, ""}, // one letter is no basis for a guess
		{"k", true, ""},
		{"xyzzy", true, ""},
		{"", false, ""},
		{"/", false, ""},
		{strings.Repeat("a", 33), true, ""},
		{"\xff\xfe", true, ""},
	}
	for _, tt := range tests {
		if got := table.Suggest(tt.name, tt.admin); got != tt.want {
			t.Errorf("Suggest(%q, admin=%v) = %q, want %q", tt.name, tt.admin, got, tt.want)
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
	userCommands  = []string{"help", "who", "whois", "msg", "reply", "me", "nick", "away", "ignore", "unignore", "join", "part", "rooms", "topic", "motd", "quit", "oper"}
	adminCommands = []string{"kick", "ban", "unban", "bans", "mute", "unmute", "wall", "motd", "move", "clients", "stats", "shutdown"}
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
	userHelp, adminHelp := table.HelpLines(false), table.HelpLines(true)
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
			_ = table.Suggest(name, false)
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
		`"session":"sess-a","remote":"127.0.0.1:1","by":"alice","action":"kick","allowed":false,"detail":"not an admin"`,
		`"by":"alice","action":"motd","allowed":false`,
		`"by":"alice","action":"oper","allowed":false,"detail":"wrong password"`,
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
