package main

import (
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSplitAddrs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"127.0.0.1:2323", []string{"127.0.0.1:2323"}, false},
		{"127.0.0.1:1,127.0.0.1:2, 127.0.0.1:3", []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}, false},
		{"127.0.0.1:1,", nil, true},
		{",127.0.0.1:1", nil, true},
		{"", nil, true},
		{"127.0.0.1:1,127.0.0.1:1", nil, true},
	}
	for _, tc := range tests {
		got, err := splitAddrs(tc.in)
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("splitAddrs(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestPidList(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{"0", nil, false},
		{"", nil, false},
		{"42", []int{42}, false},
		{"1,2,3", []int{1, 2, 3}, false},
		{"1,x", nil, true},
		{"1,-2", nil, true},
		{"1,,2", nil, true},
	}
	for _, tc := range tests {
		var p pidList
		err := p.Set(tc.in)
		if (err != nil) != tc.wantErr || !tc.wantErr && !slices.Equal(p, tc.want) {
			t.Errorf("Set(%q) = %v, %v; want %v, error %v", tc.in, p, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseConfigSpread(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(config) bool
	}{
		{"one server", nil, false, func(c config) bool { return slices.Equal(c.addrs, []string{"127.0.0.1:2323"}) }},
		{"three servers", []string{"-addr", "127.0.0.1:1,127.0.0.1:2,[::1]:3"}, false, func(c config) bool {
			return len(c.addrs) == 3 && c.addrOf(0) == "127.0.0.1:1" && c.addrOf(4) == "127.0.0.1:2" && c.addrOf(5) == "[::1]:3"
		}},
		{"remote in the list", []string{"-addr", "127.0.0.1:1,192.0.2.1:2"}, true, nil},
		{"empty entry", []string{"-addr", "127.0.0.1:1,,127.0.0.1:2"}, true, nil},
		{"pids", []string{"-pid", "10,11,12"}, false, func(c config) bool { return slices.Equal(c.pids, pidList{10, 11, 12}) }},
		{"bad pid", []string{"-pid", "10,eleven"}, true, nil},
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

// TestRunLoadSpread runs a small load over a fake three-server cluster:
// clients are spread round-robin, every line is checked on every server,
// the latency is split into same-server and cross-server lines, and a line
// lost everywhere is counted on each server.
func TestRunLoadSpread(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("-recv poll needs Linux")
	}
	tests := []struct {
		name     string
		mutation fakeMutation
		wantLost []int64 // by server
	}{
		{"faithful", relayFaithfully, []int64{0, 0, 0}},
		// Sender 0 (server 1) loses line 5 at receivers 1..5: 3 on
		// server 1, 1 and 4 on server 2, 2 and 5 on server 3.
		{"drop", dropOne, []int64{1, 2, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startFakeCluster(t, tc.mutation, 3)
			timeout := "10s"
			if tc.mutation == dropOne {
				timeout = "1s"
			}
			cfg, err := parseConfig([]string{"-addr", s.addr(), "-clients", "6", "-senders", "3", "-lines", "20",
				"-size", "40", "-idle", "1", "-timeout", timeout, "-quiet"}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			res, err := runLoad(cfg, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			out := &strings.Builder{}
			res.print(out)
			if got := s.named(); !slices.Equal(got, []int{3, 2, 2}) { // 6 checked + 1 idle, round-robin
				t.Errorf("named per server %v, want [3 2 2]\n%s", got, out)
			}
			wantPass := tc.mutation == relayFaithfully
			if res.pass != wantPass {
				t.Fatalf("pass = %v, want %v\n%s", res.pass, wantPass, out)
			}
			if res.sent() != 60 {
				t.Errorf("sent %d, want 60", res.sent())
			}
			var lost []int64
			var deliveries int64
			for i, ps := range res.perServer {
				lost = append(lost, ps.lost)
				deliveries += ps.deliveries
				if ps.clients != 2 || ps.sentHere != 20 || ps.expected != 2*60-20 {
					t.Errorf("server %d: %+v, want 2 clients, 20 lines sent here, 100 expected", i, ps)
				}
			}
			if !slices.Equal(lost, tc.wantLost) || deliveries != res.deliveries {
				t.Errorf("lost per server %v (want %v), deliveries %d (total %d)\n%s", lost, tc.wantLost, deliveries, res.deliveries, out)
			}
			// Each receiver gets 20 lines from its own server's sender
			// unless it is that sender, 40 from the other two.
			same, cross := res.histSame.count(), res.histCross.count()
			if same+cross != uint64(res.deliveries) || cross != uint64(6*40-tc.wantLost[1]-tc.wantLost[2]) {
				t.Errorf("same %d + cross %d lines, want %d delivered of which %d crossed\n%s", same, cross, res.deliveries, 6*40, out)
			}
			for _, want := range []string{"servers=3 ", "sent=60 ", "cross_p99_ms=", "server 3:   " + cfg.addrs[2], "latency cross server: "} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestProbeEveryServer: after churn, the probe gets a client named on
// every server of the list.
func TestProbeEveryServer(t *testing.T) {
	s := startFakeCluster(t, relayFaithfully, 3)
	cfg, err := parseConfig([]string{"-addr", s.addr(), "-quiet"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	lr := &loadRun{cfg: cfg, deadline: time.Now().Add(10 * time.Second)}
	c := newChurnRun(lr, time.Now())
	if err := c.probe(); err != nil {
		t.Fatal(err)
	}
	if got := s.named(); !slices.Equal(got, []int{1, 1, 1}) {
		t.Errorf("named per server %v, want one probe on each", got)
	}
}
