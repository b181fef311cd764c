// Package ipgroup maps a client's IP address to the group of addresses that
// the server's per-address limits count it in. One IPv4 address is usually
// one host, but one IPv6 host, or one customer of a provider, commonly holds
// a whole /64 (SLAAC, privacy addresses): counting each IPv6 address on its
// own would let one host take a fresh address for every connection. So by
// default IPv4 addresses are grouped by /32 (each on its own) and IPv6 ones
// by /64, as IRC servers such as ergo do; both lengths are configurable.
package ipgroup

import (
	"fmt"
	"net/netip"
)

// The default prefix lengths.
const (
	DefaultIPv4Bits = 32
	DefaultIPv6Bits = 64
)

// Prefixes says how many leading bits of an address name its group. The
// zero value means the defaults, /32 and /64.
type Prefixes struct {
	// IPv4 is the prefix length for IPv4 addresses, 1 to 32 (0: 32).
	IPv4 int
	// IPv6 is the prefix length for IPv6 addresses, 1 to 128 (0: 64).
	IPv6 int
}

// Check returns an error naming the first length that is out of range.
// [Prefixes.Of] uses the default for 0 and the nearest valid length for
// the others, so a Prefixes that fails Check is still safe to use.
func (p Prefixes) Check() error {
	if p.IPv4 < 0 || p.IPv4 > 32 {
		return fmt.Errorf("ipgroup: IPv4 prefix length %d: want 1 to 32 (0: %d)", p.IPv4, DefaultIPv4Bits)
	}
	if p.IPv6 < 0 || p.IPv6 > 128 {
		return fmt.Errorf("ipgroup: IPv6 prefix length %d: want 1 to 128 (0: %d)", p.IPv6, DefaultIPv6Bits)
	}
	return nil
}

// Of returns the group of addr: the prefix of the configured length that
// holds it, such as 192.0.2.7/32 or 2001:db8:1:2::/64. An IPv4-mapped IPv6
// address (::ffff:192.0.2.7) counts as the IPv4 address it maps, and a zone
// is ignored. The zero Addr (no address, as for the console) gives the zero
// Prefix, a group of its own.
func (p Prefixes) Of(addr netip.Addr) netip.Prefix {
	if !addr.IsValid() {
		return netip.Prefix{}
	}
	addr = addr.Unmap().WithZone("")
	bits := lengthOr(p.IPv6, DefaultIPv6Bits, 128)
	if addr.Is4() {
		bits = lengthOr(p.IPv4, DefaultIPv4Bits, 32)
	}
	pfx, err := addr.Prefix(bits)
	if err != nil { // cannot happen: bits is in range and the zone is gone
		return netip.PrefixFrom(addr, addr.BitLen())
	}
	return pfx
}

// lengthOr returns n, or def when n is 0, clamped to 1..maxBits.
func lengthOr(n, def, maxBits int) int {
	switch {
	case n == 0:
		return def
	case n < 1:
		return 1
	case n > maxBits:
		return maxBits
	}
	return n
}
