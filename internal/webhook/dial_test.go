package webhook

import (
	"errors"
	"net/netip"
	"testing"
)

// TestCheckIP: metadata and link-local addresses are refused always,
// loopback and private ones unless allowed, however they are spelt.
func TestCheckIP(t *testing.T) {
	const (
		ok      = iota // delivered to, flag or not
		private        // only with --webhook-private-networks
		never          // refused either way
	)
	for addr, want := range map[string]int{
		"93.184.215.14":   ok,
		"8.8.8.8":         ok,
		"2606:4700::1111": ok,
		"172.32.0.1":      ok, // just past 172.16.0.0/12
		"100.128.0.1":     ok, // just past 100.64.0.0/10

		"169.254.169.254":        never, // AWS, GCP, Azure, OpenStack metadata
		"169.254.0.1":            never,
		"::ffff:169.254.169.254": never, // IPv4-mapped
		"64:ff9b::a9fe:a9fe":     never, // NAT64 of 169.254.169.254
		"2002:a9fe:a9fe::1":      never, // 6to4 of 169.254.169.254
		"fe80::1":                never,
		"fe80::1%eth0":           never,
		"fd00:ec2::254":          never, // AWS metadata over IPv6
		"100.100.100.200":        never, // Alibaba Cloud metadata
		"224.0.0.1":              never,
		"ff02::1":                never,

		"127.0.0.1":        private,
		"127.1.2.3":        private,
		"::1":              private,
		"::ffff:127.0.0.1": private,
		"0.0.0.0":          private, // dials this host
		"::":               private,
		"0.1.2.3":          private,
		"10.0.0.1":         private,
		"172.16.5.4":       private,
		"192.168.1.1":      private,
		"100.64.0.1":       private,
		"198.18.0.1":       private,
		"fd12:3456::1":     private,
		"64:ff9b::a00:1":   private, // NAT64 of 10.0.0.1
		"2002:7f00:1::":    private, // 6to4 of 127.0.0.1
		"64:ff9b:1::1":     private,
	} {
		ip := netip.MustParseAddr(addr)
		strict, lax := checkIP(ip, false), checkIP(ip, true)
		for _, e := range []error{strict, lax} {
			if e != nil && !errors.Is(e, ErrForbiddenAddress) {
				t.Errorf("%s: %v does not wrap ErrForbiddenAddress", addr, e)
			}
		}
		got := ok
		switch {
		case strict != nil && lax != nil:
			got = never
		case strict != nil:
			got = private
		case lax != nil:
			t.Errorf("%s: refused only with private networks allowed: %v", addr, lax)
		}
		if got != want {
			t.Errorf("%s: class %d (refused %v / with the flag %v), want %d", addr, got, strict, lax, want)
		}
	}
}

// TestDialControl: the check reads the address being dialled, IPv4 or
// IPv6, and refuses anything that is not TCP to an IP address.
func TestDialControl(t *testing.T) {
	for _, tc := range []struct {
		network, address string
		allow, ok        bool
	}{
		{"tcp4", "93.184.215.14:443", false, true},
		{"tcp6", "[2606:4700::1111]:443", false, true},
		{"tcp4", "127.0.0.1:8080", false, false},
		{"tcp4", "127.0.0.1:8080", true, true},
		{"tcp6", "[::1]:8080", true, true},
		{"tcp4", "169.254.169.254:80", true, false},
		{"tcp6", "[fe80::1%eth0]:80", true, false},
		{"udp4", "93.184.215.14:53", true, false},
		{"tcp4", "example.com:80", true, false}, // names are resolved before Control
		{"tcp4", "93.184.215.14", true, false},
	} {
		err := dialControl(tc.allow)(tc.network, tc.address, nil)
		if (err == nil) != tc.ok {
			t.Errorf("%s %s (private allowed %v): %v, want ok %v", tc.network, tc.address, tc.allow, err, tc.ok)
		}
	}
}
