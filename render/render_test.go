package render

import (
	"bytes"
	"testing"
	"time"

	"telchat/message"
)

func TestAppend(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 5, 0, 0, time.Local)
	alice := NickColour("alice")
	tests := []struct {
		name string
		m    message.Message
		p    Profile
		want string
	}{
		{"chat", message.Message{Kind: message.Chat, From: "alice", Text: "hi", Time: at}, Plain, "<alice> hi\r\n"},
		{"action", message.Message{Kind: message.Action, From: "alice", Text: "waves"}, Plain, "* alice waves\r\n"},
		{"private", message.Message{Kind: message.Private, From: "alice", To: "bob", Text: "psst"}, Plain, "*alice* psst\r\n"},
		{"private sent", message.Message{Kind: message.PrivateSent, From: "alice", To: "bob", Text: "psst"}, Plain, "-> *bob* psst\r\n"},
		{"join", message.Message{Kind: message.Join, From: "alice", Text: "alice joined #lobby"}, Plain, "*** alice joined #lobby\r\n"},
		{"leave", message.Message{Kind: message.Leave, Text: "alice left #lobby (quit)"}, Plain, "*** alice left #lobby (quit)\r\n"},
		{"notice", message.Message{Kind: message.Notice, Text: "x"}, Plain, "*** x\r\n"},
		{"system", message.Message{Kind: message.System, Text: "Welcome"}, Plain, "*** Welcome\r\n"},
		{"error", message.Message{Kind: message.Error, Text: "No such user"}, Plain, "! No such user\r\n"},
		{"reply lines", message.Message{Kind: message.Reply, Text: "a\nb"}, Plain, "a\r\nb\r\n"},
		{"prompt", message.Message{Kind: message.Prompt, Text: "Hi\nChoose a nickname: "}, Plain, "Hi\r\nChoose a nickname: "},
		{"0xFF doubled, lone CR", message.Message{Kind: message.Reply, Text: "a\xffb\rc"}, Plain, "a\xff\xffb\r\x00c\r\n"},
		{"plain ignores mention", message.Message{Kind: message.Chat, From: "bob", Text: "hi alice", Mention: "alice"}, Plain, "<bob> hi alice\r\n"},
		{"timestamps", message.Message{Kind: message.Chat, From: "alice", Text: "hi", Time: at}, Timestamps, "[09:05] <alice> hi\r\n"},
		{"no time, no stamp", message.Message{Kind: message.Chat, From: "alice", Text: "hi"}, Timestamps, "<alice> hi\r\n"},
		{"nick colours", message.Message{Kind: message.Chat, From: "alice", Text: "hi"}, NickColours, "<" + alice + "alice\x1b[39m> hi\r\n"},
		{"dim system", message.Message{Kind: message.Join, Text: "alice joined #lobby"}, DimSystem, "\x1b[2m*** alice joined #lobby\x1b[22m\r\n"},
		{"dim leaves chat alone", message.Message{Kind: message.Chat, From: "a", Text: "b"}, DimSystem, "<a> b\r\n"},
		{"highlight whole words, any case", message.Message{Kind: message.Chat, From: "bob", Text: "Alice: alicex, alice!", Mention: "alice"},
			Highlight, "<bob> \x1b[7mAlice\x1b[27m: alicex, \x1b[7malice\x1b[27m!\r\n"},
		{"bell on mention", message.Message{Kind: message.Chat, From: "bob", Text: "alice", Mention: "alice"}, Bell, "<bob> alice\a\r\n"},
		{"bell on private", message.Message{Kind: message.Private, From: "bob", Text: "x"}, Bell, "*bob* x\a\r\n"},
		{"no bell on chat", message.Message{Kind: message.Chat, From: "bob", Text: "x"}, Bell, "<bob> x\r\n"},
		{"history", message.Message{Kind: message.History, Room: "den", Backlog: []*message.Message{
			{Kind: message.Chat, From: "a", Text: "1", Time: at}, {Kind: message.Action, From: "b", Text: "2", Time: at}}}, Plain,
			"*** Last 2 messages in #den:\r\n[history] <a> 1\r\n[history] * b 2\r\n*** End of history\r\n"},
		{"history with stamps", message.Message{Kind: message.History, Room: "den", Backlog: []*message.Message{
			{Kind: message.Chat, From: "a", Text: "1", Time: at}}}, Timestamps,
			"*** Last 1 message in #den:\r\n[history] [09:05] <a> 1\r\n*** End of history\r\n"},
		{"empty history", message.Message{Kind: message.History, Room: "den"}, Plain, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Append(nil, &tt.m, tt.p)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestBytesRendersOncePerProfile: the second recipient with a profile gets
// the very same bytes; another profile gets its own.
func TestBytesRendersOncePerProfile(t *testing.T) {
	m := &message.Message{Kind: message.Chat, From: "alice", Text: "hi"}
	a, b := Bytes(m, Plain), Bytes(m, Plain)
	if &a[0] != &b[0] {
		t.Fatal("plain rendered twice")
	}
	c, d := Bytes(m, All), Bytes(m, All)
	if &c[0] != &d[0] || bytes.Equal(a, c) {
		t.Fatalf("All: %q %q (plain %q)", c, d, a)
	}
	m.Reset()
	if m.Rendered(0) != nil || m.Rendered(int(All)) != nil {
		t.Fatal("Reset kept renderings")
	}
	if n := testing.AllocsPerRun(100, func() {
		m.Reset()
		m.Kind, m.From, m.Text = message.Chat, "alice", "hello, this is a line"
		Bytes(m, Plain)
		Bytes(m, Plain)
	}); n != 1 {
		t.Fatalf("%v allocations per rendering, want 1", n)
	}
}

// TestNickColourStable: a nickname's colour does not depend on case.
func TestNickColourStable(t *testing.T) {
	if NickColour("Alice") != NickColour("alice") {
		t.Fatal("colour depends on case")
	}
	seen := map[string]bool{}
	for _, n := range []string{"alice", "bob", "carol", "dave", "eve", "mallory", "trent"} {
		seen[NickColour(n)] = true
	}
	if len(seen) < 3 {
		t.Fatalf("only %d colours for 7 names", len(seen))
	}
}

// TestPlainHasNoEscapes: the plain profile never sends ESC or a bell,
// whatever the message.
func TestPlainHasNoEscapes(t *testing.T) {
	for k := message.Chat; k <= message.History; k++ {
		m := &message.Message{Kind: k, From: "a", To: "b", Text: "a b", Mention: "a", Time: time.Now(),
			Backlog: []*message.Message{{Kind: message.Private, From: "a", Text: "x", Mention: "a"}}}
		if b := Append(nil, m, Plain); bytes.ContainsAny(b, "\x1b\a") {
			t.Errorf("%v: %q", k, b)
		}
	}
}
