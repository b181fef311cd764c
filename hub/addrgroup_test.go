package hub_test

import (
	"net/netip"
	"strings"
	"testing"

	"telchat/hub"
	"telchat/internal/servertest"
	"telchat/ipgroup"
)

// joinFrom connects a recording peer from addr and names it.
func joinFrom(t *testing.T, h *hub.Hub, nick, addr string) (*hub.Conn, *recordingPeer) {
	t.Helper()
	p := newRecordingPeer()
	c := hub.NewConn(nick+"-id", "["+addr+"]:1", netip.MustParseAddr(addr), p)
	if err := h.Connect(c); err != nil {
		t.Fatal(err)
	}
	if err := h.Input(c, nick, false); err != nil {
		t.Fatal(err)
	}
	servertest.WaitFor(t, nick+" named", func() bool { return strings.Contains(p.delivered(), "Welcome, "+nick) })
	return c, p
}

// TestOperBackoffIsPerAddressGroup: a failed /oper makes the whole /64 of
// an IPv6 address wait, not only that address (a host can take any address
// of its /64); another /64 is not affected. With -ipv6-prefix 128 each
// address counts on its own.
func TestOperBackoffIsPerAddressGroup(t *testing.T) {
	cases := []struct {
		name      string
		groups    ipgroup.Prefixes
		neighbour string // the answer to the neighbour's /oper
	}{
		{"default /64", ipgroup.Prefixes{}, "! Too many attempts, try again in "},
		{"/128", ipgroup.Prefixes{IPv6: 128}, "! Wrong password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startHub(t, hub.Config{AddrGroups: tc.groups, PasswordCheck: func(p string) bool { return p == "sesame" }})
			a, pa := joinFrom(t, h, "alice", "2001:db8:1:2::1")
			b, pb := joinFrom(t, h, "bob", "2001:db8:1:2:ffff::99") // same /64
			c, pc := joinFrom(t, h, "carol", "2001:db8:1:3::1")     // next /64
			if err := h.Input(a, "/oper guess", false); err != nil {
				t.Fatal(err)
			}
			servertest.WaitFor(t, "alice's answer", func() bool { return strings.Contains(pa.delivered(), "! Wrong password") })
			// The backoff after one failure is 2s: both attempts come well
			// within it.
			if err := h.Input(b, "/oper guess", false); err != nil {
				t.Fatal(err)
			}
			if err := h.Input(c, "/oper guess", false); err != nil {
				t.Fatal(err)
			}
			servertest.WaitFor(t, "bob's answer", func() bool { return strings.Contains(pb.delivered(), tc.neighbour) })
			servertest.WaitFor(t, "carol's answer", func() bool { return strings.Contains(pc.delivered(), "! Wrong password") })
		})
	}
}

func TestAddrGroup(t *testing.T) {
	h := startHub(t, hub.Config{AddrGroups: ipgroup.Prefixes{IPv4: 24}})
	for addr, want := range map[string]string{
		"192.0.2.7":        "192.0.2.0/24",
		"::ffff:192.0.2.7": "192.0.2.0/24",
		"2001:db8::7":      "2001:db8::/64",
	} {
		if got := h.AddrGroup(netip.MustParseAddr(addr)); got != netip.MustParsePrefix(want) {
			t.Errorf("AddrGroup(%s) = %v, want %s", addr, got, want)
		}
	}
}
