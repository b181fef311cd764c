package commands

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"telchat/hub"
	"telchat/message"
	"telchat/render"
	"telchat/usertext"
)

// fuzzPeer is a hub.Peer that checks what the hub sends instead of keeping
// it. Deliver and Finish run on the hub goroutine; read the results after
// the hub has stopped.
type fuzzPeer struct {
	mu       sync.Mutex
	bad      string // the first invalid message, if any
	finished bool
	msgs     int
}

func (p *fuzzPeer) Deliver(m *message.Message) bool {
	msg := render.Bytes(m, render.Plain)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs++
	if p.bad == "" {
		if why := checkWire(msg); why != "" {
			p.bad = why + ": " + string(msg)
		}
	}
	return true
}

func (p *fuzzPeer) Finish(hub.Reason) {
	p.mu.Lock()
	p.finished = true
	p.mu.Unlock()
}

// checkWire says what is wrong with an encoded message: every line ends in
// CR LF (the nickname prompt aside), and no control character, raw IAC or
// invalid UTF-8 reaches a terminal.
func checkWire(msg []byte) string {
	if len(msg) == 0 {
		return "empty message"
	}
	if !utf8.Valid(msg) {
		return "invalid UTF-8"
	}
	if !strings.HasSuffix(string(msg), "\r\n") && !strings.HasSuffix(string(msg), "Choose a nickname: ") {
		return "no line end"
	}
	for i, b := range msg {
		switch {
		case b == '\r':
			if i+1 >= len(msg) || msg[i+1] != '\n' {
				return "CR without LF"
			}
		case b == '\n':
			if i == 0 || msg[i-1] != '\r' {
				return "LF without CR"
			}
		case b < 0x20 || b == 0x7f || b == 0xff:
			return "control byte"
		}
	}
	return ""
}

// runLine feeds line to a fresh hub typed by a user, as a command by the
// same user, and on the operator console, and checks that the hub still
// answers and sent nothing invalid.
func runLine(t *testing.T, table *Table, line string) {
	h := hub.New(hub.Config{
		Commands:      table,
		Log:           zerolog.Nop(),
		HistorySize:   4,
		MaxRooms:      8,
		MaxIgnores:    2,
		MaxBans:       4,
		PasswordCheck: func(pw string) bool { return pw == "secret" },
		OnShutdown:    func(string) {},
	})
	ctx, cancel := context.WithCancel(context.Background())
	go h.Run(ctx)
	defer func() {
		cancel()
		<-h.Done()
	}()
	loopback := netip.MustParseAddr("127.0.0.1")
	alice, bob, con := &fuzzPeer{}, &fuzzPeer{}, &fuzzPeer{}
	ac := hub.NewConn("a", "127.0.0.1:1", loopback, alice)
	bc := hub.NewConn("b", "127.0.0.1:2", loopback, bob)
	cc := hub.NewConsole("c", "console", con)
	for _, err := range []error{
		h.Connect(ac), h.Input(ac, "alice", false),
		h.Connect(bc), h.Input(bc, "bob", false),
		h.Connect(cc),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	// As the client package does: sanitize, never pass an empty line.
	clean := usertext.Sanitize(line)
	altered := clean != strings.TrimSpace(line)
	for _, in := range []struct {
		c    *hub.Conn
		line string
	}{
		{ac, clean}, {ac, "/" + clean}, {bc, "/msg alice " + clean}, {cc, clean}, {ac, "/whois alice"},
	} {
		if strings.TrimSpace(in.line) == "" {
			continue
		}
		if err := h.Input(in.c, in.line, altered); err != nil {
			t.Fatal(err)
		}
	}
	answered := make(chan struct{})
	if err := h.Do(func() { close(answered) }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-answered:
	case <-time.After(10 * time.Second):
		t.Fatalf("hub stalled on %q", line)
	}
	cancel()
	<-h.Done()
	for name, p := range map[string]*fuzzPeer{"alice": alice, "bob": bob, "console": con} {
		p.mu.Lock()
		bad, finished, msgs := p.bad, p.finished, p.msgs
		p.mu.Unlock()
		if bad != "" {
			t.Fatalf("%q: %s got %q", line, name, bad)
		}
		if !finished {
			t.Fatalf("%q: %s was never finished", line, name)
		}
		if msgs == 0 {
			t.Fatalf("%q: %s got nothing", line, name)
		}
	}
}

// FuzzCommandLine feeds arbitrary lines to the parser and, through a
// running hub, to every command as a user and as the operator: nothing may
// panic, stall the hub or send invalid output.
func FuzzCommandLine(f *testing.F) {
	for _, seed := range []string{
		"", "/", "//", "/help", "/help kick", "/who", "/who lobby", "/whois BOB", "/msg bob hi",
		"/w BOB hi", "/reply x", "/me waves", "/nick Alice", "/nick bob", "/away", "/away gone",
		"/ignore bob", "/unignore bob", "/join #x", "/join " + strings.Repeat("r", 40), "/part",
		"/rooms", "/topic t", "/motd", "/motd set hi", "/quit bye", "/oper secret", "/oper nope",
		"/kick bob why", "/ban 127.0.0.1 1h x", "/ban bob", "/ban ::ffff:10.0.0.1/104", "/unban bob",
		"/bans", "/mute bob 1s", "/unmute bob", "/wall hi", "/move bob x", "/move alice lobby",
		"/clients", "/stats", "/shutdown 1h", "/shutdown 90m", "/hepl", "/\x00\xff", "/msg \x1b[2J x",
		"/kick alice", "/ban alice", "/mute alice", "/msg alice hi", "/ignore alice",
	} {
		f.Add(seed)
	}
	table := New()
	f.Fuzz(func(t *testing.T, line string) {
		name, rest := Split(line)
		if name != strings.ToLower(name) {
			t.Fatalf("Split(%q) name %q not lower-case", line, name)
		}
		for _, max := range []int{0, 1, 2, 3} {
			for _, restLast := range []bool{false, true} {
				args := SplitArgs(rest, max, restLast)
				for _, a := range args {
					if a == "" {
						t.Fatalf("SplitArgs(%q, %d, %v) has an empty argument", rest, max, restLast)
					}
				}
				if restLast && max > 0 && len(args) > max {
					t.Fatalf("SplitArgs(%q, %d, true) = %d args", rest, max, len(args))
				}
			}
		}
		if c, ok := table.Lookup(name); ok && c == nil {
			t.Fatal("Lookup found a nil command")
		}
		for _, who := range []Caller{{}, {Admin: true}, {Admin: true, Console: true}} {
			if s := table.Suggest(name, who); s != "" {
				c, ok := table.Lookup(s)
				if !ok || !c.Allowed(who) {
					t.Fatalf("Suggest(%q, %+v) = %q, not a command for them", name, who, s)
				}
			}
		}
		_, _ = ParseDuration(rest)
		runLine(t, table, line)
	})
}
