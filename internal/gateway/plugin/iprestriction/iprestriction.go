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
type Config struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// Filter is the compiled plugin.
type Filter struct {
	allow []netip.Prefix
	deny  []netip.Prefix
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
	return &Filter{allow: allow, deny: deny}, nil
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

func parse(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP or CIDR", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP or CIDR", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Allowed reports whether addr may pass.
func (f *Filter) Allowed(addr netip.Addr) bool {
	addr = addr.Unmap()
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

// OnRequest refuses a client that is not allowed with 403.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	if f.Allowed(ex.ClientAddr()) {
		return false
	}
	ex.Reject(403, "ip_forbidden", "your IP address is not allowed")
	return true
}
