package client_test

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"telchat/client"
	"telchat/hub"
	"telchat/internal/servertest"
)

// tmuxPane is a real terminal (tmux, 80x24 unless said) running a real
// client.
type tmuxPane struct {
	t    *testing.T
	tmux string
	sock string
}

// startPane runs command in a new detached tmux session, 80x24.
func startPane(t *testing.T, command string) *tmuxPane {
	t.Helper()
	return startPaneSized(t, 80, 24, command)
}

// startPaneSized runs command in a new detached tmux session of the given
// size.
func startPaneSized(t *testing.T, cols, rows int, command string) *tmuxPane {
	t.Helper()
	p := &tmuxPane{t: t, tmux: servertest.RequireBinary(t, "tmux"), sock: filepath.Join(t.TempDir(), "sock")}
	p.run("new-session", "-d", "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows), command)
	t.Cleanup(func() { _ = exec.Command(p.tmux, "-S", p.sock, "kill-server").Run() })
	return p
}

func (p *tmuxPane) run(args ...string) string {
	p.t.Helper()
	out, err := exec.Command(p.tmux, append([]string{"-S", p.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys types literal text; key presses keys by tmux name (Enter, C-c, Up).
func (p *tmuxPane) keys(text string) { p.run("send-keys", "-l", text) }
func (p *tmuxPane) key(names ...string) {
	p.run(append([]string{"send-keys"}, names...)...)
}

// screen returns the pane's rows, trailing blanks cut, and the cursor.
func (p *tmuxPane) screen() (rows []string, cx, cy int) {
	rows = strings.Split(strings.TrimSuffix(p.run("capture-pane", "-p"), "\n"), "\n")
	for i := range rows {
		rows[i] = strings.TrimRight(rows[i], " ")
	}
	fmt.Sscanf(strings.TrimSpace(p.run("display-message", "-p", "#{cursor_x} #{cursor_y}")), "%d %d", &cx, &cy)
	return rows, cx, cy
}

// waitFor polls the screen until ok holds (bounded by servertest.Timeout).
func (p *tmuxPane) waitFor(what string, ok func(rows []string, cx, cy int) bool) {
	p.t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		rows, cx, cy := p.screen()
		if ok(rows, cx, cy) {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s; the screen (cursor %d,%d):\n%s", what, cx, cy, strings.Join(rows, "\n"))
		}
		time.Sleep(20 * time.Millisecond) // polling tmux for the condition, bounded by the deadline
	}
}

// waitText waits until some row contains text.
func (p *tmuxPane) waitText(text string) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%q on the screen", text), func(rows []string, _, _ int) bool {
		return rowWith(rows, text) >= 0
	})
}

// rowWith returns the last row containing text, or -1.
func rowWith(rows []string, text string) int {
	for i := len(rows) - 1; i >= 0; i-- {
		if strings.Contains(rows[i], text) {
			return i
		}
	}
	return -1
}

// waitInput waits until the cursor's row is the prompt and exactly typed,
// with the cursor at its end, and returns the rows.
func (p *tmuxPane) waitInput(typed string) []string {
	p.t.Helper()
	var got []string
	p.waitFor(fmt.Sprintf("the input line %q", "> "+typed), func(rows []string, cx, cy int) bool {
		got = rows
		return cy < len(rows) && rows[cy] == strings.TrimRight("> "+typed, " ") && cx == len("> "+typed)
	})
	return got
}

// TestTelnetCharacterMode: inetutils telnet in a real terminal switches
// with Ctrl-] "mode character"; a message that arrives while the user is
// half-way through a line appears above it and leaves the typed text
// intact, with the cursor where it was; Enter sends exactly what was
// typed; Up recalls it, Ctrl-C clears the line, Tab completes a nickname.
func TestTelnetCharacterMode(t *testing.T) {
	servertest.RequireBinary(t, "telnet")
	s := servertest.Start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	p := startPane(t, "telnet 127.0.0.1 "+s.Port())
	p.waitText("Choose a nickname:")
	p.keys("bob")
	p.key("Enter")
	p.waitText("You are now in #lobby")
	alice.Expect("*** bob joined #lobby")

	p.key("C-]")
	p.waitText("telnet>")
	p.keys("mode character")
	p.key("Enter")
	p.waitText("Character mode")
	p.waitInput("")

	p.keys("half a li")
	p.waitInput("half a li")
	alice.Send("hello bob, a message while you type")
	rows := p.waitInput("half a li")
	p.waitFor("the message above the input line", func(rows []string, _, cy int) bool {
		r := rowWith(rows, "<alice> hello bob, a message while you type")
		return r >= 0 && r < cy && rows[cy] == "> half a li"
	})
	if r := rowWith(rows, "half a li"); r >= 0 && strings.Contains(rows[r], "alice") {
		t.Fatalf("the message and the typed text share a row:\n%s", strings.Join(rows, "\n"))
	}

	p.keys("ne")
	p.key("Enter")
	expectExactLine(t, alice, "<bob>", "<bob> half a line")
	p.waitInput("")

	p.key("Up")
	p.waitInput("half a line")
	p.key("C-c")
	p.waitInput("")

	p.keys("hi al")
	p.key("Tab")
	p.waitInput("hi alice ")
	p.key("Enter")
	expectExactLine(t, alice, "<bob>", "<bob> hi alice")

	// Back to line mode: the terminal edits (and echoes) again.
	p.keys("/mode line")
	p.key("Enter")
	p.waitText("Line mode: your terminal edits the line")
	p.keys("back in line mode")
	p.key("Enter")
	expectExactLine(t, alice, "<bob>", "<bob> back in line mode")
	p.waitText("back in line mode")
}

// TestWrapIndentsContinuations: in character mode on a 40-column
// terminal (inetutils telnet, which reports the width with NAWS), a long
// message is wrapped by the server, and its continuation rows are
// indented, so that text padded to the wrap point cannot pass for a line
// of its own ("<mallory> ..." at the first column).
func TestWrapIndentsContinuations(t *testing.T) {
	servertest.RequireBinary(t, "telnet")
	s := servertest.Start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	p := startPaneSized(t, 40, 24, "telnet 127.0.0.1 "+s.Port())
	p.waitText("Choose a nickname:")
	p.keys("bob")
	p.key("Enter")
	p.waitText("You are now in #lobby")
	p.key("C-]")
	p.waitText("telnet>")
	p.keys("mode character")
	p.key("Enter")
	p.waitText("Character mode")
	p.waitInput("")
	p.keys("/set timestamps off")
	p.key("Enter")
	p.waitText("timestamps off")

	alice.Send("I nod along with every word here <carol> I trust alice completely")
	var rows []string
	p.waitFor("the wrapped message", func(r []string, _, _ int) bool {
		rows = r
		return rowWith(r, "completely") >= 0
	})
	first := rowWith(rows, "<alice> I nod")
	last := rowWith(rows, "completely")
	if first < 0 || last <= first {
		t.Fatalf("the message is not wrapped in rows of its own:\n%s", strings.Join(rows, "\n"))
	}
	for _, row := range rows[first+1 : last+1] {
		if !strings.HasPrefix(row, "        ") || row[8] == ' ' {
			t.Fatalf("a continuation row is not indented under the text (8 columns):\n%s", strings.Join(rows, "\n"))
		}
	}
	if rowWith(rows, "<carol>") < 0 || strings.HasPrefix(rows[rowWith(rows, "<carol>")], "<carol>") {
		t.Fatalf("<carol> at the first column:\n%s", strings.Join(rows, "\n"))
	}
	p.waitInput("")
}

// TestPlinkGetsCharacterMode: PuTTY's plink -telnet asks the server to echo
// (DO ECHO) at connect; it gets character mode, so the screen shows what
// was typed, with no ^M or ^? (issue 10), and Backspace edits.
func TestPlinkGetsCharacterMode(t *testing.T) {
	plink := servertest.RequireBinary(t, "plink")
	s := servertest.Start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	p := startPane(t, plink+" -telnet -batch -P "+s.Port()+" 127.0.0.1")
	p.waitText("Choose a nickname:")
	p.keys("carol")
	p.key("Enter")
	p.waitText("You are now in #lobby")
	p.waitInput("")
	p.keys("hix")
	p.key("BSpace")
	p.waitInput("hi")
	p.key("Enter")
	expectExactLine(t, alice, "<carol>", "<carol> hi")
	p.waitInput("")
	rows, _, _ := p.screen()
	screen := strings.Join(rows, "\n")
	if strings.Contains(screen, "^M") || strings.Contains(screen, "^?") {
		t.Fatalf("plink shows control characters:\n%s", screen)
	}
	if rowWith(rows, "Choose a nickname: carol") < 0 {
		t.Fatalf("the nickname was not echoed after its prompt:\n%s", screen)
	}
}

// TestNcSeesNoTelnetOrEscapes: on the default listener an nc user gets no
// Telnet command byte (0xFF) and no escape sequence (ESC) in a whole
// session of chat, commands, joins and leaves, even with other users in
// character mode with colours.
func TestNcSeesNoTelnetOrEscapes(t *testing.T) {
	nc := servertest.RequireBinary(t, "nc")
	s := servertest.Start(t, servertest.Config{Client: client.Config{CommandNames: []string{"who", "help"}}})
	alice := s.Login(t, "alice")
	// A user in character mode with every setting on, chatting in the room.
	fancy := s.Dial(t)
	fancy.Write([]byte{0xff, 0xfd, 0x01, 0xff, 0xfd, 0x03, 0xff, 0xfb, 0x18}) // DO ECHO, DO SGA, WILL TTYPE
	fancy.Write([]byte{0xff, 0xfa, 0x18, 0x00, 'x', 't', 'e', 'r', 'm', 0xff, 0xf0})
	fancy.Write([]byte("fancy\r\x00"))
	alice.Expect("*** fancy joined #lobby")

	in, feed := io.Pipe()
	defer feed.Close()
	p := servertest.StartProcess(t, in, nc, "-N", "127.0.0.1", s.Port())
	say := func(line, want string) {
		t.Helper()
		from := len(p.Out.String())
		if _, err := io.WriteString(feed, line+"\n"); err != nil {
			t.Fatal(err)
		}
		p.Out.WaitFor(t, from, want)
	}
	p.Out.WaitFor(t, 0, "Choose a nickname:")
	say("dave", "You are now in #lobby")
	say("hello all", "") // said; nothing comes back
	alice.Expect("<dave> hello all")
	fancy.Write([]byte("hi dave, from character mode\r\x00"))
	p.Out.WaitFor(t, 0, "<fancy> hi dave, from character mode")
	alice.Send("/me waves at dave")
	p.Out.WaitFor(t, 0, "* alice waves at dave")
	say("/who", "fancy")
	say("/msg fancy psst", "-> *fancy* psst")
	fancy.Write([]byte("/msg dave back\r\x00"))
	p.Out.WaitFor(t, 0, "*fancy* back")
	say("/set", "timestamps off")
	say("/join den", "You are now in #den")
	alice.Send("/join den")
	p.Out.WaitFor(t, 0, "*** alice joined #den")
	alice.Send("/part")
	p.Out.WaitFor(t, 0, "*** alice left #den")
	say("/help", "/quit")
	say("/quit bye", "Goodbye, dave!")
	out := []byte(p.Out.String())
	t.Logf("nc transcript:\n%s", out)
	if i := bytes.IndexByte(out, 0xff); i >= 0 {
		t.Fatalf("nc got 0xFF at %d: %q", i, out)
	}
	if i := bytes.IndexByte(out, 0x1b); i >= 0 {
		t.Fatalf("nc got ESC at %d: %q", i, out)
	}
	if bytes.IndexByte(out, '\a') >= 0 {
		t.Fatalf("nc got a bell: %q", out)
	}
}

// TestModeCharUnanswered: /mode alone tells the mode and how to switch; a
// client that does not answer the offer (nc, say) stays in line mode and
// is told why, about a second later.
func TestModeCharUnanswered(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})
	c := s.Login(t, "erin")
	c.Send("/mode")
	expectExactLine(t, c, "***", "*** You are in line mode: your terminal edits the line, and sends it when you press Enter")
	c.Expect("*** /mode char switches to character mode")
	c.Send("/mode char")
	c.Expect("Asking your client for character mode")
	c.Send("/mode")
	c.Expect("*** You are in line mode; your client was asked for character mode and has not answered yet")
	start := time.Now()
	c.Expect("! Your client stays in line mode: it did not answer the offer")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("told after %v", d)
	}
	c.Send("/mode line")
	c.Expect("You are in line mode already")
}

// TestNegotiateListener: with -negotiate every connection opens with the
// offer, and a Telnet client in a terminal is in character mode at once.
func TestNegotiateListener(t *testing.T) {
	servertest.RequireBinary(t, "telnet")
	s := servertest.Start(t, servertest.Config{Client: client.Config{Negotiate: true}})
	alice := s.Login(t, "alice")
	p := startPane(t, "telnet 127.0.0.1 "+s.Port())
	p.waitText("Character mode")
	p.waitFor("the nickname prompt on the input line", func(rows []string, cx, cy int) bool {
		return cy < len(rows) && rows[cy] == "Choose a nickname:" && cx == len("Choose a nickname: ")
	})
	p.keys("frank")
	p.key("Enter")
	p.waitText("You are now in #lobby")
	p.waitInput("")
	p.keys("typed in character mode")
	p.key("Enter")
	expectExactLine(t, alice, "<frank>", "<frank> typed in character mode")
	p.key("C-d") // Ctrl-D on an empty line: /quit
	alice.Expect("*** frank left #lobby (quit)")
}

// TestSecretAndSettingsInCharacterMode: in character mode /mode alone says
// so; /oper alone asks for the password without echoing it; /set changes
// a setting; the terminal type decides colours.
func TestSecretAndSettingsInCharacterMode(t *testing.T) {
	s := servertest.Start(t, servertest.Config{Hub: hub.Config{PasswordCheck: func(p string) bool { return p == "s3cret pw" }}})
	c := s.Dial(t)
	c.ExpectPrompt()
	// DO ECHO, DO SGA (inetutils' "mode character"), then TTYPE xterm.
	c.Write([]byte{0xff, 0xfd, 0x01, 0xff, 0xfd, 0x03, 0xff, 0xfb, 0x18, 0xff, 0xfa, 0x18, 0x00, 'x', 't', 'e', 'r', 'm', 0xff, 0xf0})
	c.Expect("Character mode")
	c.Write([]byte("gina\r\x00"))
	c.Expect("You are now in #lobby")
	c.Write([]byte("/mode\r\x00"))
	c.Expect("You are in character mode: the server echoes and edits your line")
	c.Expect("/mode line switches to line mode")
	c.Write([]byte("/set\r\x00"))
	c.Expect("Terminal: xterm")
	c.Expect("colours on")
	c.Write([]byte("/set timestamps off\r\x00"))
	c.Expect("timestamps off: [HH:MM] before each line")
	c.Write([]byte("/oper\r\x00"))
	readUntil(t, c, "Password: ")
	var seen bytes.Buffer
	c.Write([]byte("s3cret pw\r\x00"))
	for !strings.Contains(seen.String(), "You are now an admin") {
		l := c.Line()
		seen.WriteString(l + "\n")
	}
	if strings.Contains(seen.String(), "s3cret") {
		t.Fatalf("the password was echoed: %q", seen.String())
	}
	c.Write([]byte("\x1b[A")) // Up: the history holds "/oper", not the password
	readUntil(t, c, "> /oper\x1b[K")
	c.Write([]byte("\x1b[A"))
	readUntil(t, c, "> /set timestamps off\x1b[K")
}

// readUntil reads c's raw bytes until text has come.
func readUntil(t *testing.T, c *servertest.Client, text string) {
	t.Helper()
	_ = c.Conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
	var got []byte
	for !bytes.Contains(got, []byte(text)) {
		b, err := c.R.ReadByte()
		if err != nil {
			t.Fatalf("waiting for %q: %v; got %q", text, err, got)
		}
		got = append(got, b)
	}
}

// TestListingsFollowTheWidth: in character mode /who lays its names out
// for the window's width (NAWS), and a new width applies to the next
// listing at once.
func TestListingsFollowTheWidth(t *testing.T) {
	s := servertest.Start(t, servertest.Config{})
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		s.Login(t, n)
	}
	c := s.Dial(t)
	c.ExpectPrompt()
	// DO ECHO, DO SGA (character mode), WILL NAWS and a 30x24 window.
	c.Write([]byte{0xff, 0xfd, 0x01, 0xff, 0xfd, 0x03, 0xff, 0xfb, 0x1f, 0xff, 0xfa, 0x1f, 0, 30, 0, 24, 0xff, 0xf0})
	// The notice comes through the hub, after the window size in the same
	// packet, so it is wrapped at 30 columns too.
	readUntil(t, c, "*** Character")
	c.Write([]byte("gina\r\x00"))
	readUntil(t, c, "You are now")
	c.Write([]byte("/who\r\x00"))
	// 30 columns wrap as 24 (widths from 24 up are rounded down to a
	// multiple of 8).
	readUntil(t, c, "*** 5 in #lobby: alice,\r\n    bob, carol, dave,\r\n    gina\r\n")
	c.Write([]byte{0xff, 0xfa, 0x1f, 0, 120, 0, 24, 0xff, 0xf0})
	c.Write([]byte("/who\r\x00"))
	readUntil(t, c, "*** 5 in #lobby: alice, bob, carol, dave, gina\r\n")
}
