package spec

import (
	"fmt"
	"regexp"
	"strings"
)

// CanaryRoute is a running canary release of a deployed service
// : a share of its traffic, and every request a rule
// matches, goes to Target instead of the service's upstream. A target
// version is resolved by the control plane into its upstream, so the data
// plane only ever sees an upstream.
type CanaryRoute struct {
	ID string `json:"id,omitempty"`
	// Weight is the percentage (0–100) of requests sent to the target.
	Weight int `json:"weight"`
	// Rules send a request they match to the target whatever the weight;
	// any one matching is enough.
	Rules []CanaryRule `json:"rules,omitempty"`
	// HashOn makes the split sticky: "" (none), "header:NAME",
	// "cookie:NAME" or "ip". One client stays on one side while the weight
	// is unchanged.
	HashOn string `json:"hash_on,omitempty"`
	// Routes names the routes of the service the canary applies to; empty
	// means all of them.
	Routes []string `json:"routes,omitempty"`
	Target Upstream `json:"target"`
}

// CanaryRule matches one request field.
type CanaryRule struct {
	Kind  string `json:"kind"`         // header | cookie | query
	Name  string `json:"name"`         // the header, cookie or query parameter
	Op    string `json:"op,omitempty"` // equals (default) | matches (a regular expression)
	Value string `json:"value"`
}

// Canary rule kinds and operators.
const (
	RuleHeader  = "header"
	RuleCookie  = "cookie"
	RuleQuery   = "query"
	RuleEquals  = "equals"
	RuleMatches = "matches"
)

var headerNameRe = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$")

// ParseHashOn splits a hash_on value into its kind ("header", "cookie",
// "ip" or "" for none) and name.
func ParseHashOn(s string) (kind, name string, ok bool) {
	switch {
	case s == "":
		return "", "", true
	case s == "ip":
		return "ip", "", true
	}
	kind, name, found := strings.Cut(s, ":")
	if !found || (kind != RuleHeader && kind != RuleCookie) || !headerNameRe.MatchString(name) {
		return "", "", false
	}
	return kind, name, true
}

// Validate checks a canary; prefix is its JSON path ("canary." when
// nested).
func (c *CanaryRoute) Validate(prefix string) FieldErrors {
	fe := validateSplit(prefix, c.Weight, c.Rules, c.HashOn, c.Routes)
	fe = append(fe, c.Target.Validate(prefix+"target.")...)
	if c.Target.URL == "" {
		fe = append(fe, c.Target.RequireNodes(prefix+"target.")...)
	}
	return fe
}

// validateSplit checks how a canary splits traffic, whether it is a task
// of the admin API or the route a gateway runs.
func validateSplit(prefix string, weight int, rules []CanaryRule, hashOn string, routes []string) FieldErrors {
	var fe FieldErrors
	if weight < 0 || weight > 100 {
		fe.Add(prefix+"weight", "must be between 0 and 100")
	}
	for i, r := range rules {
		f := fmt.Sprintf("%srules[%d].", prefix, i)
		switch r.Kind {
		case RuleHeader, RuleCookie, RuleQuery:
		default:
			fe.Add(f+"kind", "must be header, cookie or query")
		}
		if r.Name == "" {
			fe.Add(f+"name", "is required")
		} else if r.Kind != RuleQuery && !headerNameRe.MatchString(r.Name) {
			fe.Add(f+"name", "must be a header or cookie name")
		} else if len(r.Name) > 256 {
			fe.Add(f+"name", "must be at most 256 characters")
		}
		switch r.Op {
		case "", RuleEquals:
			if r.Value == "" {
				fe.Add(f+"value", "is required")
			}
		case RuleMatches:
			if r.Value == "" {
				fe.Add(f+"value", "is required")
			} else if _, err := regexp.Compile(r.Value); err != nil {
				fe.Add(f+"value", "is not a valid regular expression: %v", err)
			}
		default:
			fe.Add(f+"op", "must be equals or matches")
		}
	}
	if _, _, ok := ParseHashOn(hashOn); !ok {
		fe.Add(prefix+"hash_on", "must be header:NAME, cookie:NAME or ip")
	}
	seen := map[string]bool{}
	for i, name := range routes {
		f := fmt.Sprintf("%sroutes[%d]", prefix, i)
		switch {
		case !routeNameRe.MatchString(name):
			fe.Add(f, "is not a route name")
		case seen[name]:
			fe.Add(f, "is listed twice")
		}
		seen[name] = true
	}
	return fe
}

// AppliesTo reports whether the canary covers the route named name.
func (c *CanaryRoute) AppliesTo(name string) bool {
	if len(c.Routes) == 0 {
		return true
	}
	for _, r := range c.Routes {
		if r == name {
			return true
		}
	}
	return false
}

// What an upstream's consistent hash (load_balancer chash) keys on:
// hash_on "ip" (the default), "uri", "consumer", or "header:NAME",
// "cookie:NAME", "query:NAME".
const (
	HashIP       = "ip"
	HashURI      = "uri"
	HashConsumer = "consumer"
	HashHeader   = RuleHeader
	HashCookie   = RuleCookie
	HashQuery    = "query"
)

// ParseUpstreamHashOn splits an upstream's hash_on into its kind and name.
func ParseUpstreamHashOn(s string) (kind, name string, ok bool) {
	switch s {
	case "", HashIP:
		return HashIP, "", true
	case HashURI, HashConsumer:
		return s, "", true
	}
	kind, name, found := strings.Cut(s, ":")
	if !found || (kind != HashHeader && kind != HashCookie && kind != HashQuery) || !headerNameRe.MatchString(name) {
		return "", "", false
	}
	return kind, name, true
}
