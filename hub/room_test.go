package hub

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"telchat/message"
	"telchat/render"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHistoryRing(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		said    []string // "from:text"
		ignores []string
		want    string // "" means no block
	}{
		{"empty", 3, nil, nil, ""},
		{"disabled", 0, []string{"a:x"}, nil, ""},
		{"negative", -1, []string{"a:x"}, nil, ""},
		{"one", 3, []string{"a:x"}, nil, "*** Last 1 message in #Den:\r\n[history] x\r\n*** End of history\r\n"},
		{"wraps", 2, []string{"a:1", "b:2", "a:3", "b:4", "a:5"}, nil,
			"*** Last 2 messages in #Den:\r\n[history] 4\r\n[history] 5\r\n*** End of history\r\n"},
		{"ignored left out", 3, []string{"a:1", "b:2", "a:3"}, []string{"a"},
			"*** Last 1 message in #Den:\r\n[history] 2\r\n*** End of history\r\n"},
		{"all ignored", 3, []string{"a:1", "a:2"}, []string{"a"}, ""},
		{"published lines are nobody's", 3, []string{":1", "a:2"}, []string{"a", ""},
			"*** Last 1 message in #Den:\r\n[history] 1\r\n*** End of history\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Hub{}
			r := h.newRoom("Den")
			if r.key != "den" {
				t.Fatalf("key %q", r.key)
			}
			for _, s := range tt.said {
				from, text, _ := strings.Cut(s, ":")
				m := r.record(from, tt.size)
				m.Kind, m.Text = message.Reply, text
			}
			var ignores map[string]struct{}
			if tt.ignores != nil {
				ignores = map[string]struct{}{}
				for _, k := range tt.ignores {
					ignores[k] = struct{}{}
				}
			}
			got := ""
			if m := r.historyMessage(ignores); m != nil {
				got = string(render.Bytes(m, render.Plain))
			}
			if got != tt.want {
				t.Errorf("history %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHistoryGrowsWithWhatIsSaid: a room's history holds room for what was
// said (a new room for nothing), never for more than its size.
func TestHistoryGrowsWithWhatIsSaid(t *testing.T) {
	const size = 50
	r := (&Hub{}).newRoom("x")
	if cap(r.history) != 0 {
		t.Fatalf("a new room has room for %d history entries", cap(r.history))
	}
	for i := 1; i <= 3*size; i++ {
		r.record("", size).Text = "m"
		if n := min(i, size); cap(r.history) > max(2*n, 4) || cap(r.history) > size {
			t.Fatalf("after %d lines the history has room for %d (size %d)", i, cap(r.history), size)
		}
	}
}

func TestRoomMembers(t *testing.T) {
	r := (&Hub{}).newRoom("x")
	cs := []*Conn{{nick: "a"}, {nick: "b"}, {nick: "c"}}
	for _, c := range cs {
		r.add(c)
	}
	r.remove(cs[0])
	r.remove(cs[0])   // twice: no effect
	r.remove(&Conn{}) // never a member
	if len(r.members) != 2 {
		t.Fatalf("%d members", len(r.members))
	}
	for i, m := range r.members {
		if m.roomIndex != i {
			t.Fatalf("member %s has index %d at %d", m.nick, m.roomIndex, i)
		}
	}
	r.remove(cs[2])
	r.remove(cs[1])
	if len(r.members) != 0 {
		t.Fatalf("%d members", len(r.members))
	}
}

func TestLowerASCII(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "abc", "AbC-_9": "abc-_9", "ÀB": "Àb"} {
		if got := lowerASCII(in); got != want {
			t.Errorf("lowerASCII(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOperBackoff(t *testing.T) {
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute, time.Minute}
	for i, w := range want {
		if got := operBackoff(i + 1); got != w {
			t.Errorf("operBackoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestOperLimiterForgetsAndPrunes(t *testing.T) {
	var l operLimiter
	now := time.Now()
	addr := netip.MustParsePrefix("192.0.2.1/32")
	a, failing := l.attempts(addr, now)
	if failing {
		t.Fatal("a new address counts as failing")
	}
	a.fails, a.next = 3, now.Add(time.Minute)
	if got, failing := l.attempts(addr, now.Add(time.Second)); got.fails != 3 || !failing {
		t.Fatalf("failures forgotten too soon: %d", got.fails)
	}
	if got, failing := l.attempts(addr, now.Add(time.Minute+operForget+time.Second)); got.fails != 0 || failing {
		t.Fatalf("failures kept after %v: %d", operForget, got.fails)
	}
}

// TestOperLimiterFullTable: a full table never forgets an address that
// failed recently (that would reset its backoff) even once its wait is
// over; a new address then counts as failing, unrecorded, until forgotten
// records make room.
func TestOperLimiterFullTable(t *testing.T) {
	l := operLimiter{maxAddrs: 4}
	now := time.Now()
	addrs := []netip.Prefix{
		netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("192.0.2.2/32"),
		netip.MustParsePrefix("192.0.2.3/32"), netip.MustParsePrefix("2001:db8::/64"),
	}
	for i, addr := range addrs {
		a, _ := l.attempts(addr, now)
		a.fails, a.next = i+1, now.Add(operBackoff(i+1))
	}
	later := now.Add(operMaxBackoff + time.Second) // every wait is over
	newcomer := netip.MustParsePrefix("198.51.100.1/32")
	if a, failing := l.attempts(newcomer, later); a != nil || !failing {
		t.Fatalf("full table: newcomer got %+v, failing %v; want unrecorded and failing", a, failing)
	}
	for i, addr := range addrs {
		if a, ok := l.byAddr[addr]; !ok || a.fails != i+1 {
			t.Fatalf("%v: record %+v after the table filled; want its %d failures kept", addr, a, i+1)
		}
	}
	// Once the failures are forgotten, the sweep makes room.
	forgotten := now.Add(operMaxBackoff + operForget + time.Second)
	if a, failing := l.attempts(newcomer, forgotten); a == nil || failing {
		t.Fatalf("after %v the newcomer got %+v, failing %v; want a fresh record", operForget, a, failing)
	}
	if len(l.byAddr) > 4 {
		t.Fatalf("table grew to %d", len(l.byAddr))
	}
}
