package main

import (
	"bufio"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMentionedBy(t *testing.T) {
	tests := []struct {
		line     string
		nick     string
		wantFrom string
		wantOK   bool
	}{
		{"<zed> hi ada", "ada", "zed", true},
		{"<zed> ADA are you there?", "ada", "zed", true},
		{"<zed> hello everyone", "ada", "", false},
		{"<ada> talking about ada", "ada", "", false}, // itself
		{"<Ada> talking about ada", "ada", "", false}, // itself, other case
		{"*** ada joined #lobby", "ada", "", false},
		{"[history] <zed> hi ada", "ada", "", false},
		{"<> hi ada", "ada", "", false},
		{"<zed>hi ada", "ada", "", false},
	}
	for _, tc := range tests {
		from, ok := mentionedBy(tc.line, tc.nick)
		if from != tc.wantFrom || ok != tc.wantOK {
			t.Errorf("mentionedBy(%q, %q) = %q, %v; want %q, %v", tc.line, tc.nick, from, ok, tc.wantFrom, tc.wantOK)
		}
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
	}{
		{nil, false},
		{[]string{"-nick", "x", "-interval", "1s", "-count", "3", "-duration", "10s"}, false},
		{[]string{"-duration", "0s"}, true},
		{[]string{"-interval", "-1s"}, true},
		{[]string{"-nick", ""}, true},
		{[]string{"extra"}, true},
	}
	for _, tc := range tests {
		if _, err := parseConfig(tc.args, io.Discard); (err != nil) != tc.wantErr {
			t.Errorf("parseConfig(%q) = %v, want error %v", tc.args, err, tc.wantErr)
		}
	}
}

// TestSession runs the bot against a scripted server: the first nickname is
// refused, a mention must be answered, then the bot says -count lines and quits.
func TestSession(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []string, 1)
	go func() {
		var lines []string
		defer func() { got <- lines }()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		read := func() (string, bool) {
			s, err := r.ReadString('\n')
			if err != nil {
				return "", false
			}
			s = strings.TrimRight(s, "\r\n")
			lines = append(lines, s)
			return s, true
		}
		io.WriteString(c, "Welcome\r\n\xff\xfb\x01Choose a nickname: ")
		if _, ok := read(); !ok {
			return
		}
		io.WriteString(c, "! That nickname is taken.\r\nChoose a nickname: ")
		nick, ok := read()
		if !ok {
			return
		}
		io.WriteString(c, "*** Welcome, "+nick+"!\r\n[history] <old> hi "+nick+"\r\n<zed> hey "+nick+", a 0xff: \xff\xff\r\n")
		for {
			s, ok := read()
			if !ok || strings.HasPrefix(s, "/quit") {
				io.WriteString(c, "*** Goodbye\r\n")
				return
			}
		}
	}()
	var out strings.Builder
	code := run([]string{"-addr", ln.Addr().String(), "-nick", "robot", "-interval", "50ms", "-count", "2", "-duration", "5s"}, &out, io.Discard)
	if code != 0 {
		t.Fatalf("exit status %d, output:\n%s", code, out.String())
	}
	lines := <-got
	if len(lines) < 5 || lines[0] != "robot" || lines[1] != "robot1" {
		t.Fatalf("server got %q", lines)
	}
	if !strings.HasPrefix(lines[len(lines)-1], "/quit") {
		t.Fatalf("last line %q is not /quit; all: %q", lines[len(lines)-1], lines)
	}
	chat := lines[2 : len(lines)-1]
	replied, said := 0, 0
	for _, l := range chat {
		switch {
		case strings.HasPrefix(l, "zed: ") && slices.Contains(replies[:], strings.TrimPrefix(l, "zed: ")):
			replied++
		case slices.Contains(sayings[:], l):
			said++
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	if replied != 1 || said != 2 {
		t.Fatalf("replied %d times and said %d lines, want 1 and 2: %q", replied, said, chat)
	}
}
