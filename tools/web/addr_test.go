package web

import (
	"net/netip"
	"strings"
	"testing"
)

func TestRefusal(t *testing.T) {
	for addr, want := range map[string]string{
		// public: allowed
		"93.184.215.14":            "",
		"8.8.8.8":                  "",
		"1.1.1.1":                  "",
		"100.63.255.255":           "", // just below 100.64/10
		"100.128.0.0":              "", // just above
		"172.15.255.255":           "",
		"172.32.0.0":               "",
		"169.253.255.255":          "",
		"223.255.255.255":          "",
		"2606:2800:21f:cb07::1":    "",
		"2a00:1450:4001:81c::200e": "",
		"::ffff:93.184.215.14":     "",
		"64:ff9b::5db8:d70e":       "", // NAT64 of 93.184.215.14
		"2002:5db8:d70e::1":        "", // 6to4 of 93.184.215.14
		// IPv4
		"0.0.0.0":         `"this network"`,
		"0.255.255.255":   `"this network"`,
		"10.0.0.0":        "private address (10.0.0.0/8",
		"10.255.255.255":  "private",
		"100.64.0.0":      "carrier-grade NAT",
		"100.100.100.200": "carrier-grade NAT", // Alibaba Cloud metadata
		"127.0.0.1":       "loopback",
		"127.255.255.254": "loopback",
		"169.254.169.254": "cloud metadata service",
		"169.254.0.1":     "link-local",
		"172.16.0.0":      "private address (172.16.0.0/12",
		"192.0.0.170":     "IETF protocol assignment",
		"192.168.0.1":     "private address (192.168.0.0/16",
		"198.18.0.1":      "benchmarking",
		"203.0.113.9":     "documentation",
		"224.0.0.251":     "multicast",
		"240.0.0.0":       "reserved",
		"255.255.255.255": "broadcast",
		// IPv6
		"::":                 "unspecified",
		"::1":                "loopback address (::1)",
		"::7f00:1":           "IPv4-compatible IPv6 address (::/96, deprecated by RFC 4291), embedding 127.0.0.1",
		"::5db8:d70e":        "IPv4-compatible", // refused even for a public IPv4: deprecated form
		"::ffff:127.0.0.1":   "IPv4-mapped IPv6 address of 127.0.0.1, a loopback",
		"::ffff:0.0.0.0":     `IPv4-mapped IPv6 address of 0.0.0.0, a "this network"`,
		"::ffff:0:a00:1":     "IPv4-translated IPv6 address (::ffff:0:0:0/96, RFC 2765), embedding 10.0.0.1",
		"64:ff9b::7f00:1":    "NAT64 address (64:ff9b::/96) of 127.0.0.1",
		"64:ff9b::a00:1":     "NAT64 address (64:ff9b::/96) of 10.0.0.1, a private",
		"64:ff9b:1::1":       "local-use NAT64",
		"100::1":             "discard-only",
		"2001:0:4136:e378::": "Teredo",
		"2001:2::1":          "IETF protocol assignment",
		"2001:db8::1":        "documentation",
		"2002:a00:1::":       "6to4 address (2002::/16) of 10.0.0.1",
		"2002:7f00:1::":      "6to4 address (2002::/16) of 127.0.0.1",
		"fc00::1":            "unique-local",
		"fdff:ffff::1":       "unique-local",
		"fe80::1":            "link-local",
		"fe80::1%eth0":       "link-local",
		"febf::1":            "link-local",
		"fec0::1":            "site-local",
		"ff02::1":            "multicast",
		"ff0e::1":            "multicast",
		"4000::1":            "reserved IPv6 address (outside the global unicast range 2000::/3)",
		"1::1":               "reserved IPv6",
	} {
		got := refusal(netip.MustParseAddr(addr))
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("refusal(%s) = %q, want %q", addr, got, want)
		}
	}
	if got := refusal(netip.Addr{}); got == "" {
		t.Error("the zero Addr is not refused")
	}
}

func TestHostAddr(t *testing.T) {
	for host, want := range map[string]string{
		"example.com":     "name",
		"a1.example":      "name",
		"xn--bcher-kva.e": "name",
		"0x.example.com":  "name",
		"1.2.3.example":   "name",
		"example.123x":    "name",
		"93.184.215.14":   "literal",
		"::1":             "literal",
		"fe80::1%eth0":    "literal",
		"2130706433":      "refused",
		"0x7f.1":          "refused",
		"0X7F.0.0.1":      "refused",
		"017700000001":    "refused",
		"0177.0.0.01":     "refused",
		"127.1":           "refused",
		"127.0.0.1.":      "refused",
		"1.2.3.4.5":       "refused",
		"256.0.0.1":       "refused",
		"example.0x1f":    "refused",
		"example.42":      "refused",
		"example.42.":     "refused",
		"0x":              "refused",
	} {
		_, literal, reason := hostAddr(host)
		got := "name"
		switch {
		case reason != "":
			got = "refused"
		case literal:
			got = "literal"
		}
		if got != want {
			t.Errorf("hostAddr(%q): %s, want %s (reason %q)", host, got, want, reason)
		}
	}
}
