package client_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"telchat/client"
	"telchat/hub"
	"telchat/internal/servertest"
	"telchat/telnet"
	"telchat/usertext"
)

// Hostile input over real TCP: none of it may crash the server, stall it or
// leak, and after each hostile client a normal pair of clients still chats.

// pairStillChats logs in two fresh users who talk both ways and quit.
func pairStillChats(t *testing.T, s *servertest.Server, tag string) {
	t.Helper()
	a := s.Login(t, tag+"A")
	b := s.Login(t, tag+"B")
	a.Expect(tag + "B joined")
	a.Send("ping from " + tag)
	b.Expect("<" + tag + "A> ping from " + tag)
	b.Send("pong")
	a.Expect("<" + tag + "B> pong")
	for _, c := range []*servertest.Client{a, b} {
		c.Send("/quit")
		if out := c.ExpectEOF(); !strings.Contains(out, "Goodbye") {
			t.Fatalf("%s: no goodbye in %q", c.Nick, out)
		}
	}
}

// checkClean fails when line could act on a terminal: it must be valid
// UTF-8 without control characters, format characters (bidi, zero width)
// or escape sequences.
func checkClean(t *testing.T, who, line string) {
	t.Helper()
	if !utf8.ValidString(line) {
		t.Fatalf("%s got invalid UTF-8: %q", who, line)
	}
	for _, r := range line {
		if r < 0x20 || r >= 0x7f && r < 0xa0 || unicode.Is(unicode.Cf, r) {
			t.Fatalf("%s got %U in %q", who, r, line)
		}
	}
}

// drain reads a connection in the background until it ends and keeps what
// came, so that a hostile client never stalls on its own output.
type drain struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	err  error
	done chan struct{}
}

func startDrain(c *net.TCPConn) *drain {
	d := &drain{done: make(chan struct{})}
	_ = c.SetReadDeadline(time.Now().Add(3 * servertest.Timeout))
	go func() {
		defer close(d.done)
		b := make([]byte, 32<<10)
		for {
			n, err := c.Read(b)
			d.mu.Lock()
			d.buf.Write(b[:n])
			if err != nil && !errors.Is(err, io.EOF) {
				d.err = err
			}
			d.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return d
}

func (d *drain) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.buf.String()
}

// waitFor waits until the output contains want.
func (d *drain) waitFor(t *testing.T, want string) {
	t.Helper()
	servertest.WaitFor(t, fmt.Sprintf("%q from the server", want), func() bool { return strings.Contains(d.String(), want) })
}

// end waits for the stream to end; a reset is fine, a timeout is not.
func (d *drain) end(t *testing.T) string {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(2 * servertest.Timeout):
		t.Fatal("the server never ended the stream")
	}
	if d.err != nil && !errors.Is(d.err, syscall.ECONNRESET) {
		t.Fatalf("stream ended with %v", d.err)
	}
	return d.String()
}

// writeChunks writes b in pieces of random size, so that every construct
// gets split across reads somewhere.
func writeChunks(t *testing.T, c *net.TCPConn, b []byte, rng *rand.Rand, maxChunk int) {
	t.Helper()
	_ = c.SetWriteDeadline(time.Now().Add(2 * servertest.Timeout))
	for len(b) > 0 {
		n := min(len(b), 1+rng.IntN(maxChunk))
		if _, err := c.Write(b[:n]); err != nil {
			t.Fatalf("write: %v", err)
		}
		b = b[n:]
	}
}

// observerLines returns the lines an observer got up to now, checking that
// each is clean.
func observerLines(t *testing.T, watch *servertest.Client) []string {
	t.Helper()
	lines := watch.Sync()
	for _, l := range lines {
		checkClean(t, watch.Nick, l)
	}
	return lines
}

func TestBinaryNoise(t *testing.T) {
	const size = 256 << 10
	cases := []struct {
		name string
		byte func(r *rand.Rand) byte
	}{
		{"uniform", func(r *rand.Rand) byte { return byte(r.UintN(256)) }},
		{"telnet-heavy", func(r *rand.Rand) byte { // half the bytes are commands
			if r.IntN(2) == 0 {
				return byte(0xf0 + r.UintN(16))
			}
			return byte(r.UintN(256))
		}},
		{"short-lines", func(r *rand.Rand) byte { // lines of escape, C1 and UTF-8 junk
			const junk = "\n\n\r\x1b[]();\x07\x9b\x9d\xc2\xe2\x80\xae\x8b\x00\x08/ab"
			return junk[r.IntN(len(junk))]
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{})
			watch := s.Login(t, "watch")
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			noise := make([]byte, size)
			for j := range noise {
				noise[j] = tc.byte(rng)
			}
			c := s.Dial(t)
			out := startDrain(c.Conn)
			writeChunks(t, c.Conn, noise, rng, 4096)
			failOn(t, c.Conn.CloseWrite())
			got := out.end(t)
			servertest.WaitFor(t, "the noisy session to end", func() bool { return s.Server.Active() == 1 })
			lines := observerLines(t, watch)
			t.Logf("%d bytes of noise: %d bytes back, the observer saw %d lines", size, len(got), len(lines))
			pairStillChats(t, s, "p")
		})
	}
}

// telnetStorm returns every Telnet command and option negotiation, valid,
// repeated and out of order, and subnegotiations well- and ill-formed, as
// complete units in random order; and how many DO TIMING-MARK and AYT it
// holds.
func telnetStorm(rng *rand.Rand) (storm []byte, doTM, ayt int) {
	var units [][]byte
	iac := func(b ...byte) []byte { return append([]byte{telnet.IAC}, b...) }
	for cmd := 0; cmd < 256; cmd++ {
		switch byte(cmd) {
		case telnet.SB, telnet.WILL, telnet.WONT, telnet.DO, telnet.DONT:
			continue // below
		case telnet.AYT:
			ayt += 2
		}
		units = append(units, iac(byte(cmd)), iac(byte(cmd))) // every command and undefined byte, twice
	}
	for _, verb := range []byte{telnet.DONT, telnet.WONT, telnet.DO, telnet.WILL, telnet.DO, telnet.WILL, telnet.WONT, telnet.DONT} {
		for opt := 0; opt < 256; opt++ {
			units = append(units, iac(verb, byte(opt)))
			if verb == telnet.DO && opt == telnet.OptTimingMark {
				doTM++
			}
		}
	}
	for opt := 0; opt < 256; opt++ {
		units = append(units, append(iac(telnet.SB, byte(opt), 'x', telnet.IAC, telnet.IAC, '\r', '\n'), telnet.IAC, telnet.SE))
	}
	units = append(units,
		iac(telnet.SB, telnet.OptNAWS, 0, 0, 0, 0, telnet.IAC, telnet.SE),
		iac(telnet.SB, telnet.OptNAWS, 0xff, 0xff, 0xff, 0xff, telnet.IAC, telnet.SE), // unescaped 0xFF
		iac(telnet.SB, telnet.OptNAWS, telnet.IAC, telnet.IAC, telnet.IAC, telnet.IAC, telnet.IAC, telnet.IAC, telnet.IAC, telnet.IAC, telnet.IAC, telnet.SE),
		iac(telnet.SB, telnet.OptNAWS, 1, telnet.IAC, telnet.SE),                                                                             // short
		append(append(iac(telnet.SB, telnet.OptTType, telnet.TTypeIs), bytes.Repeat([]byte("\x1b[2Jxterm"), 400)...), telnet.IAC, telnet.SE), // overlong
		iac(telnet.SB, telnet.OptTType, telnet.TTypeSend, telnet.IAC, telnet.SE),                                                             // wrong direction
		iac(telnet.SB, telnet.OptNAWS, 0, 80, telnet.IAC, telnet.SB, telnet.OptTType, telnet.TTypeIs, 'v', 't', telnet.IAC, telnet.SE),       // nested
		iac(telnet.SB, telnet.IAC, telnet.SE),                                                                                                // no option
		iac(telnet.SE),                                                                                                                       // stray end
		iac(telnet.SB, telnet.OptTType, telnet.TTypeIs, 'x', telnet.IAC, telnet.NOP),                                                         // ended by another command
	)
	rng.Shuffle(len(units), func(i, j int) { units[i], units[j] = units[j], units[i] })
	return bytes.Join(units, nil), doTM, ayt
}

func TestTelnetCommandStorm(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{})
			watch := s.Login(t, "watch")
			rng := rand.New(rand.NewPCG(seed, 7))
			storm, doTM, ayt := telnetStorm(rng)
			c := s.Dial(t)
			out := startDrain(c.Conn)
			writeChunks(t, c.Conn, storm, rng, 7)
			// Every unit is complete: the client is back to plain text.
			c.Write([]byte("\r\nstormy\r\n"))
			out.waitFor(t, "*** Welcome, stormy!")
			c.Write([]byte("after the storm\r\n"))
			watch.Expect("<stormy> after the storm")
			got := out.String()
			if n := strings.Count(got, string([]byte{telnet.IAC, telnet.WILL, telnet.OptTimingMark})); n < doTM {
				t.Errorf("%d DO TIMING-MARK answered, want %d", n, doTM)
			}
			if n := strings.Count(got, telnet.AYTAnswer); n != ayt {
				t.Errorf("%d AYT answered, want %d", n, ayt)
			}
			observerLines(t, watch)
			c.Send("/quit")
			out.end(t)
			pairStillChats(t, s, "p")
		})
	}
}

func TestTruncatedSequenceAtEOF(t *testing.T) {
	cases := []struct {
		name, tail string
	}{
		{"IAC", "\xff"},
		{"IAC DO", "\xff\xfd"},
		{"IAC WILL", "\xff\xfb"},
		{"IAC SB", "\xff\xfa"},
		{"IAC SB NAWS", "\xff\xfa\x1f"},
		{"IAC SB NAWS half", "\xff\xfa\x1f\x00\x50"},
		{"IAC SB TTYPE IS", "\xff\xfa\x18\x00xterm"},
		{"IAC SB ... IAC", "\xff\xfa\x18\x00xterm\xff"},
		{"UTF-8 lead byte", "\xe2"},
		{"UTF-8 two of three", "\xe2\x82"},
		{"CR", "\r"},
		{"ESC [", "\x1b["},
		{"OSC", "\x1b]0;title"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{})
			watch := s.Login(t, "watch")
			c := s.Login(t, "trunc")
			c.Send("before")
			watch.Expect("<trunc> before")
			c.Write([]byte("partial" + tc.tail))
			failOn(t, c.Conn.CloseWrite())
			c.ExpectEOF()
			l := watch.Expect("<trunc> ")
			checkClean(t, "watch", l)
			if !strings.HasPrefix(l, "<trunc> partial") {
				t.Fatalf("watch got %q, want the unterminated line", l)
			}
			watch.Expect("*** trunc left #lobby (hangup)")
			servertest.WaitFor(t, "the session to end", func() bool { return s.Server.Active() == 1 })
			pairStillChats(t, s, "p")
		})
	}
}

func TestRunawaySubnegotiationIsDroppedAtTheLineEnd(t *testing.T) {
	// A stray IAC SB (say, from nc and pasted binary) with no IAC SE: past
	// the 512-byte cap the rest of its line is dropped, the sender is told
	// once, and the next line is read normally.
	cases := []struct {
		name   string
		before string // sent before the nickname prompt is answered, or after login
		login  bool
	}{
		{"at the nickname prompt", "\xff\xfa\x18" + strings.Repeat("A", 1000) + "\r\n", false},
		{"in chat", "hello \xff\xfa\x18" + strings.Repeat("A", 1000) + "\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{})
			watch := s.Login(t, "watch")
			var c *servertest.Client
			if tc.login {
				c = s.Login(t, "sb")
			} else {
				c = s.Dial(t)
				c.ExpectPrompt()
			}
			c.Write([]byte(tc.before))
			c.Expect("! Garbled input: a Telnet subnegotiation (IAC SB) over 512 bytes was dropped up to the line end")
			if !tc.login {
				c.Send("sb")
				c.Expect("*** Welcome, sb!")
			}
			c.Send("after")
			l := watch.Expect("<sb> after")
			checkClean(t, "watch", l)
			for _, l := range watch.Sync() {
				if strings.Contains(l, "AAAA") {
					t.Fatalf("watch got the subnegotiation's bytes: %q", l)
				}
			}
		})
	}
}

func TestTextFromOthersIsSanitized(t *testing.T) {
	// Each payload goes through every way text reaches another user; the
	// victim must get exactly the visible text.
	zalgo := "A" + strings.Repeat("\u0301", 20) + "Z"
	cases := []struct{ name, in, want string }{
		{"clear screen", "A\x1b[2J\x1b[HZ", "AZ"},
		{"title BEL", "A\x1b]0;pwned\x07Z", "AZ"},
		{"title ST", "A\x1b]2;pwned\x1b\\Z", "AZ"},
		{"OSC 52 clipboard", "A\x1b]52;c;cm0gLXJmIH4=\x07Z", "AZ"},
		{"8-bit CSI", "A\u009b2JZ", "AZ"},
		{"8-bit OSC", "A\u009d0;pwned\u009cZ", "AZ"},
		{"DCS", "A\x1bP1$qm\x1b\\Z", "AZ"},
		{"cursor save move restore", "A\x1b7\x1b[10;10H\x1b8Z", "AZ"},
		{"charset", "A\x1b(0Z", "AZ"},
		{"raw C1 byte", "A\x9b2JZ", "A\uFFFD2JZ"},
		{"BEL", "A\x07Z", "AZ"},
		{"NUL", "A\x00\x00Z", "AZ"},
		{"invalid UTF-8", "A\xc3\x28Z", "A\uFFFD(Z"},
		{"surrogate", "A\xed\xa0\x80Z", "A\uFFFD\uFFFD\uFFFDZ"},
		{"overlong", "A\xc0\xafZ", "A\uFFFD\uFFFDZ"},
		{"bidi override", "A\u202eevil\u202cZ", "AevilZ"},
		{"bidi isolates", "A\u2066x\u2069\u200e\u200fZ", "AxZ"},
		{"zero width", "A\u200b\u200c\u200d\u2060\ufeffZ", "AZ"},
		{"tag characters", "A\U000E0041\U000E007FZ", "AZ"},
		{"hangul filler", "A\u3164Z", "AZ"},
		{"zalgo", zalgo, "A" + strings.Repeat("\u0301", usertext.MaxCombiningRun) + "Z"},
		{"line separator", "A\u2028Z", "A Z"},
		{"tab", "A\tZ", "A Z"},
	}
	surfaces := []struct {
		name string
		send string // %s is the payload
		see  string // the victim's line; %s is the clean text
	}{
		{"chat", "%s", "<mallory> %s"},
		{"emote", "/me %s", "* mallory %s"},
		{"private", "/msg victim %s", "*mallory* %s"},
		{"topic", "/topic %s", "*** mallory set the topic of #den to: %s"},
	}
	s := servertest.Start(t, servertest.Config{})
	victim := s.Login(t, "victim")
	mallory := s.Login(t, "mallory")
	victim.Expect("mallory joined")
	// Out of the lobby, whose topic only admins may set.
	victim.Send("/join den")
	victim.Expect("You are now in #den")
	mallory.Send("/join den")
	victim.Expect("mallory joined #den")
	mallory.Expect("You are now in #den")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, sf := range surfaces {
				mallory.Write([]byte(fmt.Sprintf(sf.send, tc.in) + "\r\n"))
				l := victim.Line()
				checkClean(t, "victim", l)
				if want := fmt.Sprintf(sf.see, tc.want); l != want {
					t.Fatalf("%s: victim got %q, want %q", sf.name, l, want)
				}
			}
			mallory.Write([]byte("/away " + tc.in + "\r\n"))
			mallory.Expect("*** You are away: ")
			victim.Send("/whois mallory")
			l := victim.Expect("*** mallory is in #")
			checkClean(t, "victim", l)
			if !strings.HasSuffix(l, ", away: "+tc.want) {
				t.Fatalf("whois: victim got %q, want away text %q", l, tc.want)
			}
			// A nickname that needed cleaning is refused, not cleaned. (NUL
			// is a no-op on the Telnet NVT: "evilAZ" would be a fine name.)
			if tc.name == "NUL" {
				return
			}
			mallory.Write([]byte("/nick evil" + tc.in + "\r\n"))
			if l := mallory.Expect("! "); !strings.HasPrefix(l, "! ") {
				t.Fatalf("nick: %q", l)
			}
		})
	}
	mallory.Write([]byte("/quit bye\x1b]0;pwned\x07\u202e!\r\n"))
	mallory.ExpectEOF()
	l := victim.Expect("mallory left")
	if l != "*** mallory left #den (quit: bye!)" {
		t.Fatalf("victim got %q", l)
	}
	pairStillChats(t, s, "p")
}

func TestLookAlikeNicknames(t *testing.T) {
	// refusal is a word the refusal must contain ("" for any refusal);
	// the last attempt of each case is accepted.
	type try struct{ nick, refusal string }
	const taken = "taken"
	cases := []struct {
		name     string
		rules    usertext.NickRules
		existing []string
		attempts []try
		accepted string
		renames  []try // by the accepted user; refusal "ok" means allowed
	}{
		{
			name: "ascii", existing: []string{"alice", "bob", "cop", "m"},
			attempts: []try{
				{"ALICE", taken}, {"Alice", taken}, {"aLiCe", taken},
				{"aIice", "looks too much like alice, who is online"}, // capital i for l
				{"a1ice", "looks too much like alice"},                // one for l
				{"AL1CE", "looks too much like alice"},
				{"b0b", "looks too much like bob"}, // zero for o
				{"c0p", "looks too much like cop"},
				{"rn", "looks too much like m"},
				{"Server_", "reserved"}, {"admin_", "reserved"}, {"the-admin", "reserved"},
				{"admins", "reserved"}, {"ircop", "reserved"}, {"services", "reserved"},
				{"root_", "reserved"}, {"r00t_", "reserved"},
				{"\u0430lice", "letters"}, // Cyrillic а
				{"\u0430dmin", "letters"}, // Cyrillic а
				{"admin", "reserved"},
				{"r00t", "reserved"},                          // digits for letters
				{"\uff41\uff4c\uff49\uff43\uff45", "letters"}, // fullwidth
				{"alice\u200b", ""},                           // zero width: refused, any reason
				{"al\u202eice", ""},                           // bidi: refused, any reason
				{"\u0410\u043b\u0438\u0441\u0430", "letters"}, // Алиса: not ASCII
			},
			accepted: "alice2",
			renames: []try{{"ALICE", taken}, {"\u0430lice", "letters"}, {"Alice2", "ok"},
				{"b0b", "looks too much like bob"}, {"bobby", "ok"}, {"bob2", "ok"}, {"the_admin", "reserved"}},
		},
		{
			name: "unicode", rules: usertext.NickRules{Unicode: true}, existing: []string{"alice", "cop", "bob"},
			attempts: []try{
				{"ALICE", taken}, {"Alice", taken},
				{"\u0441\u043e\u0440", taken},                // сор, all Cyrillic: looks like cop
				{"\u0430lice", "alphabets"},                  // Cyrillic а with Latin
				{"\u0430dmin", "reserved"},                   // look-alike of a reserved name
				{"\uff41\uff4c\uff49\uff43\uff45", taken},    // fullwidth alice
				{"aIice", "looks too much like alice"},       // capital i for l
				{"c0p", "looks too much like cop"},           // zero for o
				{"alic\u00e9", "looks too much like alice"},  // é
				{"alice\u0332", "looks too much like alice"}, // combining low line
				{"\u0185ob", "looks too much like bob"},      // ƅ, whose capital Ƅ is a B
				{"alice\u200b", ""},                          // zero width: refused, any reason
			},
			accepted: "\u0410\u043b\u0438\u0441\u0430", // Алиса is a name of its own
			renames:  []try{{"\u0441\u043e\u0440", taken}, {"ALICE", taken}, {"\u0430lice", "alphabets"}, {"aIice", "looks too much like alice"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{Hub: hub.Config{Nick: tc.rules}})
			for _, n := range tc.existing {
				s.Login(t, n)
			}
			c := s.Dial(t)
			c.ExpectPrompt()
			for _, a := range tc.attempts {
				c.Send(a.nick)
				l := c.Line()
				if !strings.HasPrefix(l, "! ") || !strings.Contains(l, a.refusal) {
					t.Fatalf("%q (%+q): got %q, want a refusal mentioning %q", a.nick, a.nick, l, a.refusal)
				}
				c.ExpectPrompt()
			}
			c.Send(tc.accepted)
			c.Expect("*** Welcome, " + tc.accepted + "!")
			c.Expect("You are now in #")
			for _, r := range tc.renames {
				c.Send("/nick " + r.nick)
				l := c.Line()
				switch {
				case r.refusal == "ok" && strings.HasPrefix(l, "*** You are now known as "+r.nick):
				case r.refusal != "ok" && strings.HasPrefix(l, "! ") && strings.Contains(strings.ToLower(l), r.refusal):
				default:
					t.Fatalf("/nick %q (%+q): got %q", r.nick, r.nick, l)
				}
			}
			pairStillChats(t, s, "p")
		})
	}
}

func TestCommandsWithHugeArguments(t *testing.T) {
	cases := []struct {
		name    string
		maxLine int
		size    int
	}{
		{"64k-lines", 64 << 10, 60000},
		{"1MiB-cut", 0, 1 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, servertest.Config{Client: client.Config{MaxLine: tc.maxLine}})
			bob := s.Login(t, "bob")
			alice := s.Login(t, "alice")
			bob.Expect("alice joined")
			// Out of the lobby, whose topic only admins may set.
			bob.Send("/join den")
			bob.Expect("You are now in #den")
			alice.Send("/join den")
			bob.Expect("alice joined #den")
			huge := strings.Repeat("h", tc.size)
			// Before a name: a huge nickname attempt.
			c := s.Dial(t)
			c.ExpectPrompt()
			c.Send(huge)
			if l := c.Expect("! "); strings.HasPrefix(l, "! Line too long") {
				c.Expect("! ")
			}
			c.ExpectPrompt()
			for _, cmd := range []string{
				"/msg " + huge + " hi", "/join " + huge, "/nick " + huge, "/whois " + huge,
				"/ignore " + huge, "/unignore " + huge, "/help " + huge, "/who " + huge,
				"/" + huge, "/kick " + huge + " " + huge, "/ban " + huge, "/oper " + huge,
				"/r " + huge, "/part " + huge, "/motd set " + huge,
			} {
				alice.Send(cmd)
				lines := alice.Sync()
				if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], "! ") {
					t.Fatalf("%.20q...: no refusal, got %.300q", cmd, lines)
				}
			}
			// Commands that succeed with huge text: what others see is bounded
			// by the line limit (and the command's own limit).
			for _, cmd := range []struct{ send, bobSees string }{
				{"/msg bob " + huge, "*alice* hhh"},
				{"/me " + huge, "* alice hhh"},
				{"/topic " + huge, "*** alice set the topic"},
				{huge, "<alice> hhh"},
			} {
				alice.Send(cmd.send)
				l := bob.Expect(cmd.bobSees)
				if len(l) > max(tc.maxLine, 1024)+64 {
					t.Fatalf("bob got a line of %d bytes", len(l))
				}
			}
			alice.Send("/away " + huge)
			alice.Expect("*** You are away: ")
			alice.Send("/quit " + huge)
			alice.ExpectEOF()
			if l := bob.Expect("alice left"); len(l) > 300 {
				t.Fatalf("leave line of %d bytes", len(l))
			}
			bob.Sync()
			pairStillChats(t, s, "p")
		})
	}
}

func TestTelnetRepliesRespectQueueCaps(t *testing.T) {
	// A client that asks "are you there?" (2 bytes in, 30 out) and "do
	// timing mark" without ever reading: the answers must stay within the
	// outbound queue's caps like any other output.
	const caps = 64 << 10
	var sessions sessionLog
	s := servertest.Start(t, servertest.Config{Client: client.Config{
		MaxQueueBytes: caps, MaxQueueMsgs: 64, WriteTimeout: time.Hour, ConnState: sessions.record,
	}})
	c := s.Dial(t)
	sess := sessions.nth(t, 0)
	unit := []byte{telnet.IAC, telnet.AYT, telnet.IAC, telnet.DO, telnet.OptTimingMark}
	flood := bytes.Repeat(unit, (2<<20)/len(unit))
	before := heapAlloc()
	c.Write(flood) // the server reads it all: it never stops reading
	servertest.WaitFor(t, "the server to read the flood", func() bool { return sess.Stats().BytesIn >= int64(len(flood)) })
	st := sess.Stats()
	grew := int64(heapAlloc()) - int64(before)
	t.Logf("%d bytes of requests: queue %d messages, %d bytes; heap grew %d bytes", len(flood), st.QueuedMsgs, st.QueuedBytes, grew)
	runtime.KeepAlive(flood)
	if st.QueuedMsgs > 64 || st.QueuedBytes > caps {
		t.Errorf("queue over its caps: %+v", st)
	}
	if grew > 8<<20 {
		t.Errorf("heap grew by %d bytes: replies are queued without bound", grew)
	}
	_ = c.Conn.SetLinger(0)
	_ = c.Conn.Close()
	servertest.WaitFor(t, "the session to end", func() bool { return s.Server.Active() == 0 })
	pairStillChats(t, s, "p")
}
