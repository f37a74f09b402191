// Package routing compiles a config snapshot into an immutable routing
// table: routes matched by host, method and path, each with its plugin
// chain and backend already built. A table is never modified after Build;
// gateways swap whole tables. A change confined to some services is
// compiled into the next table by Update, which compiles only those
// services and shares everything else with the table it starts from.
package routing

import (
	"strings"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/oauth2"
	"github.com/portico-gw/portico/internal/gateway/upstream"
)

// Table is the compiled configuration of a gateway at one revision.
type Table struct {
	Revision int64
	matcher  *match.Matcher[*Route]
	routes   int
	// groups keep what each group's services added to the matcher, so
	// Update can take a changed service out; never modified once built.
	groups map[string]*groupPart
	tokens *oauth2.Endpoint // the token endpoint of the build (oauth2.go)
}

// Route is one compiled route: everything a request needs, built once.
type Route struct {
	Info     plugin.RouteInfo
	Request  []plugin.RequestFilter  // in the documented plugin order
	Response []plugin.ResponseFilter // run on the backend's response
	// Upstream is the current (stable) side; Pick chooses between it and a
	// canary's target.
	Upstream *upstream.Pool
	// StripPrefix is the group's path prefix, which the backend never sees:
	// environments share one backend path space.
	StripPrefix string
	// BackendMethod, when set, replaces the client's method upstream.
	BackendMethod string
	rewrite       *pathTemplate
	canary        *canary // nil: no canary release on this route
}

// Lookup finds the route of a request (host without port, decoded path).
// On a miss allow lists the methods the path answers (405) or is empty (404).
func (t *Table) Lookup(host, method, path string, ps *match.Params) (rt *Route, allow string, ok bool) {
	return t.matcher.Lookup(host, method, path, ps)
}

// Len is the number of (route, path) entries in the table.
func (t *Table) Len() int { return t.routes }

// UpstreamPath is the path sent to the backend for a request that matched
// rt: the backend.path template when the route has one, otherwise the
// request path without the group prefix.
func (rt *Route) UpstreamPath(path string, ps *match.Params) string {
	if rt.rewrite != nil {
		return rt.rewrite.expand(ps)
	}
	if rt.StripPrefix == "" {
		return path
	}
	p := strings.TrimPrefix(path, rt.StripPrefix)
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	return p
}

// HasRewrite reports whether the route rewrites the upstream path.
func (rt *Route) HasRewrite() bool { return rt.rewrite != nil }
