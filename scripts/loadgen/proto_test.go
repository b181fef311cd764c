package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseIRCPrivmsg(t *testing.T) {
	tests := []struct {
		name     string
		line     string
		wantNick string
		wantText string
		wantOK   bool
	}{
		{"full prefix", ":ann!~ann@localhost PRIVMSG #bench :#ab:0:1:2:xx", "ann", "#ab:0:1:2:xx", true},
		{"nick only prefix", ":ann PRIVMSG #bench :hello world", "ann", "hello world", true},
		{"nick@host prefix", ":ann@host PRIVMSG #bench :hi", "ann", "hi", true},
		{"channel case", ":ann!a@h PRIVMSG #BENCH :hi", "ann", "hi", true},
		{"empty trailing", ":ann!a@h PRIVMSG #bench :", "ann", "", true},
		{"middle param text", ":ann!a@h PRIVMSG #bench hi there", "ann", "hi", true},
		{"message tags", "@time=2026-01-01T00:00:00Z :ann!a@h PRIVMSG #bench :hi", "ann", "hi", true},
		{"other channel", ":ann!a@h PRIVMSG #other :hi", "", "", false},
		{"private message", ":ann!a@h PRIVMSG lgab1 :hi", "", "", false},
		{"notice", ":ann!a@h NOTICE #bench :hi", "", "", false},
		{"join", ":ann!a@h JOIN #bench", "", "", false},
		{"numeric", ":irc.example 353 lgab1 = #bench :ann bob", "", "", false},
		{"ping", "PING :irc.example", "", "", false},
		{"no prefix", "PRIVMSG #bench :hi", "", "", false},
		{"empty prefix", ": PRIVMSG #bench :hi", "", "", false},
		{"prefix only", ":ann!a@h", "", "", false},
		{"no target", ":ann!a@h PRIVMSG", "", "", false},
		{"no text", ":ann!a@h PRIVMSG #bench", "", "", false},
		{"empty", "", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nick, text, ok := parseIRCPrivmsg([]byte(tc.line), []byte("#bench"))
			if ok != tc.wantOK || string(nick) != tc.wantNick || string(text) != tc.wantText {
				t.Fatalf("parseIRCPrivmsg(%q) = %q, %q, %v; want %q, %q, %v", tc.line, nick, text, ok,
					tc.wantNick, tc.wantText, tc.wantOK)
			}
		})
	}
}

func TestIRCPong(t *testing.T) {
	tests := []struct {
		line   string
		want   string
		isPing bool
	}{
		{"PING :irc.example", "PONG :irc.example\r\n", true},
		{"PING token", "PONG :token\r\n", true},
		{":irc.example PING :abc", "PONG :abc\r\n", true},
		{"PING", "PONG :\r\n", true},
		{"PINGX :a", "", false},
		{"PONG :a", "", false},
		{":ann!a@h PRIVMSG #bench :PING :x", "", false},
		{"", "", false},
	}
	p := &ircProto{channel: "#bench", channelBytes: []byte("#bench")}
	for _, tc := range tests {
		got, isPing := p.appendPong(nil, []byte(tc.line))
		if isPing != tc.isPing || string(got) != tc.want {
			t.Errorf("appendPong(%q) = %q, %v; want %q, %v", tc.line, got, isPing, tc.want, tc.isPing)
		}
	}
}

func TestIRCSplit(t *testing.T) {
	tests := []struct {
		line       string
		wantPrefix string
		wantCmd    string
		wantParams []string
	}{
		{":irc.example 001 ann :Welcome to IRC", "irc.example", "001", []string{"ann", "Welcome to IRC"}},
		{":irc.example 366 ann #bench :End of NAMES list", "irc.example", "366", []string{"ann", "#bench", "End of NAMES list"}},
		{"PING :x", "", "PING", []string{"x"}},
		{"error :Closing", "", "ERROR", []string{"Closing"}},
		{"@a=b :s  433  *  ann :in use", "s", "433", []string{"*", "ann", "in use"}},
	}
	for _, tc := range tests {
		prefix, cmd, params := ircSplit([]byte(tc.line))
		if prefix != tc.wantPrefix || cmd != tc.wantCmd || strings.Join(params, "|") != strings.Join(tc.wantParams, "|") {
			t.Errorf("ircSplit(%q) = %q %q %q", tc.line, prefix, cmd, params)
		}
	}
}

func TestParseNATS(t *testing.T) {
	// Each case feeds its lines in order to one parseState; want lists the
	// chat lines that come out as "nick text".
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"one message", []string{"MSG bench.ann 1 5", "hello"}, []string{"ann hello"}},
		{"reply subject", []string{"MSG bench.ann 1 _INBOX.x 2", "hi"}, []string{"ann hi"}},
		{"two in a row", []string{"MSG bench.ann 1 1", "a", "MSG bench.bob 1 1", "b"}, []string{"ann a", "bob b"}},
		{"empty payload", []string{"MSG bench.ann 1 0", ""}, []string{"ann "}},
		{"payload looks like MSG", []string{"MSG bench.ann 1 15", "MSG bench.x 1 1", "MSG bench.bob 1 1", "z"}, []string{"ann MSG bench.x 1 1", "bob z"}},
		{"wrong length", []string{"MSG bench.ann 1 9", "short"}, nil},
		{"other subject", []string{"MSG news.ann 1 2", "hi", "MSG bench.bob 1 2", "yo"}, []string{"bob yo"}},
		{"no sender", []string{"MSG bench. 1 2", "hi"}, nil},
		{"control lines", []string{"INFO {}", "+OK", "PING", "PONG", "-ERR 'x'"}, nil},
		{"bad size", []string{"MSG bench.ann 1 x", "hi"}, nil},
		{"too few fields", []string{"MSG bench.ann 2", "hi"}, nil},
		{"too many fields", []string{"MSG bench.ann 1 r x 2", "hi"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st parseState
			var got []string
			for _, l := range tc.lines {
				if nick, text, ok := (natsProto{}).parse(&st, []byte(l)); ok {
					got = append(got, string(nick)+" "+string(text))
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAppendChat(t *testing.T) {
	tests := []struct {
		proto protocol
		want  string
	}{
		{telchatProto{}, "#ab:0:1:2:\n"},
		{&ircProto{channel: "#bench"}, "PRIVMSG #bench :#ab:0:1:2:\r\n"},
		{natsProto{}, "PUB bench.lgab0 10\r\n#ab:0:1:2:\r\n"},
	}
	for _, tc := range tests {
		if got := string(tc.proto.appendChat(nil, "lgab0", []byte("#ab:0:1:2:"))); got != tc.want {
			t.Errorf("%s appendChat = %q, want %q", tc.proto.name(), got, tc.want)
		}
	}
}

// fakePeer is a minimal IRC or NATS server that relays load lines to every
// other member of one room, applies a fakeMutation, and sends every member
// but sender 0 a PING when it relays sender 0's line 10, counting the PONGs.
// It relays sender 0's later lines only once every PONG is in (or
// pongWait has passed), so that the run cannot end, and loadgen close its
// connections, before its readers have had the PING: on a busy machine an
// idle client's reader may not see it for a while.
type fakePeer struct {
	ln       net.Listener
	proto    string
	mutation fakeMutation
	wg       sync.WaitGroup

	mu      sync.Mutex
	members map[string]*fakeMember // by nickname
	held    []byte
	conns   map[net.Conn]bool
	pongs   int           // PONGs to the mid-run PING
	ponged  chan struct{} // a PONG came in (buffered: a wake-up, not a count)
}

// pongWait bounds how long a fakePeer holds sender 0's lines after the
// mid-run PING.
const pongWait = 5 * time.Second

// fakeMember is one client in a fakePeer's room.
type fakeMember struct {
	conn net.Conn
	sid  string // NATS subscription id
	echo bool   // NATS: deliver the client's own messages to it
}

func startFakePeer(t *testing.T, proto string, m fakeMutation) *fakePeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakePeer{ln: ln, proto: proto, mutation: m, members: map[string]*fakeMember{}, conns: map[net.Conn]bool{},
		ponged: make(chan struct{}, 1)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() {
					s.mu.Lock()
					delete(s.conns, c)
					s.mu.Unlock()
					c.Close()
				}()
				if proto == protoIRC {
					s.serveIRC(c)
				} else {
					s.serveNATS(c)
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *fakePeer) addr() string { return s.ln.Addr().String() }

// pongCount returns the PONGs received for the mid-run PING so far.
func (s *fakePeer) pongCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pongs
}

// pong counts a PONG to the mid-run PING.
func (s *fakePeer) pong() {
	s.mu.Lock()
	s.pongs++
	s.mu.Unlock()
	select {
	case s.ponged <- struct{}{}:
	default:
	}
}

// awaitPongs waits until n PONGs are in, at most pongWait.
func (s *fakePeer) awaitPongs(n int) {
	timer := time.NewTimer(pongWait)
	defer timer.Stop()
	for s.pongCount() < n {
		select {
		case <-s.ponged:
		case <-timer.C:
			return
		}
	}
}

// send writes b to c with a deadline; the caller holds s.mu.
func send(c net.Conn, b []byte) {
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	c.Write(b)
}

// serveIRC registers a client the way ngircd with RequireAuthPing does
// (PING before 001), refuses the nickname "taken", and relays PRIVMSGs.
func (s *fakePeer) serveIRC(c net.Conn) {
	r := bufio.NewReader(c)
	io.WriteString(c, ":fake NOTICE * :*** Looking up your hostname\r\nPING :reg42\r\n")
	var nick string
	user, ponged, registered := false, false, false
	defer func() {
		s.mu.Lock()
		if m := s.members[nick]; m != nil && m.conn == c {
			delete(s.members, nick)
		}
		s.mu.Unlock()
	}()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		_, cmd, params := ircSplit([]byte(strings.TrimRight(line, "\r\n")))
		switch {
		case cmd == "NICK" && len(params) == 1 && !registered:
			if params[0] == "taken" {
				io.WriteString(c, ":fake 433 * taken :Nickname already in use\r\n")
				continue
			}
			nick = params[0]
		case cmd == "USER":
			user = true
		case cmd == "PONG" && len(params) == 1 && params[0] == "reg42":
			ponged = true
		case cmd == "PONG" && len(params) == 1 && params[0] == "mid":
			s.pong()
		case cmd == "JOIN" && registered && len(params) == 1 && params[0] == "#bench":
			s.mu.Lock()
			s.members[nick] = &fakeMember{conn: c}
			join := []byte(":" + nick + "!" + nick + "@127.0.0.1 JOIN #bench\r\n")
			for _, m := range s.members {
				send(m.conn, join)
			}
			send(c, []byte(":fake 353 "+nick+" = #bench :"+nick+" someone\r\n:fake 366 "+nick+" #bench :End of NAMES list\r\n"))
			s.mu.Unlock()
		case cmd == "PRIVMSG" && len(params) == 2 && params[0] == "#bench":
			s.relay(nick, params[1], []byte(":"+nick+"!~"+nick+"@127.0.0.1 PRIVMSG #bench :"+params[1]+"\r\n"), "PING :mid\r\n")
		case cmd == "QUIT":
			io.WriteString(c, "ERROR :Closing connection\r\n")
			return
		}
		if !registered && nick != "" && user && ponged {
			registered = true
			io.WriteString(c, ":fake 001 "+nick+" :Welcome\r\n:fake 005 "+nick+" CHANTYPES=# :are supported\r\n")
		}
	}
}

// serveNATS speaks enough of the NATS client protocol for loadgen: CONNECT
// (name "taken" is refused, echo honoured), SUB, PUB, PING and PONG.
func (s *fakePeer) serveNATS(c net.Conn) {
	r := bufio.NewReader(c)
	io.WriteString(c, `INFO {"server_id":"fake","version":"2.0.0","proto":1,"max_payload":1048576}`+"\r\n")
	var nick string
	echo := true
	defer func() {
		s.mu.Lock()
		if m := s.members[nick]; m != nil && m.conn == c {
			delete(s.members, nick)
		}
		s.mu.Unlock()
	}()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		op, args, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch op {
		case "CONNECT":
			var opts struct {
				Name string `json:"name"`
				Echo *bool  `json:"echo"`
			}
			if err := json.Unmarshal([]byte(args), &opts); err != nil || opts.Name == "taken" {
				io.WriteString(c, "-ERR 'Authorization Violation'\r\n")
				return
			}
			nick = opts.Name
			if opts.Echo != nil {
				echo = *opts.Echo
			}
		case "SUB":
			f := strings.Fields(args)
			if len(f) != 2 || f[0] != natsSubject+".>" {
				io.WriteString(c, "-ERR 'Invalid Subject'\r\n")
				return
			}
			s.mu.Lock()
			s.members[nick] = &fakeMember{conn: c, sid: f[1], echo: echo}
			s.mu.Unlock()
		case "PING":
			io.WriteString(c, "PONG\r\n")
		case "PONG":
			s.pong()
		case "PUB":
			f := strings.Fields(args)
			n, err := strconv.Atoi(f[len(f)-1])
			if len(f) != 2 || err != nil {
				return
			}
			body := make([]byte, n+2)
			if _, err := io.ReadFull(r, body); err != nil {
				return
			}
			text := string(body[:n])
			s.relayNATS(nick, f[0], text)
		}
	}
}

// relayNATS relays a PUB to every subscription, in the subscriber's sid.
func (s *fakePeer) relayNATS(nick, subject, text string) {
	pinged := 0
	defer func() { s.awaitPongs(pinged) }() // after s.mu is unlocked
	s.mu.Lock()
	defer s.mu.Unlock()
	for other, m := range s.members {
		if other == nick && !m.echo {
			continue
		}
		out := applyMutation(s.mutation, &s.held, text, []byte(fmt.Sprintf("MSG %s %s %d\r\n%s\r\n", subject, m.sid, len(text), text)))
		if out != nil {
			send(m.conn, out)
		}
	}
	if _, p, err := parsePayload([]byte(text)); err == nil && p.Sender == 0 && p.Seq == 10 {
		for other, m := range s.members {
			if other != nick {
				send(m.conn, []byte("PING\r\n"))
				pinged++
			}
		}
	}
}

// relay sends out (the wire form of text by nick) to every other member,
// applying the mutation, and after sender 0's line 10 also ping.
func (s *fakePeer) relay(nick, text string, out []byte, ping string) {
	pinged := 0
	defer func() { s.awaitPongs(pinged) }() // after s.mu is unlocked
	s.mu.Lock()
	defer s.mu.Unlock()
	if out = applyMutation(s.mutation, &s.held, text, out); out == nil {
		return
	}
	_, p, err := parsePayload([]byte(text))
	ping10 := err == nil && p.Sender == 0 && p.Seq == 10
	if ping10 {
		out = append(out, ping...)
	}
	for other, m := range s.members {
		if other != nick {
			send(m.conn, out)
			if ping10 {
				pinged++
			}
		}
	}
}

func TestRegisterPeers(t *testing.T) {
	tests := []struct {
		proto   string
		nick    string
		wantErr error
	}{
		{protoIRC, "alice", nil},
		{protoIRC, "taken", errNickRejected},
		{protoNATS, "alice", nil},
		{protoNATS, "taken", errRegisterRefused},
	}
	for _, tc := range tests {
		t.Run(tc.proto+"/"+tc.nick, func(t *testing.T) {
			s := startFakePeer(t, tc.proto, relayFaithfully)
			cfg := config{proto: tc.proto, ircChannel: "#bench"}
			p, err := newProtocol(cfg)
			if err != nil {
				t.Fatal(err)
			}
			lc, err := dial(context.Background(), dialOptions{addr: s.addr(), deadline: time.Now().Add(5 * time.Second), readBuf: 64})
			if err != nil {
				t.Fatal(err)
			}
			defer lc.conn.Close()
			if err := p.register(lc, tc.nick); !errors.Is(err, tc.wantErr) {
				t.Fatalf("register(%q) = %v, want %v", tc.nick, err, tc.wantErr)
			}
		})
	}
}

func TestRunLoadPeers(t *testing.T) {
	tests := []struct {
		name     string
		mutation fakeMutation
		wantPass bool
		wantLost int64
		wantDups int64
	}{
		{"faithful", relayFaithfully, true, 0, 0},
		{"drop", dropOne, false, 3, 0}, // 3 receivers besides sender 0
		{"duplicate", duplicateOne, false, 0, 3},
	}
	for _, proto := range []string{protoIRC, protoNATS} {
		for _, recv := range []string{recvPoll, recvGoroutine} {
			for _, tc := range tests {
				t.Run(proto+"/"+recv+"/"+tc.name, func(t *testing.T) {
					if recv == recvPoll && runtime.GOOS != "linux" {
						t.Skip("-recv poll needs Linux")
					}
					s := startFakePeer(t, proto, tc.mutation)
					cfg, res, out := runSmallLoad(t, s.addr(), proto, recv, tc.wantLost > 0)
					if res.pass != tc.wantPass || res.lost != tc.wantLost || res.dups != tc.wantDups || res.reordered != 0 || res.bogus != 0 {
						t.Fatalf("pass=%v lost=%d dup=%d reordered=%d bogus=%d; want %v %d %d 0 0\n%s", res.pass, res.lost,
							res.dups, res.reordered, res.bogus, tc.wantPass, tc.wantLost, tc.wantDups, out.String())
					}
					if res.named != 5 || res.deliveries != 3*40-tc.wantLost {
						t.Fatalf("named=%d deliveries=%d\n%s", res.named, res.deliveries, out.String())
					}
					if !strings.Contains(out.String(), "RESULT run="+cfg.run+" mode=load proto="+proto+" ") {
						t.Fatalf("no RESULT line with proto=%s:\n%s", proto, out.String())
					}
					// Every member but sender 0 got the mid-run PING (3
					// checked clients and the idle one) and answers it.
					const wantPongs = 4
					tick := time.NewTicker(10 * time.Millisecond)
					defer tick.Stop()
					for i := 0; i < 500 && s.pongCount() < wantPongs; i++ { // at most about 5 s
						<-tick.C
					}
					if got := s.pongCount(); got != wantPongs {
						t.Fatalf("server got %d PONGs to its mid-run PING, want %d", got, wantPongs)
					}
				})
			}
		}
	}
}
