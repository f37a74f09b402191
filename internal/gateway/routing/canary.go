package routing

import (
	"fmt"
	"net/netip"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/splitstats"
	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

// canaryRules are a canary's compiled match rules and sticky key, shared
// by the routes of its service.
type canaryRules struct {
	id       string
	weight   uint64
	rules    []canaryRule
	hashKind string // "", "header", "cookie" or "ip"
	hashName string
	// target holds the slots of a 100-slot cycle that go to the target:
	// the weight spread evenly (10 % is every tenth slot, not the first ten).
	target [2]uint64
}

type canaryRule struct {
	kind, name, value string
	re                *regexp.Regexp // for op "matches"
}

// canary is one route's canary: the shared rules, the route's own target
// pool and its own cursor, so every route keeps to the weight on its own.
type canary struct {
	*canaryRules
	pool   *upstream.Pool
	cursor atomic.Uint64
	// split holds the figures of both sides, shared by the canary's routes
	// and kept across reloads in Deps.Splits.
	split *splitstats.Split
}

// compileCanary checks c (field is its JSON path) and compiles it; nil when
// it has problems, which it adds to fe.
func compileCanary(fe *spec.FieldErrors, field string, c *spec.CanaryRoute, routes []spec.Route) *canaryRules {
	errs := c.Validate(field + ".")
	for i, name := range c.Routes {
		found := false
		for ri := range routes {
			if routes[ri].Name == name {
				found = true
				break
			}
		}
		if !found {
			errs.Add(fmt.Sprintf("%s.routes[%d]", field, i), "the service has no route %q", name)
		}
	}
	if len(errs) > 0 {
		*fe = append(*fe, errs...)
		return nil
	}
	cr := &canaryRules{id: c.ID, weight: uint64(c.Weight)}
	cr.hashKind, cr.hashName, _ = spec.ParseHashOn(c.HashOn)
	for _, r := range c.Rules {
		rule := canaryRule{kind: r.Kind, name: r.Name, value: r.Value}
		if r.Op == spec.RuleMatches {
			rule.re = regexp.MustCompile(r.Value) // validated above
		}
		cr.rules = append(cr.rules, rule)
	}
	for i := range uint64(100) {
		if (i+1)*cr.weight/100 > i*cr.weight/100 {
			cr.target[i/64] |= 1 << (i % 64)
		}
	}
	return cr
}

// Pick chooses the side of a request: the canary's target when the route
// has a canary that takes this request, otherwise the route's upstream.
// Engines call it once per request, after the request plugins, and use the
// pool it returns for everything the upstream call needs.
func (rt *Route) Pick(ex *plugin.Exchange) (pool *upstream.Pool, canary bool) {
	c := rt.canary()
	if c == nil {
		return rt.Upstream, false
	}
	if c.takes(ex) {
		return c.pool, true
	}
	return rt.Upstream, false
}

// takes: a matching rule, then the sticky hash, then the weighted cycle.
func (c *canary) takes(ex *plugin.Exchange) bool {
	for i := range c.rules {
		if c.rules[i].match(ex) {
			return true
		}
	}
	switch c.weight {
	case 0:
		return false
	case 100:
		return true
	}
	if c.hashKind != "" {
		if h, ok := c.hash(ex); ok {
			return h%100 < c.weight
		}
	}
	slot := c.cursor.Add(1) % 100
	return c.target[slot/64]&(1<<(slot%64)) != 0
}

func (r *canaryRule) match(ex *plugin.Exchange) bool {
	var v string
	switch r.kind {
	case spec.RuleHeader:
		v = ex.Header(r.name)
	case spec.RuleCookie:
		v = ex.Cookie(r.name)
	default:
		v = ex.Query(r.name)
	}
	if r.re != nil {
		return v != "" && r.re.MatchString(v)
	}
	return v == r.value
}

// hash is the FNV-1a hash of the request's sticky key; a request without
// the header or cookie falls back to its client address.
func (c *canary) hash(ex *plugin.Exchange) (uint64, bool) {
	var key string
	switch c.hashKind {
	case spec.RuleHeader:
		key = ex.Header(c.hashName)
	case spec.RuleCookie:
		key = ex.Cookie(c.hashName)
	}
	if key != "" {
		return fnvString(key), true
	}
	return hashAddr(ex.ClientAddr())
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func hashAddr(a netip.Addr) (uint64, bool) {
	if !a.IsValid() {
		return 0, false
	}
	b := a.Unmap().As16()
	h := uint64(fnvOffset)
	for _, x := range b {
		h ^= uint64(x)
		h *= fnvPrime
	}
	return h, true
}

// Answered records what one side of the route's canary answered; engines
// call it for every request Pick chose a side for. A route without a
// canary records nothing.
func (rt *Route) Answered(canary bool, status int, elapsedNanos int64) {
	c := rt.canary()
	if c == nil {
		return
	}
	c.split.Record(canary, status, time.Duration(elapsedNanos), time.Now())
}

// Canary returns the id of the route's canary and its figures; ok is false
// when the route has none.
func (rt *Route) Canary() (id string, split *splitstats.Split, ok bool) {
	c := rt.canary()
	if c == nil {
		return "", nil, false
	}
	return c.id, c.split, true
}
