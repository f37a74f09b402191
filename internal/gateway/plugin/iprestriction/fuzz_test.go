package iprestriction

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

// FuzzMatcher checks the IP/CIDR matcher against the standard library's
// older net.IPNet: parsing never panics, and where both accept an entry
// they agree on every client.
func FuzzMatcher(f *testing.F) {
	f.Add("10.0.0.0/8", "10.1.2.3")
	f.Add("192.168.1.5", "192.168.1.5")
	f.Add("2001:db8::/32", "2001:db8::1")
	f.Add("::ffff:10.0.0.0/104", "10.0.0.1")
	f.Add("0.0.0.0/0", "::1")
	f.Add("::/0", "127.0.0.1")
	f.Add("10.1.2.3/16", "10.1.200.1")
	f.Fuzz(func(t *testing.T, entry, client string) {
		p, err := parse(entry)
		if err != nil {
			return
		}
		flt := &Filter{allow: []netip.Prefix{p}}
		addr, err := netip.ParseAddr(client)
		if err != nil || addr.Zone() != "" {
			return
		}
		got := flt.Allowed(addr)
		want, ok := reference(entry, client)
		if ok && got != want {
			t.Fatalf("entry %q client %q: Allowed = %v, net.IPNet says %v", entry, client, got, want)
		}
	})
}

// reference is net.IPNet's answer; ok is false when net does not parse.
func reference(entry, client string) (in, ok bool) {
	ip := net.ParseIP(client)
	if ip == nil {
		return false, false
	}
	if !strings.Contains(entry, "/") {
		e := net.ParseIP(entry)
		return e != nil && e.Equal(ip), e != nil
	}
	_, n, err := net.ParseCIDR(entry)
	if err != nil {
		return false, false
	}
	// net matches IPv4 clients against IPv4-mapped networks (and the
	// reverse) as Portico does, once both are unmapped.
	return n.Contains(ip), true
}

// FuzzClient checks the X-Forwarded-For walk: no panic, and the client is
// the peer, an address written in the header, or unknown.
func FuzzClient(f *testing.F) {
	f.Add("10.1.1.1", "203.0.113.5, 10.2.2.2")
	f.Add("10.1.1.1", "not-an-ip")
	f.Add("10.1.1.1", ",,,")
	f.Add("198.51.100.1", "203.0.113.5")
	f.Add("10.1.1.1", "::ffff:1.2.3.4, fd00::1")
	f.Add("10.1.1.1", "192.0.2.1:1234")
	f.Add("10.1.1.1", "[2001:db8::1]:80, 10.2.2.2:8080")
	f.Add("fd00::1", "[fe80::1%eth0]:80")
	flt, err := New(Config{Deny: []string{"192.0.2.1"}, TrustedProxies: []string{"10.0.0.0/8", "fd00::/8"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, peer, xff string) {
		pa, err := netip.ParseAddr(peer)
		if err != nil {
			return
		}
		lines := strings.Split(xff, "\n")
		got := flt.Client(pa, lines)
		if !got.IsValid() {
			if flt.Allowed(got) {
				t.Fatalf("peer %q xff %q: an unknown client is allowed", peer, xff)
			}
			return
		}
		if got == pa.Unmap().WithZone("") {
			return
		}
		found := false
		for _, e := range strings.FieldsFunc(xff, func(r rune) bool { return r == ',' || r == '\n' }) {
			e = strings.TrimSpace(e)
			a, err := netip.ParseAddr(e)
			if err != nil {
				var ap netip.AddrPort
				ap, err = netip.ParseAddrPort(e)
				a = ap.Addr()
			}
			if err == nil && a.Unmap() == got {
				found = true
			}
		}
		if !found {
			t.Fatalf("peer %q xff %q: client %v is neither the peer nor in the header", peer, xff, got)
		}
		if flt.trustedHas(pa) == false {
			t.Fatalf("an untrusted peer %v had its header read", pa)
		}
	})
}

func (f *Filter) trustedHas(a netip.Addr) bool { return contains(f.trusted, a.Unmap().WithZone("")) }
