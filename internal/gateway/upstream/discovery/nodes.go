package discovery

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
)

// SortNodes puts a registry's answer in the form every Result has, so that
// two answers listing the same nodes compare equal and Follow passes on only
// real changes: IP addresses in their canonical form (an IPv4-mapped IPv6
// address as IPv4), host names without the trailing dot, nodes no gateway
// could dial dropped (no host, a port outside 1–65535, a negative weight),
// sorted by host then port, and one node per host and port — the one of the
// highest weight, as when a registry lists one instance twice. It never
// returns nil, so that an empty answer reads as an empty list.
func SortNodes(nodes []spec.Node) []spec.Node {
	out := make([]spec.Node, 0, len(nodes))
	for _, n := range nodes {
		n.Host = canonicalHost(n.Host)
		if n.Host == "" || n.Port < 1 || n.Port > 65535 || n.Weight < 0 {
			continue
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b spec.Node) int {
		return cmp.Or(cmp.Compare(a.Host, b.Host), cmp.Compare(a.Port, b.Port), cmp.Compare(b.Weight, a.Weight))
	})
	return slices.CompactFunc(out, func(a, b spec.Node) bool { return a.Host == b.Host && a.Port == b.Port })
}

func canonicalHost(h string) string {
	h = strings.TrimSpace(h)
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().String()
	}
	// A name is compared as DNS does: without case and the root's dot.
	return strings.ToLower(strings.TrimSuffix(h, "."))
}
