package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// ErrForbiddenAddress is the error of a dial to an address receivers may
// not have (test with errors.Is).
var ErrForbiddenAddress = errors.New("webhook: receiver address refused")

// A receiver URL is typed by a project admin, and the control plane sits
// inside the network it runs in: a URL naming a cloud metadata service or
// an internal host would turn deliveries into requests from the control
// plane to places a project admin cannot reach. The check is made on the
// address actually dialled (net.Dialer.Control, after name resolution),
// so a host name that resolves to such an address, or a DNS answer that
// changes between a check and the dial, is refused just the same.

// alwaysRefused are refused even with private networks allowed: link-local
// addresses (169.254.0.0/16, fe80::/10: where cloud metadata services
// answer) are checked by netip, and these are metadata services elsewhere.
var alwaysRefused = []netip.Prefix{
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS metadata over IPv6
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud metadata
}

// privateRanges are refused unless private networks are allowed, beside
// loopback, RFC 1918 and unique local addresses (netip's IsLoopback,
// IsPrivate) and the unspecified address (which dials this host).
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT, shared address space
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
}

// Prefixes whose addresses carry an IPv4 address that a translator or
// relay reaches on the sender's behalf: the embedded address is checked.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// checkIP refuses an address receivers may not have; allowPrivate lets
// loopback and private addresses through (a receiver on the control
// plane's own network, by --webhook-private-networks).
func checkIP(ip netip.Addr, allowPrivate bool) error {
	ip = ip.WithZone("").Unmap()
	switch {
	case nat64.Contains(ip):
		b := ip.As16()
		return checkIP(netip.AddrFrom4([4]byte(b[12:16])), allowPrivate)
	case sixToFour.Contains(ip):
		b := ip.As16()
		return checkIP(netip.AddrFrom4([4]byte(b[2:6])), allowPrivate)
	}
	if !ip.IsValid() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || containsAny(alwaysRefused, ip) {
		return fmt.Errorf("%w: %s is a link-local, multicast or metadata address", ErrForbiddenAddress, ip)
	}
	if !allowPrivate && (ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || containsAny(privateRanges, ip)) {
		return fmt.Errorf("%w: %s is a loopback or private address (a control plane started with --webhook-private-networks delivers there)", ErrForbiddenAddress, ip)
	}
	return nil
}

func containsAny(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// dialControl is the net.Dialer.Control of deliveries: it runs for every
// address a dial tries, after resolution and before connecting.
func dialControl(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if network != "tcp4" && network != "tcp6" {
			return fmt.Errorf("%w: network %s", ErrForbiddenAddress, network)
		}
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("%w: %s is not an IP address", ErrForbiddenAddress, host)
		}
		return checkIP(ip, allowPrivate)
	}
}
