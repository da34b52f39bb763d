package web

import (
	"fmt"
	"net/netip"
	"strings"
)

// addrRule refuses the addresses of one prefix, for the reason given.
type addrRule struct {
	prefix netip.Prefix
	reason string
}

func rule(prefix, reason string) addrRule {
	return addrRule{netip.MustParsePrefix(prefix), reason}
}

// v4Rules are the IPv4 ranges that are not the public internet (IANA IPv4 Special-Purpose Address
// Registry, RFC 6890 and its updates), most specific first.
var v4Rules = []addrRule{
	rule("0.0.0.0/8", `a "this network" address (0.0.0.0/8, RFC 1122; 0.0.0.0 reaches this host on many systems)`),
	rule("10.0.0.0/8", "a private address (10.0.0.0/8, RFC 1918)"),
	rule("100.64.0.0/10", "a carrier-grade NAT shared address (100.64.0.0/10, RFC 6598; some clouds put metadata services there)"),
	rule("127.0.0.0/8", "a loopback address (127.0.0.0/8)"),
	rule("169.254.169.254/32", "the cloud metadata service address (169.254.169.254, link-local)"),
	rule("169.254.0.0/16", "a link-local address (169.254.0.0/16)"),
	rule("172.16.0.0/12", "a private address (172.16.0.0/12, RFC 1918)"),
	rule("192.0.0.0/24", "an IETF protocol assignment (192.0.0.0/24, RFC 6890)"),
	rule("192.0.2.0/24", "a documentation address (192.0.2.0/24, RFC 5737)"),
	rule("192.168.0.0/16", "a private address (192.168.0.0/16, RFC 1918)"),
	rule("198.18.0.0/15", "a benchmarking address (198.18.0.0/15, RFC 2544)"),
	rule("198.51.100.0/24", "a documentation address (198.51.100.0/24, RFC 5737)"),
	rule("203.0.113.0/24", "a documentation address (203.0.113.0/24, RFC 5737)"),
	rule("224.0.0.0/4", "a multicast address (224.0.0.0/4)"),
	rule("255.255.255.255/32", "the broadcast address (255.255.255.255)"),
	rule("240.0.0.0/4", "a reserved address (240.0.0.0/4)"),
}

// v6Rules are the IPv6 ranges refused outright (IANA IPv6 Special-Purpose Address Registry), most
// specific first. IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
// addresses are handled before these: their embedded IPv4 address decides.
var v6Rules = []addrRule{
	rule("::/128", "the unspecified address (::)"),
	rule("::1/128", "the loopback address (::1)"),
	rule("::/96", "an IPv4-compatible IPv6 address (::/96, deprecated by RFC 4291)"),
	rule("::ffff:0:0:0/96", "an IPv4-translated IPv6 address (::ffff:0:0:0/96, RFC 2765)"),
	rule("64:ff9b:1::/48", "a local-use NAT64 address (64:ff9b:1::/48, RFC 8215)"),
	rule("100::/64", "a discard-only address (100::/64, RFC 6666)"),
	rule("2001::/32", "a Teredo tunnel address (2001::/32, RFC 4380)"),
	rule("2001:db8::/32", "a documentation address (2001:db8::/32, RFC 3849)"),
	rule("2001::/23", "an IETF protocol assignment (2001::/23, RFC 2928)"),
	rule("fc00::/7", "a unique-local address (fc00::/7, RFC 4193; the IPv6 counterpart of private addresses)"),
	rule("fe80::/10", "a link-local address (fe80::/10)"),
	rule("fec0::/10", "a site-local address (fec0::/10, deprecated by RFC 3879)"),
	rule("ff00::/8", "a multicast address (ff00::/8)"),
}

var (
	nat64Prefix   = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour     = netip.MustParsePrefix("2002::/16")
	globalUnicast = netip.MustParsePrefix("2000::/3")
)

// refusal returns why a connection to a is refused, or "" when a is a public internet address.
// IPv4-mapped, NAT64 and 6to4 forms are judged by the IPv4 address they embed, so ::ffff:127.0.0.1
// and 64:ff9b::7f00:1 are refused as loopback; the zone of a scoped address is ignored.
func refusal(a netip.Addr) string {
	a = a.WithZone("")
	switch {
	case !a.IsValid():
		return "not a valid IP address"
	case a.Is4():
		return refusal4(a)
	case a.Is4In6():
		if r := refusal4(a.Unmap()); r != "" {
			return fmt.Sprintf("an IPv4-mapped IPv6 address of %s, %s", a.Unmap(), r)
		}
		return ""
	case nat64Prefix.Contains(a):
		b := a.As16()
		v4 := netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		if r := refusal4(v4); r != "" {
			return fmt.Sprintf("a NAT64 address (64:ff9b::/96) of %s, %s", v4, r)
		}
		return ""
	case sixToFour.Contains(a):
		b := a.As16()
		v4 := netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		if r := refusal4(v4); r != "" {
			return fmt.Sprintf("a 6to4 address (2002::/16) of %s, %s", v4, r)
		}
		return ""
	}
	for _, r := range v6Rules {
		if r.prefix.Contains(a) {
			if r.prefix.Bits() == 96 && r.prefix.Addr().Is6() {
				// ::/96 and ::ffff:0:0:0/96 embed an IPv4 address: name it.
				b := a.As16()
				return fmt.Sprintf("%s, embedding %s", r.reason, netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
			}
			return r.reason
		}
	}
	if !globalUnicast.Contains(a) {
		return "a reserved IPv6 address (outside the global unicast range 2000::/3)"
	}
	return ""
}

func refusal4(a netip.Addr) string {
	for _, r := range v4Rules {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	return ""
}

// endsInNumber reports whether host's last label is a number (decimal digits, or 0x followed by
// hex digits), the test the WHATWG URL standard uses to decide that a host is an IPv4 address. Such
// a host that is not a plain dotted-decimal IPv4 address is one of the unusual spellings that
// inet_aton and browsers accept: 2130706433, 0x7f.1, 017700000001, 127.1, 127.0.0.1. (trailing dot).
func endsInNumber(host string) bool {
	h := strings.TrimSuffix(host, ".")
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" {
		return false
	}
	digits := last
	hex := false
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		digits, hex = last[2:], true
	}
	for _, c := range digits {
		switch {
		case c >= '0' && c <= '9':
		case hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
		default:
			return false
		}
	}
	return true
}

// hostAddr interprets host (a URL host without brackets or port) as an IP address. It returns the
// address and ok when host is an IP literal: IPv6 (with or without zone) or plain dotted-decimal
// IPv4. It returns a refusal reason when host is a number in any other spelling. Otherwise host is
// a name to resolve: ok false, reason "".
func hostAddr(host string) (addr netip.Addr, ok bool, reason string) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a, true, ""
	}
	if endsInNumber(host) {
		return netip.Addr{}, false, fmt.Sprintf("host %q is an unusual spelling of an IPv4 address (integer, octal, hex, "+
			"shortened or with a trailing dot), refused so that the spelling cannot hide the address; "+
			"write IPv4 addresses as four decimal numbers without leading zeros, such as 93.184.215.14", host)
	}
	return netip.Addr{}, false, ""
}
