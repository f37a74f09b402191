// Package iprestriction rejects requests whose client address is not
// allowed (ip-restriction plugin).
package iprestriction

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Config lists IPs or CIDRs, v4 or v6. A client in deny is refused; when
// allow is not empty, a client outside it is refused too.
//
// The client is the connection's peer, unless the peer is one of
// TrustedProxies: then it is the address those proxies put in
// X-Forwarded-For — the right-most entry that is not itself a trusted
// proxy. A client never chooses its address by sending the header itself.
type Config struct {
	Allow          []string `json:"allow,omitempty"`
	Deny           []string `json:"deny,omitempty"`
	TrustedProxies []string `json:"trusted_proxies,omitempty"`
}

// Filter is the compiled plugin.
type Filter struct {
	allow   []netip.Prefix
	deny    []netip.Prefix
	trusted []netip.Prefix
}

// New parses cfg once; the filter it returns parses nothing.
func New(cfg Config) (*Filter, error) {
	if len(cfg.Allow) == 0 && len(cfg.Deny) == 0 {
		return nil, errors.New("allow or deny must list at least one address")
	}
	allow, err := parseAll("allow", cfg.Allow)
	if err != nil {
		return nil, err
	}
	deny, err := parseAll("deny", cfg.Deny)
	if err != nil {
		return nil, err
	}
	trusted, err := parseAll("trusted_proxies", cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	return &Filter{allow: allow, deny: deny, trusted: trusted}, nil
}

func parseAll(field string, list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		p, err := parse(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// parse reads an IP or a CIDR. An IPv4-mapped IPv6 address or prefix
// (::ffff:10.0.0.0/104) becomes its IPv4 form, as clients are compared
// unmapped.
func parse(s string) (netip.Prefix, error) {
	bad := fmt.Errorf("%q is not an IP or CIDR", s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, bad
		}
		if a := p.Addr(); a.Is4In6() {
			if p.Bits() < 96 {
				return netip.Prefix{}, fmt.Errorf("%q mixes IPv4-mapped and other IPv6 addresses; list them apart", s)
			}
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, bad
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Allowed reports whether addr may pass. An unknown client (the zero
// Addr: a forwarded address that could not be read) never does, even past
// a deny-only list: it could be any address, a denied one included.
func (f *Filter) Allowed(addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range f.deny {
		if p.Contains(addr) {
			return false
		}
	}
	if len(f.allow) == 0 {
		return true
	}
	for _, p := range f.allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Client is the address the lists are checked against: peer, or, when
// peer is a trusted proxy, the right-most X-Forwarded-For entry (over all
// its header lines) that is not a trusted proxy. An entry may carry a port
// (1.2.3.4:80, [2001:db8::1]:80), which is dropped; any other entry that
// is not an IP address makes the client unknown (the zero Addr, which
// Allowed refuses). A chain of trusted proxies only gives the last one
// listed.
func (f *Filter) Client(peer netip.Addr, xff []string) netip.Addr {
	peer = peer.Unmap().WithZone("")
	if len(f.trusted) == 0 || !contains(f.trusted, peer) {
		return peer
	}
	last := peer
	for i := len(xff) - 1; i >= 0; i-- {
		line := xff[i]
		for line != "" {
			var entry string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				entry, line = line[j+1:], line[:j]
			} else {
				entry, line = line, ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			a, ok := parseEntry(entry)
			if !ok {
				return netip.Addr{}
			}
			if !contains(f.trusted, a) {
				return a
			}
			last = a
		}
	}
	return last
}

// parseEntry reads one X-Forwarded-For entry: an address, or an address
// and port as some proxies write them.
func parseEntry(entry string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(entry)
	if err != nil {
		ap, perr := netip.ParseAddrPort(entry)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func contains(list []netip.Prefix, a netip.Addr) bool {
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// OnRequest refuses a client that is not allowed with 403.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	client := ex.ClientAddr()
	if len(f.trusted) > 0 {
		client = f.Client(client, ex.HeaderValues("X-Forwarded-For"))
	}
	if f.Allowed(client) {
		return false
	}
	ex.Reject(403, "ip_forbidden", "your IP address is not allowed")
	return true
}
