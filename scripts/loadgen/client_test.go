package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestStripTelnet(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "hello", "hello"},
		{"escaped 0xff", "a\xff\xffb", "a\xffb"},
		{"will echo", "\xff\xfb\x01hi", "hi"},
		{"do and dont", "a\xff\xfd\x03b\xff\xfe\x1fc", "abc"},
		{"two-byte command", "a\xff\xf1b", "ab"},
		{"subnegotiation", "x\xff\xfa\x18\x00xterm\xff\xf0y", "xy"},
		{"cut command at end", "ab\xff", "ab"},
		{"cut option at end", "ab\xff\xfb", "ab"},
		{"unterminated subnegotiation", "ab\xff\xfa\x18zz", "ab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(stripTelnet([]byte(tc.in))); got != tc.want {
				t.Fatalf("stripTelnet(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		addr        string
		allowRemote bool
		wantErr     bool
	}{
		{"127.0.0.1:2323", false, false},
		{"127.0.0.2:2323", false, false},
		{"[::1]:2323", false, false},
		{"localhost:2323", false, false},
		{"10.0.0.1:2323", false, true},
		{"example.org:2323", false, true},
		{"10.0.0.1:2323", true, false},
		{"no-port", false, true},
	}
	for _, tc := range tests {
		err := checkLoopback(tc.addr, tc.allowRemote)
		if (err != nil) != tc.wantErr {
			t.Errorf("checkLoopback(%q, %v) = %v, want error %v", tc.addr, tc.allowRemote, err, tc.wantErr)
		}
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(config) bool
	}{
		{"defaults", nil, false, func(c config) bool { return c.clients == 100 && c.senders == 10 && validRunID(c.run) }},
		{"senders above clients", []string{"-clients", "2", "-senders", "3"}, true, nil},
		{"remote refused", []string{"-addr", "192.0.2.1:2323"}, true, nil},
		{"bad run id", []string{"-run", "AB"}, true, nil},
		{"churn defaults", []string{"-churn", "10s", "-clients", "4", "-senders", "4"}, false,
			func(c config) bool { return c.timeout == 70*time.Second && c.rate == 10 && c.lines == 101 }},
		{"churn longer than timeout", []string{"-churn", "10s", "-timeout", "5s"}, true, nil},
		{"proto irc", []string{"-proto", "irc"}, false, func(c config) bool { return c.proto == protoIRC && c.ircChannel == "#bench" }},
		{"proto nats", []string{"-proto", "nats"}, false, func(c config) bool { return c.proto == protoNATS }},
		{"unknown proto", []string{"-proto", "xmpp"}, true, nil},
		{"churn needs telchat", []string{"-proto", "irc", "-churn", "10s"}, true, nil},
		{"bad irc channel", []string{"-proto", "irc", "-irc-channel", "bench"}, true, nil},
		{"irc size too big", []string{"-proto", "irc", "-size", "500"}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.args, io.Discard)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseConfig(%q) error = %v, want error %v", tc.args, err, tc.wantErr)
			}
			if err == nil && tc.check != nil && !tc.check(c) {
				t.Fatalf("parseConfig(%q) = %+v", tc.args, c)
			}
		})
	}
}

// fakeMutation changes what the fake server relays, to prove the checks fail.
type fakeMutation int

const (
	relayFaithfully fakeMutation = iota
	dropOne                      // drops sender 0's line 5 to every receiver
	duplicateOne                 // sends sender 0's line 5 twice
	swapTwo                      // sends sender 0's line 6 before line 5
)

// fakeServer is a minimal telchat-like server: greeting with Telnet
// negotiation, nickname prompt (refusing "taken"), one room, no echo.
// With several listeners it plays a cluster: one room and one nickname
// space over all of them.
type fakeServer struct {
	lns      []net.Listener
	mutation fakeMutation
	mu       sync.Mutex
	members  map[string]net.Conn
	namedOn  []int  // nicknames accepted, by listener
	held     []byte // line held back by swapTwo
	wg       sync.WaitGroup
}

func startFakeServer(t *testing.T, m fakeMutation) *fakeServer {
	t.Helper()
	return startFakeCluster(t, m, 1)
}

// startFakeCluster starts a fake server listening on n ports.
func startFakeCluster(t *testing.T, m fakeMutation, n int) *fakeServer {
	t.Helper()
	s := &fakeServer{mutation: m, members: map[string]net.Conn{}, namedOn: make([]int, n)}
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s.lns = append(s.lns, ln)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					s.serve(c, i)
				}()
			}
		}()
	}
	t.Cleanup(func() {
		for _, ln := range s.lns {
			ln.Close()
		}
		s.mu.Lock()
		for _, c := range s.members {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// addr is the -addr of the fake: its listeners, comma-separated.
func (s *fakeServer) addr() string {
	var a []string
	for _, ln := range s.lns {
		a = append(a, ln.Addr().String())
	}
	return strings.Join(a, ",")
}

// named returns how many nicknames each listener accepted.
func (s *fakeServer) named() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.namedOn...)
}

// serve talks to one client that came in on listener ln.
func (s *fakeServer) serve(c net.Conn, ln int) {
	defer c.Close()
	r := bufio.NewReader(c)
	io.WriteString(c, "Welcome to fake\r\n\xff\xfb\x01\xff\xfb\x03Choose a nickname: ")
	var nick string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		nick = strings.TrimRight(line, "\r\n")
		s.mu.Lock()
		_, inUse := s.members[nick]
		if nick != "taken" && nick != "" && !inUse {
			s.members[nick] = c
			s.namedOn[ln]++
			io.WriteString(c, "*** Welcome, "+nick+"!\r\n[history] <old> #ab:0:0:1:\r\n")
			s.mu.Unlock()
			break
		}
		s.mu.Unlock()
		io.WriteString(c, "! That nickname is taken.\r\nChoose a nickname: ")
	}
	defer func() {
		s.mu.Lock()
		delete(s.members, nick)
		s.mu.Unlock()
	}()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		text := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(text, "/quit") {
			io.WriteString(c, "*** Goodbye\r\n")
			return
		}
		s.relay(nick, text)
	}
}

// relay sends "<nick> text" to every other member, applying the mutation.
func (s *fakeServer) relay(nick, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := applyMutation(s.mutation, &s.held, text, []byte("<"+nick+"> "+text+"\r\n"))
	if out == nil {
		return
	}
	for other, c := range s.members {
		if other != nick {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			c.Write(out)
		}
	}
}

// applyMutation returns what a fake server relays for the load line text,
// whose wire form for every receiver is out: nil to relay nothing now.
// held keeps the line that swapTwo holds back.
func applyMutation(m fakeMutation, held *[]byte, text string, out []byte) []byte {
	_, p, err := parsePayload([]byte(text))
	special := err == nil && p.Sender == 0
	switch {
	case special && p.Seq == 5 && m == dropOne:
		return nil
	case special && p.Seq == 5 && m == duplicateOne:
		return append(out, out...)
	case special && p.Seq == 5 && m == swapTwo:
		*held = out
		return nil
	case special && p.Seq == 6 && m == swapTwo:
		return append(out, *held...)
	}
	return out
}

func TestRegister(t *testing.T) {
	s := startFakeServer(t, relayFaithfully)
	tests := []struct {
		nick    string
		wantErr error
	}{
		{"alice", nil},
		{"taken", errNickRejected},
	}
	for _, tc := range tests {
		t.Run(tc.nick, func(t *testing.T) {
			deadline := time.Now().Add(5 * time.Second)
			lc, err := dial(context.Background(), dialOptions{addr: s.addr(), deadline: deadline, readBuf: 64})
			if err != nil {
				t.Fatal(err)
			}
			defer lc.conn.Close()
			err = lc.register(tc.nick)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("register(%q) = %v, want %v", tc.nick, err, tc.wantErr)
			}
		})
	}
}

func TestRunLoadChecks(t *testing.T) {
	tests := []struct {
		name          string
		mutation      fakeMutation
		wantPass      bool
		wantLost      int64
		wantDups      int64
		wantReordered int64
	}{
		{"faithful", relayFaithfully, true, 0, 0, 0},
		{"drop", dropOne, false, 3, 0, 0}, // 3 receivers besides sender 0
		{"duplicate", duplicateOne, false, 0, 3, 0},
		{"swap", swapTwo, false, 0, 0, 3},
	}
	for _, recv := range []string{recvPoll, recvGoroutine} {
		for _, tc := range tests {
			t.Run(recv+"/"+tc.name, func(t *testing.T) {
				if recv == recvPoll && runtime.GOOS != "linux" {
					t.Skip("-recv poll needs Linux")
				}
				s := startFakeServer(t, tc.mutation)
				cfg, res, out := runSmallLoad(t, s.addr(), protoTelchat, recv, tc.wantLost > 0)
				if res.pass != tc.wantPass || res.lost != tc.wantLost || res.dups != tc.wantDups || res.reordered != tc.wantReordered {
					t.Fatalf("pass=%v lost=%d dup=%d reordered=%d; want %v %d %d %d\n%s", res.pass, res.lost, res.dups,
						res.reordered, tc.wantPass, tc.wantLost, tc.wantDups, tc.wantReordered, out.String())
				}
				if res.named != 5 || res.deliveries != 3*40-tc.wantLost {
					t.Fatalf("named=%d deliveries=%d\n%s", res.named, res.deliveries, out.String())
				}
				if !strings.Contains(out.String(), "RESULT run="+cfg.run) {
					t.Fatalf("no RESULT line:\n%s", out.String())
				}
			})
		}
	}
}

// runSmallLoad runs the small load the fake-server tests share (4 checked
// clients, 2 senders x 20 lines, 1 idle client) against addr and returns
// the config, the result and its printed report. When a line is expected
// to be lost the run deadline is short: the readers wait for it until then.
func runSmallLoad(t *testing.T, addr, proto, recv string, expectLoss bool) (config, *result, *strings.Builder) {
	t.Helper()
	timeout := "10s"
	if expectLoss {
		timeout = "1s"
	}
	args := []string{"-proto", proto, "-addr", addr, "-clients", "4", "-senders", "2", "-lines", "20",
		"-size", "40", "-idle", "1", "-timeout", timeout, "-quiet", "-recv", recv}
	cfg, err := parseConfig(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	res, err := runLoad(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	out := &strings.Builder{}
	res.print(out)
	return cfg, res, out
}
