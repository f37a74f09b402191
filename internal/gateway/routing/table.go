// Package routing compiles a config snapshot into an immutable routing
// table: routes matched by host, method and path, each with its plugin
// chain and backend already built. A table is never modified after Build;
// gateways swap whole tables. A change confined to some services is
// compiled into the next table by Update, which compiles only those
// services and shares everything else with the table it starts from.
package routing

import (
	"github.com/portico-gw/portico/internal/gateway/accesslog"
	"net/http"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/oauth2"
	"github.com/portico-gw/portico/internal/gateway/plugin/quota"
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
	certs  *certIndex       // what the TLS listener serves (certificates.go)
	// streamServices are the compiled routes of the stream services by
	// group and service (streamKey), streams their index by listener
	// (stream.go); both few, rebuilt whole when one changes.
	streamServices map[string][]*StreamRoute
	streams        streamIndex
	quotas         *quota.Registry // the counts of plan quotas (quotas.go)
	// selectors are how requests name the versions routed by header or
	// query beside services' own (versions.go); nil: none is.
	selectors []*versionSelector
}

// Route is one compiled route: everything a request needs, built once. A
// large table holds a hundred thousand and more, so a route is 64 bytes:
// what many routes do without (plugins, a canary, a backend rewrite) is
// behind pointers, and the routes of a service without their own backend
// settings share one routeMore.
type Route struct {
	Info plugin.RouteInfo
	// Upstream is the current (stable) side; Pick chooses between it and a
	// canary's target.
	Upstream *upstream.Pool
	filters  *chain     // nil: no plugin runs
	more     *routeMore // nil: nothing of it
}

// chain is a route's plugins, compiled.
type chain struct {
	request  []plugin.RequestFilter  // in the documented plugin order
	response []plugin.ResponseFilter // run on the backend's response
	// names are the plugins of request, one each, for trace spans ("" for
	// a filter added without one: tests, the token endpoint).
	names []string
	// log is the route's access-log policy (the access-log plugin); nil
	// logs every request.
	log *accesslog.Policy
}

// routeMore is how a route reaches its backend, beyond its upstream.
type routeMore struct {
	// stripPrefix is the group's path prefix, which the backend never
	// sees: environments share one backend path space.
	stripPrefix string
	// backendMethod, when set, replaces the client's method upstream.
	backendMethod string
	rewrite       *pathTemplate
	canary        *canary // nil: no canary release on this route
	// listener is the service's protocols: 0 both, onlyHTTP or
	// onlyHTTPS; redirect the status that sends a plain request of an
	// HTTPS-only service to HTTPS (0: 426 instead).
	listener uint8
	redirect int
	// retryNonIdempotent lets retries resend a request whatever its
	// method (the backend's retry_non_idempotent).
	retryNonIdempotent bool
	// selector, on the default version's routes of a service that runs
	// other versions named by a header or query parameter, says where a
	// request naming another version is looked up (versions.go).
	selector *versionSelector
}

const (
	onlyHTTP uint8 = 1 + iota
	onlyHTTPS
)

// Over says whether the route serves a request that came over TLS (tls)
// or not; when it does not, status is the answer: 404 on the other
// listener, 426 asking for HTTPS, or the status of a redirect to HTTPS.
func (rt *Route) Over(tls bool) (ok bool, status int) {
	if rt.more == nil {
		return true, 0
	}
	switch m := rt.more; {
	case m.listener == onlyHTTP && tls:
		return false, http.StatusNotFound
	case m.listener == onlyHTTPS && !tls && m.redirect != 0:
		return false, m.redirect
	case m.listener == onlyHTTPS && !tls:
		return false, http.StatusUpgradeRequired
	}
	return true, 0
}

// RequestFilters are the route's request plugins, in the documented order.
func (rt *Route) RequestFilters() []plugin.RequestFilter {
	if rt.filters == nil {
		return nil
	}
	return rt.filters.request
}

// RequestFilterName is the plugin name of RequestFilters()[i], for trace
// spans ("plugin" when it has none).
func (rt *Route) RequestFilterName(i int) string {
	if rt.filters == nil || i >= len(rt.filters.names) || rt.filters.names[i] == "" {
		return "plugin"
	}
	return rt.filters.names[i]
}

// AccessLog is the route's access-log policy; nil: every request is
// logged, without bodies.
func (rt *Route) AccessLog() *accesslog.Policy {
	if rt == nil || rt.filters == nil {
		return nil
	}
	return rt.filters.log
}

// ResponseFilters run on the backend's response, in order.
func (rt *Route) ResponseFilters() []plugin.ResponseFilter {
	if rt.filters == nil {
		return nil
	}
	return rt.filters.response
}

// AddRequestFilter runs f after the route's request plugins. Only while a
// table is built (and by tests, before the table serves).
func (rt *Route) AddRequestFilter(f plugin.RequestFilter) { rt.addRequestFilter("", f) }

// addRequestFilter adds f under its plugin's name.
func (rt *Route) addRequestFilter(name string, f plugin.RequestFilter) {
	if rt.filters == nil {
		rt.filters = &chain{}
	}
	rt.filters.request = append(rt.filters.request, f)
	rt.filters.names = append(rt.filters.names, name)
}

// AddResponseFilter runs f after the route's response filters. Only while
// a table is built (and by tests, before the table serves).
func (rt *Route) AddResponseFilter(f plugin.ResponseFilter) {
	if rt.filters == nil {
		rt.filters = &chain{}
	}
	rt.filters.response = append(rt.filters.response, f)
}

// prependResponseFilter runs f before the route's response filters.
func (rt *Route) prependResponseFilter(f plugin.ResponseFilter) {
	rt.AddResponseFilter(nil)
	rs := rt.filters.response
	copy(rs[1:], rs)
	rs[0] = f
}

// StripPrefix is the group's path prefix, which the backend never sees.
func (rt *Route) StripPrefix() string {
	if rt.more == nil {
		return ""
	}
	return rt.more.stripPrefix
}

// RetryNonIdempotent reports whether retries may resend a request whose
// method is not idempotent.
func (rt *Route) RetryNonIdempotent() bool {
	return rt.more != nil && rt.more.retryNonIdempotent
}

// BackendMethod is the method sent upstream instead of the client's
// ("": the client's).
func (rt *Route) BackendMethod() string {
	if rt.more == nil {
		return ""
	}
	return rt.more.backendMethod
}

func (rt *Route) canary() *canary {
	if rt.more == nil {
		return nil
	}
	return rt.more.canary
}

func (rt *Route) rewrite() *pathTemplate {
	if rt.more == nil {
		return nil
	}
	return rt.more.rewrite
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
	if rw := rt.rewrite(); rw != nil {
		return rw.expand(ps)
	}
	strip := rt.StripPrefix()
	if strip == "" {
		return path
	}
	p := strings.TrimPrefix(path, strip)
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	return p
}

// HasRewrite reports whether the route rewrites the upstream path.
func (rt *Route) HasRewrite() bool { return rt.rewrite() != nil }
