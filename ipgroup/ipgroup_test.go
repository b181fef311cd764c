package ipgroup

import (
	"net/netip"
	"testing"
)

func TestOf(t *testing.T) {
	tests := []struct {
		name string
		p    Prefixes
		addr string // "" for the zero Addr
		want string // "" for the zero Prefix
	}{
		{"ipv4 default", Prefixes{}, "192.0.2.7", "192.0.2.7/32"},
		{"ipv4 loopback", Prefixes{}, "127.0.0.1", "127.0.0.1/32"},
		{"ipv4 /24", Prefixes{IPv4: 24}, "192.0.2.7", "192.0.2.0/24"},
		{"ipv4-mapped counts as ipv4", Prefixes{IPv4: 24}, "::ffff:192.0.2.7", "192.0.2.0/24"},
		{"ipv6 default /64", Prefixes{}, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"ipv6 loopback", Prefixes{}, "::1", "::/64"},
		{"ipv6 zone ignored", Prefixes{}, "fe80::1%eth0", "fe80::/64"},
		{"ipv6 /128", Prefixes{IPv6: 128}, "2001:db8::1", "2001:db8::1/128"},
		{"ipv6 /48", Prefixes{IPv6: 48}, "2001:db8:1:2::1", "2001:db8:1::/48"},
		{"ipv6 length clamped", Prefixes{IPv6: 200}, "2001:db8::1", "2001:db8::1/128"},
		{"ipv4 length clamped", Prefixes{IPv4: -3}, "192.0.2.7", "128.0.0.0/1"},
		{"zero addr", Prefixes{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addr netip.Addr
			if tt.addr != "" {
				addr = netip.MustParseAddr(tt.addr)
			}
			var want netip.Prefix
			if tt.want != "" {
				want = netip.MustParsePrefix(tt.want)
			}
			if got := tt.p.Of(addr); got != want {
				t.Errorf("%+v.Of(%v) = %v, want %v", tt.p, addr, got, want)
			}
		})
	}
}

func TestOfGroupsAndSeparates(t *testing.T) {
	p := Prefixes{}
	same := [][2]string{
		{"2001:db8:0:1::1", "2001:db8:0:1:ffff:ffff:ffff:ffff"}, // one /64
		{"::1", "::2"},
		{"192.0.2.7", "::ffff:192.0.2.7"},
	}
	for _, pair := range same {
		a, b := netip.MustParseAddr(pair[0]), netip.MustParseAddr(pair[1])
		if p.Of(a) != p.Of(b) {
			t.Errorf("%v and %v are in different groups: %v, %v", a, b, p.Of(a), p.Of(b))
		}
	}
	apart := [][2]string{
		{"2001:db8:0:1::1", "2001:db8:0:2::1"}, // neighbouring /64s
		{"192.0.2.7", "192.0.2.8"},
		{"::ffff:192.0.2.7", "::192.0.2.7"}, // mapped vs IPv4-compatible
		{"0.0.0.1", "::1"},
	}
	for _, pair := range apart {
		a, b := netip.MustParseAddr(pair[0]), netip.MustParseAddr(pair[1])
		if p.Of(a) == p.Of(b) {
			t.Errorf("%v and %v share group %v", a, b, p.Of(a))
		}
	}
}

func TestCheck(t *testing.T) {
	for _, p := range []Prefixes{{}, {IPv4: 1, IPv6: 1}, {IPv4: 32, IPv6: 128}, {IPv4: 24, IPv6: 48}} {
		if err := p.Check(); err != nil {
			t.Errorf("%+v.Check() = %v", p, err)
		}
	}
	for _, p := range []Prefixes{{IPv4: 33}, {IPv4: -1}, {IPv6: 129}, {IPv6: -1}} {
		if err := p.Check(); err == nil {
			t.Errorf("%+v.Check() = nil, want an error", p)
		}
	}
}
