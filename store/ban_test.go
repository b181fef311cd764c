package store

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseMask(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // ignored when wantErr
		bad  bool
	}{
		{name: "nick lower", in: "alice", want: "alice"},
		{name: "nick mixed case", in: "AliCE", want: "alice"},
		{name: "nick non-ASCII", in: "ÄLICE", want: "älice"},
		{name: "nick digits only", in: "1234", want: "1234"},
		{name: "nick with punctuation", in: "[bob]_-", want: "[bob]_-"},
		{name: "nick max length", in: strings.Repeat("a", MaxMaskLen), want: strings.Repeat("a", MaxMaskLen)},
		{name: "IPv4", in: "192.0.2.7", want: "192.0.2.7"},
		{name: "IPv6 upper case", in: "2001:DB8::1", want: "2001:db8::1"},
		{name: "IPv6 long form", in: "2001:0db8:0000:0000:0000:0000:0000:0001", want: "2001:db8::1"},
		{name: "IPv6 loopback", in: "::1", want: "::1"},
		{name: "v4-mapped v6", in: "::ffff:192.0.2.7", want: "192.0.2.7"},
		{name: "v4-mapped v6 hex", in: "::ffff:c000:207", want: "192.0.2.7"},
		{name: "IPv6 zone dropped", in: "fe80::1%eth0", want: "fe80::1"},
		{name: "CIDR v4 canonical", in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{name: "CIDR v4 host bits cleared", in: "10.1.2.3/8", want: "10.0.0.0/8"},
		{name: "CIDR v4 /32", in: "10.1.2.3/32", want: "10.1.2.3/32"},
		{name: "CIDR v4 /0", in: "1.2.3.4/0", want: "0.0.0.0/0"},
		{name: "CIDR v6 host bits cleared", in: "2001:db8:1:2::5/32", want: "2001:db8::/32"},
		{name: "CIDR v4-mapped becomes v4", in: "::ffff:10.1.2.3/104", want: "10.0.0.0/8"},
		{name: "CIDR v4-mapped /128", in: "::ffff:10.1.2.3/128", want: "10.1.2.3/32"},

		{name: "empty", in: "", bad: true},
		{name: "too long", in: strings.Repeat("a", MaxMaskLen+1), bad: true},
		{name: "too long once lower-cased", in: strings.Repeat("Ⱥ", 32), bad: true}, // 2 bytes upper, 3 lower
		{name: "space inside", in: "al ice", bad: true},
		{name: "leading space", in: " alice", bad: true},
		{name: "tab", in: "al\tice", bad: true},
		{name: "NUL", in: "al\x00ice", bad: true},
		{name: "DEL", in: "alice\x7f", bad: true},
		{name: "ESC", in: "\x1b[31malice", bad: true},
		{name: "CRLF", in: "alice\r\n", bad: true},
		{name: "no-break space", in: "al\u00a0ice", bad: true},
		{name: "zero width space", in: "al\u200bice", bad: true},
		{name: "bidi override", in: "\u202ealice", bad: true},
		{name: "invalid UTF-8", in: "al\xffice", bad: true},
		{name: "glob star", in: "*", bad: true},
		{name: "glob in nick", in: "ali?e", bad: true},
		{name: "glob in address", in: "10.0.*", bad: true},
		{name: "IPv4 octet too big", in: "10.0.0.300", bad: true},
		{name: "IPv4 too few octets", in: "10.0.0", bad: true},
		{name: "IPv4 leading zero", in: "010.0.0.1", bad: true},
		{name: "bad IPv6", in: "dead:beef", bad: true},
		{name: "bad CIDR bits", in: "10.0.0.0/33", bad: true},
		{name: "CIDR without bits", in: "10.0.0.0/", bad: true},
		{name: "CIDR with zone", in: "fe80::1%eth0/64", bad: true},
		{name: "slash in nick", in: "a/b", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMask(tt.in)
			if tt.bad {
				if !errors.Is(err, ErrBadMask) {
					t.Fatalf("ParseMask(%q) = %q, %v; want error wrapping ErrBadMask", tt.in, got, err)
				}
				if got != "" {
					t.Errorf("ParseMask(%q) returned %q with its error; want empty", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMask(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseMask(%q) = %q; want %q", tt.in, got, tt.want)
			}
			again, err := ParseMask(got)
			if err != nil || again != got {
				t.Fatalf("ParseMask(%q) (normalized) = %q, %v; want it unchanged", got, again, err)
			}
		})
	}
}

func TestBanExpired(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		expires time.Time
		want    bool
	}{
		{name: "never", expires: time.Time{}, want: false},
		{name: "future", expires: now.Add(time.Nanosecond), want: false},
		{name: "exactly now", expires: now, want: true},
		{name: "past", expires: now.Add(-time.Hour), want: true},
		{name: "same instant other zone", expires: now.In(time.FixedZone("X", 3600)), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Ban{Mask: "x", Expires: tt.expires}).Expired(now); got != tt.want {
				t.Fatalf("Expired = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestBanMatches(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	addr := netip.MustParseAddr
	tests := []struct {
		name    string
		mask    string
		expires time.Time
		nick    string
		addr    netip.Addr
		want    bool
	}{
		{name: "nick exact", mask: "alice", nick: "alice", addr: addr("192.0.2.1"), want: true},
		{name: "nick client upper case", mask: "alice", nick: "ALICE", want: true},
		{name: "nick mask not normalized", mask: "AlIcE", nick: "aLiCe", want: true},
		{name: "nick non-ASCII case", mask: "älice", nick: "ÄLICE", want: true},
		{name: "nick other", mask: "alice", nick: "alicia", want: false},
		{name: "nick prefix only", mask: "alice", nick: "alice2", want: false},
		{name: "nick before login", mask: "alice", nick: "", addr: addr("192.0.2.1"), want: false},
		{name: "nick mask ignores address", mask: "alice", nick: "bob", addr: addr("192.0.2.1"), want: false},
		{name: "nick expired", mask: "alice", expires: now, nick: "alice", want: false},
		{name: "nick not yet expired", mask: "alice", expires: now.Add(time.Second), nick: "alice", want: true},

		{name: "IPv4 equal", mask: "192.0.2.1", addr: addr("192.0.2.1"), want: true},
		{name: "IPv4 equal after login", mask: "192.0.2.1", nick: "bob", addr: addr("192.0.2.1"), want: true},
		{name: "IPv4 other", mask: "192.0.2.1", addr: addr("192.0.2.2"), want: false},
		{name: "IPv4 mask, v4-mapped client", mask: "192.0.2.1", addr: addr("::ffff:192.0.2.1"), want: true},
		{name: "v4-mapped mask, IPv4 client", mask: "::ffff:192.0.2.1", addr: addr("192.0.2.1"), want: true},
		{name: "IPv4 mask, invalid client addr", mask: "192.0.2.1", nick: "192.0.2.1", addr: netip.Addr{}, want: false},
		{name: "IPv4 expired", mask: "192.0.2.1", expires: now.Add(-time.Minute), addr: addr("192.0.2.1"), want: false},
		{name: "IPv6 equal", mask: "2001:db8::1", addr: addr("2001:db8::1"), want: true},
		{name: "IPv6 other", mask: "2001:db8::1", addr: addr("2001:db8::2"), want: false},
		{name: "IPv6 client zone ignored", mask: "fe80::1", addr: addr("fe80::1%eth0"), want: true},
		{name: "IPv6 mask does not match IPv4", mask: "::1", addr: addr("127.0.0.1"), want: false},

		{name: "CIDR v4 inside", mask: "10.0.0.0/8", addr: addr("10.200.3.4"), want: true},
		{name: "CIDR v4 outside", mask: "10.0.0.0/8", addr: addr("11.0.0.1"), want: false},
		{name: "CIDR v4 non-canonical mask", mask: "10.1.2.3/8", addr: addr("10.9.9.9"), want: true},
		{name: "CIDR v4 v4-mapped client", mask: "10.0.0.0/8", addr: addr("::ffff:10.1.1.1"), want: true},
		{name: "CIDR v4-mapped mask, IPv4 client", mask: "::ffff:10.0.0.0/104", addr: addr("10.1.1.1"), want: true},
		{name: "CIDR v6 inside", mask: "2001:db8::/32", addr: addr("2001:db8:ffff::1"), want: true},
		{name: "CIDR v6 outside", mask: "2001:db8::/32", addr: addr("2001:db9::1"), want: false},
		{name: "CIDR v6 zoned client", mask: "fe80::/10", addr: addr("fe80::1%eth0"), want: true},
		{name: "CIDR v4 does not match IPv6", mask: "0.0.0.0/0", addr: addr("2001:db8::1"), want: false},
		{name: "CIDR invalid client addr", mask: "0.0.0.0/0", addr: netip.Addr{}, want: false},
		{name: "CIDR expired", mask: "10.0.0.0/8", expires: now.Add(-time.Nanosecond), addr: addr("10.0.0.1"), want: false},

		{name: "bad mask never matches", mask: "al ice", nick: "al ice", want: false},
		{name: "empty mask never matches", mask: "", nick: "", addr: addr("10.0.0.1"), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Ban{Mask: tt.mask, Created: now.Add(-time.Hour), Expires: tt.expires}
			if got := b.Matches(tt.nick, tt.addr, now); got != tt.want {
				t.Fatalf("Ban{Mask: %q, Expires: %v}.Matches(%q, %v) = %v; want %v",
					tt.mask, tt.expires, tt.nick, tt.addr, got, tt.want)
			}
		})
	}
}

func TestMatchingBan(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	bans := []Ban{
		{Mask: "10.0.0.0/8", Reason: "expired range", Expires: now.Add(-time.Hour)},
		{Mask: "mallory", Reason: "spam"},
		{Mask: "10.0.0.0/8", Reason: "range"},
		{Mask: "10.1.1.1", Reason: "host"},
	}
	tests := []struct {
		name       string
		nick       string
		addr       netip.Addr
		wantReason string // "" means no match
	}{
		{name: "first live match wins", nick: "x", addr: netip.MustParseAddr("10.1.1.1"), wantReason: "range"},
		{name: "nick", nick: "Mallory", addr: netip.MustParseAddr("192.0.2.1"), wantReason: "spam"},
		{name: "none", nick: "alice", addr: netip.MustParseAddr("192.0.2.1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := MatchingBan(bans, tt.nick, tt.addr, now)
			if ok != (tt.wantReason != "") || got.Reason != tt.wantReason {
				t.Fatalf("MatchingBan = %+v, %v; want reason %q", got, ok, tt.wantReason)
			}
		})
	}
}

// FuzzParseMask checks that ParseMask either rejects a mask with ErrBadMask or
// returns a normalized mask within the length limit that it maps to itself
// and that matches the address or nickname it denotes.
func FuzzParseMask(f *testing.F) {
	for _, s := range []string{
		"alice", "AliCE", "ÄLICE", "1234", "192.0.2.7", "2001:DB8::1", "::ffff:192.0.2.7",
		"fe80::1%eth0", "10.1.2.3/8", "::ffff:10.1.2.3/104", "2001:db8:1:2::5/32",
		"", "a b", "10.0.0.300", "dead:beef", "*", "al\xffice", strings.Repeat("Ⱥ", 32),
	} {
		f.Add(s)
	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseMask(s)
		if err != nil {
			if !errors.Is(err, ErrBadMask) {
				t.Fatalf("ParseMask(%q) error %v does not wrap ErrBadMask", s, err)
			}
			return
		}
		if got == "" || len(got) > MaxMaskLen {
			t.Fatalf("ParseMask(%q) = %q: empty or longer than %d bytes", s, got, MaxMaskLen)
		}
		again, err := ParseMask(got)
		if err != nil || again != got {
			t.Fatalf("ParseMask(%q) = %q, but ParseMask(%q) = %q, %v", s, got, got, again, err)
		}
		b := Ban{Mask: got}
		if p, err := netip.ParsePrefix(got); err == nil {
			if !b.Matches("", p.Addr(), now) {
				t.Fatalf("prefix mask %q does not match its own address %v", got, p.Addr())
			}
		} else if a, err := netip.ParseAddr(got); err == nil {
			if !b.Matches("", a, now) {
				t.Fatalf("address mask %q does not match %v", got, a)
			}
		} else if !b.Matches(s, netip.Addr{}, now) {
			t.Fatalf("nick mask %q (from %q) does not match nickname %q", got, s, s)
		}
	})
}

func BenchmarkMatchingBan(b *testing.B) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var bans []Ban
	for i := range 100 {
		switch i % 3 {
		case 0:
			bans = append(bans, Ban{Mask: fmt.Sprintf("nick%d", i)})
		case 1:
			bans = append(bans, Ban{Mask: fmt.Sprintf("192.0.2.%d", i)})
		default:
			bans = append(bans, Ban{Mask: fmt.Sprintf("10.%d.0.0/16", i)})
		}
	}
	addr := netip.MustParseAddr("203.0.113.9")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := MatchingBan(bans, "SomeUser", addr, now); ok {
			b.Fatal("unexpected match")
		}
	}
}
