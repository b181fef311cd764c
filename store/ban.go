package store

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxMaskLen is the longest ban mask accepted, in bytes, before and after
// normalization.
const MaxMaskLen = 64

// ErrBadMask is wrapped by every error that rejects a ban mask.
var ErrBadMask = errors.New("bad ban mask")

// Ban refuses matching clients at connect and kicks matching ones.
type Ban struct {
	// Mask is a nickname (compared case-insensitively), an IP address (v4
	// or v6), or a CIDR prefix; see [ParseMask].
	Mask string `json:"mask"`
	// Reason is shown to the banned client and to operators.
	Reason string `json:"reason,omitempty"`
	// By names the operator who set the ban.
	By string `json:"by,omitempty"`
	// Created is when the ban was set.
	Created time.Time `json:"created"`
	// Expires is when the ban stops applying; the zero time means never.
	Expires time.Time `json:"expires,omitzero"`
}

// maskKind says how a mask is matched.
type maskKind int

const (
	maskNick maskKind = iota + 1
	maskAddr
	maskPrefix
)

// parsedMask is a validated, normalized ban mask.
type parsedMask struct {
	kind   maskKind
	nick   string // maskNick: lower-cased nickname
	addr   netip.Addr
	prefix netip.Prefix
}

// String returns the normalized text form of the mask.
func (m parsedMask) String() string {
	switch m.kind {
	case maskAddr:
		return m.addr.String()
	case maskPrefix:
		return m.prefix.String()
	default:
		return m.nick
	}
}

// ParseMask normalizes a ban mask and returns its canonical text:
//
//   - an IP address becomes its netip form, with IPv4-mapped IPv6 addresses
//     unmapped ("::ffff:10.0.0.1" gives "10.0.0.1") and any IPv6 zone dropped;
//   - a CIDR prefix becomes its masked netip form ("10.1.2.3/8" gives
//     "10.0.0.0/8"); an IPv4-mapped prefix of /96 or longer becomes the
//     equivalent IPv4 prefix;
//   - anything else is a nickname and is lower-cased.
//
// The error wraps [ErrBadMask] for an empty mask, one longer than
// [MaxMaskLen] bytes, invalid UTF-8, spaces or non-printable characters, the
// wildcards '*' and '?' (masks are exact, not globs), and text that looks like
// an address but is not one: anything containing ':' or '/', or made only of
// digits and dots with at least one dot (such as "10.0.0.300").
func ParseMask(s string) (string, error) {
	m, err := parseMask(s)
	if err != nil {
		return "", err
	}
	return m.String(), nil
}

func parseMask(s string) (parsedMask, error) {
	if s == "" {
		return parsedMask{}, fmt.Errorf("%w: empty", ErrBadMask)
	}
	if len(s) > MaxMaskLen {
		return parsedMask{}, fmt.Errorf("%w: %d bytes, longer than %d", ErrBadMask, len(s), MaxMaskLen)
	}
	if !utf8.ValidString(s) {
		return parsedMask{}, fmt.Errorf("%w: %q is not valid UTF-8", ErrBadMask, s)
	}
	for _, r := range s {
		switch {
		case r == ' ' || !unicode.IsPrint(r):
			return parsedMask{}, fmt.Errorf("%w: %q contains space or non-printable character %U", ErrBadMask, s, r)
		case r == '*' || r == '?':
			return parsedMask{}, fmt.Errorf("%w: %q contains wildcard %q; masks are a nickname, an IP address or a CIDR prefix", ErrBadMask, s, r)
		}
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return parsedMask{}, fmt.Errorf("%w: %q is not a CIDR prefix: %v", ErrBadMask, s, err)
		}
		return parsedMask{kind: maskPrefix, prefix: normalizePrefix(p)}, nil
	}
	// Every IPv6 address contains ':' and every IPv4 one is a dotted number;
	// testing first keeps nickname masks from paying for a failed parse.
	if strings.Contains(s, ":") || isDottedNumber(s) {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return parsedMask{}, fmt.Errorf("%w: %q is not an IP address: %v", ErrBadMask, s, err)
		}
		return parsedMask{kind: maskAddr, addr: normalizeAddr(a)}, nil
	}
	nick := foldNick(s)
	if len(nick) > MaxMaskLen {
		return parsedMask{}, fmt.Errorf("%w: %q is %d bytes once lower-cased, longer than %d", ErrBadMask, s, len(nick), MaxMaskLen)
	}
	return parsedMask{kind: maskNick, nick: nick}, nil
}

// normalizeAddr unmaps IPv4-mapped IPv6 addresses and drops any zone, so that
// a client's address compares equal to a mask however it was written.
func normalizeAddr(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// normalizePrefix turns an IPv4-mapped prefix of /96 or longer into the
// IPv4 prefix it covers and clears the host bits.
func normalizePrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// isDottedNumber reports whether s is made only of ASCII digits and dots and
// contains at least one dot: a failed attempt at an IPv4 address.
func isDottedNumber(s string) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			dot = true
		case c < '0' || c > '9':
			return false
		}
	}
	return dot
}

// foldNick returns the form in which nicknames are compared.
func foldNick(s string) string {
	return strings.ToLower(s)
}

// NickMask returns the nickname of a nickname ban, in the lower-case form
// Matches compares, and false for an address or prefix ban (or a mask
// ParseMask rejects).
func (b Ban) NickMask() (string, bool) {
	m, err := parseMask(b.Mask)
	if err != nil || m.kind != maskNick {
		return "", false
	}
	return m.nick, true
}

// Expired reports whether the ban has an expiry time and now is at or after it.
func (b Ban) Expired(now time.Time) bool {
	return !b.Expires.IsZero() && !now.Before(b.Expires)
}

// Matches reports whether the ban applies to a client with this nickname
// (may be empty before login; an empty nickname matches no nickname mask) and
// address at time now. Expired bans never match, nor do masks that
// [ParseMask] rejects. IPv4-mapped client addresses are unmapped and zones
// ignored before comparing; an invalid addr matches no address mask.
func (b Ban) Matches(nick string, addr netip.Addr, now time.Time) bool {
	if b.Expired(now) {
		return false
	}
	m, err := parseMask(b.Mask)
	if err != nil {
		return false
	}
	return m.matches(nick, addr)
}

func (m parsedMask) matches(nick string, addr netip.Addr) bool {
	switch m.kind {
	case maskNick:
		return nick != "" && sameNick(nick, m.nick)
	case maskAddr:
		return addr.IsValid() && normalizeAddr(addr) == m.addr
	case maskPrefix:
		return addr.IsValid() && m.prefix.Contains(normalizeAddr(addr))
	default:
		return false
	}
}

// sameNick reports whether nick equals the folded mask nickname. ASCII
// nicknames are compared without allocating.
func sameNick(nick, folded string) bool {
	if isASCII(nick) && isASCII(folded) {
		return strings.EqualFold(nick, folded)
	}
	return foldNick(nick) == folded
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// MatchingBan returns the first ban in bans that matches the client (see
// [Ban.Matches]) and true, or the zero Ban and false if none does.
func MatchingBan(bans []Ban, nick string, addr netip.Addr, now time.Time) (Ban, bool) {
	for _, b := range bans {
		if b.Matches(nick, addr, now) {
			return b, true
		}
	}
	return Ban{}, false
}
