package release

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Conflict is a route of one service that would answer the same host,
// method and path as a route of another service in the same group.
type Conflict struct {
	Group   string `json:"group"`
	Path    string `json:"path"`   // the public path pattern both answer
	Method  string `json:"method"` // methods both answer: "GET", "GET, POST" or "any method"
	Host    string `json:"host,omitempty"`
	Service string `json:"service"` // the service being released
	Route   string `json:"route"`
	// The service already answering there.
	OtherProject string `json:"other_project"`
	OtherService string `json:"other_service"`
	OtherRoute   string `json:"other_route"`
}

func (c Conflict) String() string {
	host := ""
	if c.Host != "" {
		host = " on host " + c.Host
	}
	return fmt.Sprintf("route %q of service %q would answer %s %s%s in group %q, which route %q of service %q (project %q) answers",
		c.Route, c.Service, c.Method, c.Path, host, c.Group, c.OtherRoute, c.OtherService, c.OtherProject)
}

// ConflictError refuses a release whose routes collide with another
// service's. It wraps store.ErrConflict (HTTP 409).
type ConflictError struct {
	Conflicts []Conflict
}

func (e *ConflictError) Error() string {
	parts := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		parts[i] = c.String()
	}
	return strings.Join(parts, "; ")
}

func (e *ConflictError) Unwrap() error { return store.ErrConflict }

// routeKey is one public path of one route, as the collision check sees it.
type routeKey struct {
	svc     *spec.DeployedService
	route   *spec.Route
	path    string
	methods []string
	hosts   []string
}

// snapshotConflicts finds routes of different services that answer the same
// requests: the same public path pattern (parameter names do not count:
// /pets/{id} and /pets/{pid} collide), an overlapping method set (none means
// all) and an overlapping host set (none means all). Commit runs it on the
// snapshot it is about to validate, so the answer is a *ConflictError
// (wrapping store.ErrConflict, HTTP 409) or nil. With focus set, only
// collisions involving that service (by id) are reported; otherwise all of
// them.
func snapshotConflicts(snap *spec.Snapshot, focus string) error {
	var out []Conflict
	for gi := range snap.Groups {
		gs := &snap.Groups[gi]
		byShape := map[string][]routeKey{}
		var shapes []string
		for si := range gs.Services {
			for _, k := range serviceKeys(gs.Group, &gs.Services[si]) {
				shape := pathShape(k.path)
				if _, ok := byShape[shape]; !ok {
					shapes = append(shapes, shape)
				}
				byShape[shape] = append(byShape[shape], k)
			}
		}
		reported := map[[2]*spec.Route]bool{}
		for _, shape := range shapes {
			keys := byShape[shape]
			for i := range keys {
				for j := i + 1; j < len(keys); j++ {
					a, b := keys[i], keys[j]
					if a.svc.Service.ID == b.svc.Service.ID {
						continue // within one service the compiler reports it
					}
					if focus != "" && b.svc.Service.ID == focus {
						a, b = b, a
					}
					if focus != "" && a.svc.Service.ID != focus {
						continue
					}
					if reported[[2]*spec.Route{a.route, b.route}] {
						continue
					}
					method, ok := methodsOverlap(a.methods, b.methods)
					if !ok {
						continue
					}
					host, ok := keyHostsOverlap(a.path, a.hosts, b.hosts)
					if !ok {
						continue
					}
					reported[[2]*spec.Route{a.route, b.route}] = true
					out = append(out, Conflict{
						Group: gs.Group.Name, Path: a.path, Method: method, Host: host,
						Service: a.svc.Service.Name, Route: a.route.Name,
						OtherProject: b.svc.ProjectID, OtherService: b.svc.Service.Name, OtherRoute: b.route.Name,
					})
				}
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return &ConflictError{Conflicts: out}
}

// serviceKeys are the public paths of the service's online routes in the
// group, one per route and path shape, with the methods and hosts each
// answers.
func serviceKeys(g spec.GatewayGroup, ds *spec.DeployedService) []routeKey {
	out := versionKeys(ds, &ds.Service, func(r *spec.Route) []string {
		return spec.RoutePaths(g.PathPrefix, ds.ProjectID, &ds.Service, r)
	})
	// The versions routed beside the default one answer at their own
	// paths (a path segment, or hidden paths of the header or query
	// value), which other services' routes may collide with too.
	for vi := range ds.Versions {
		dv := &ds.Versions[vi]
		out = append(out, versionKeys(ds, &dv.Service, func(r *spec.Route) []string {
			return ds.VersionRouting.VersionPaths(g.PathPrefix, ds.ProjectID, &dv.Service, r, dv.Match)
		})...)
	}
	return append(out, streamKeys(ds)...)
}

// versionKeys are the online routes of svc (ds's service as one of its
// versions) at the paths paths gives.
func versionKeys(ds *spec.DeployedService, svc *spec.Service, paths func(*spec.Route) []string) []routeKey {
	var out []routeKey
	for ri := range svc.Routes {
		r := &svc.Routes[ri]
		if !r.IsOnline() {
			continue
		}
		hosts := r.Hosts
		if len(hosts) == 0 {
			hosts = svc.Hosts
		}
		seen := map[string]bool{}
		for _, p := range paths(r) {
			shape := pathShape(p)
			if seen[shape] {
				continue
			}
			seen[shape] = true
			out = append(out, routeKey{svc: ds, route: r, path: p, methods: r.Methods, hosts: hosts})
		}
	}
	return out
}

// A stream route is compared as a route of path "stream:LISTENER" and
// method TCP (no HTTP path has that shape) whose hosts are its server
// names, or streamDefault for the listener's default route.
const (
	streamPathPrefix = "stream:"
	streamMethod     = "TCP"
	streamDefault    = ""
)

// streamKeys are the stream routes of the service as the collision check
// sees them.
func streamKeys(ds *spec.DeployedService) []routeKey {
	var out []routeKey
	for i := range ds.Service.StreamRoutes {
		sr := &ds.Service.StreamRoutes[i]
		hosts := sr.SNI
		if len(hosts) == 0 {
			hosts = []string{streamDefault}
		}
		out = append(out, routeKey{svc: ds, route: &spec.Route{Name: sr.Name}, path: streamPathPrefix + sr.Listener,
			methods: []string{streamMethod}, hosts: hosts})
	}
	return out
}

// keyHostsOverlap is hostsOverlap for HTTP routes. Stream routes collide
// on the same server name only: an exact name is picked before a wildcard
// covering it, so both can be served.
func keyHostsOverlap(path string, a, b []string) (string, bool) {
	if !strings.HasPrefix(path, streamPathPrefix) {
		return hostsOverlap(a, b)
	}
	for _, x := range a {
		if slices.Contains(b, x) {
			return x, true
		}
	}
	return "", false
}

// pathShape normalises a path pattern: parameter names do not matter, so
// /pets/{id}, /pets/{pid} and /pets/:id have one shape.
func pathShape(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if (len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}') || (len(s) > 1 && s[0] == ':') {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// methodsOverlap reports whether two method lists (empty: all methods)
// share a method, and names the shared ones.
func methodsOverlap(a, b []string) (string, bool) {
	switch {
	case len(a) == 0 && len(b) == 0:
		return "any method", true
	case len(a) == 0:
		return strings.Join(b, ", "), true
	case len(b) == 0:
		return strings.Join(a, ", "), true
	}
	var common []string
	for _, m := range a {
		if slices.Contains(b, m) && !slices.Contains(common, m) {
			common = append(common, m)
		}
	}
	return strings.Join(common, ", "), len(common) > 0
}

// hostsOverlap reports whether two host lists (empty: any host) can answer
// one host, and names it ("" when both answer any host).
func hostsOverlap(a, b []string) (string, bool) {
	switch {
	case len(a) == 0 && len(b) == 0:
		return "", true
	case len(a) == 0:
		return b[0], true
	case len(b) == 0:
		return a[0], true
	}
	for _, x := range a {
		for _, y := range b {
			if h, ok := hostOverlap(strings.ToLower(x), strings.ToLower(y)); ok {
				return h, true
			}
		}
	}
	return "", false
}

// hostOverlap compares two hosts, either of which may be a wildcard
// (*.example.com matches a.example.com and *.a.example.com, not
// example.com); it answers the narrower one.
func hostOverlap(x, y string) (string, bool) {
	if x == y {
		return x, true
	}
	xw, yw := strings.HasPrefix(x, "*."), strings.HasPrefix(y, "*.")
	switch {
	case xw && strings.HasSuffix(y, x[1:]):
		return y, true
	case yw && strings.HasSuffix(x, y[1:]):
		return x, true
	}
	return "", false
}
