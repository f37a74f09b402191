package routing

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/compose"
	"github.com/portico-gw/portico/internal/spec"
)

// Call targets: a composite backend's step names an API of its group by
// service name and route name, and is resolved when it is called, against
// the table served then, so a composite never holds an address a later
// publish made stale. Each servicePart keeps its routes' targets in one
// string (calls), and serviceParts index services by project and name in
// shards, the way they index them by id: an update copies the shards of
// the services it changes, never the whole group.

// A servicePart's calls are the start its routes' paths share (group
// prefix and service path, as spec.RoutePaths joins them), then each
// route as "\x00name\x01methods\x01hosts\x01paths", its lists joined by
// "\x02" and its paths without that start: a few bytes a route. Routing
// refuses NUL in paths; a route whose fields hold any of these bytes is
// left out (appendTarget).
const (
	targetRoute = "\x00"
	targetField = "\x01"
	targetList  = "\x02"
)

// appendTarget adds a route's target to a service's calls.
func appendTarget(b *strings.Builder, r *spec.Route, hosts []string) {
	paths := r.Paths
	if len(paths) == 0 {
		paths = []string{"/" + r.Name} // as spec.RoutePaths
	}
	for _, f := range [][]string{{r.Name}, r.Methods, hosts, paths} {
		for _, s := range f {
			if strings.ContainsAny(s, targetRoute+targetField+targetList) {
				return
			}
		}
	}
	b.WriteString(targetRoute)
	b.WriteString(r.Name)
	b.WriteString(targetField)
	b.WriteString(strings.Join(r.Methods, targetList))
	b.WriteString(targetField)
	b.WriteString(strings.Join(hosts, targetList))
	b.WriteString(targetField)
	b.WriteString(strings.Join(paths, targetList))
}

// findTarget finds route name in calls: its methods, hosts and public
// paths.
func findTarget(calls, name string) (methods, hosts, paths []string, ok bool) {
	prefix, _, _ := strings.Cut(calls, targetRoute)
	key := targetRoute + name + targetField
	i := strings.Index(calls, key)
	if i < 0 {
		return nil, nil, nil, false
	}
	rest := calls[i+len(key):]
	if j := strings.Index(rest, targetRoute); j >= 0 {
		rest = rest[:j]
	}
	f := strings.SplitN(rest, targetField, 3)
	if len(f) != 3 {
		return nil, nil, nil, false
	}
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, targetList)
	}
	paths = split(f[2])
	for i, p := range paths {
		paths[i] = prefix + p
	}
	return split(f[0]), split(f[1]), paths, true
}

// nameKey is a service's key in the name index.
func nameKey(project, name string) string { return project + targetRoute + name }

// partNameKey is sp's key in the name index ("" for a part without a
// service: a stream service's).
func partNameKey(sp *servicePart) string {
	if sp == nil || sp.service == nil {
		return ""
	}
	return nameKey(sp.service.ProjectID, sp.service.ServiceName)
}

// byName is the id of the service named name in project, "" if none runs.
func (s *serviceParts) byName(project, name string) string {
	k := nameKey(project, name)
	return s.names[serviceShard(k)][k]
}

// setName points key at id in the edit's name index.
func (e *serviceEdit) setName(key, id string) {
	i := serviceShard(key)
	if e.copiedNames&(1<<i) == 0 {
		e.s.names[i] = maps.Clone(e.s.names[i])
		if e.s.names[i] == nil {
			e.s.names[i] = map[string]string{}
		}
		e.copiedNames |= 1 << i
	}
	if id == "" {
		delete(e.s.names[i], key)
	} else {
		e.s.names[i][key] = id
	}
}

// renamed keeps the name index right when the part of id changes from
// old (nil: none) to sp (nil: removed).
func (e *serviceEdit) renamed(id string, old, sp *servicePart) {
	was, now := partNameKey(old), partNameKey(sp)
	if was == now {
		return
	}
	if was != "" && e.s.names[serviceShard(was)][was] == id {
		e.setName(was, "")
	}
	if now != "" {
		e.setName(now, id)
	}
}

// CallTarget is where a composite's call of an API goes: the request a
// client would send to reach the route.
type CallTarget struct {
	Method string
	// Path is the decoded path, RawPath its escaped form (the request
	// target without the query).
	Path, RawPath string
	// Host is the Host to send: the route's (or its service's) first
	// host, "" when it answers on any host.
	Host string
	// ServiceID and Route identify the route the request must reach.
	ServiceID, Route string
}

// errNoPathParams says a route's paths need parameters the call did not
// give.
var errNoPathParams = errors.New("no path of the route can be filled with the parameters given")

// ResolveCall finds the route a composite of group and project calls by
// service and route name, and fills its path with params ("*": a
// trailing wildcard). A service that does not run in the group, or has no
// online route of that name, is compose.ErrNotRunning. method "" takes
// the route's first method (GET when it allows any).
func (t *Table) ResolveCall(group, project, service, route, method string, params map[string]string) (CallTarget, error) {
	gp := t.groups[group]
	if gp == nil || gp.services == nil {
		return CallTarget{}, fmt.Errorf("service %s: %w", service, compose.ErrNotRunning)
	}
	id := gp.services.byName(project, service)
	sp := gp.services.get(id)
	if id == "" || sp == nil {
		return CallTarget{}, fmt.Errorf("service %s: %w", service, compose.ErrNotRunning)
	}
	methods, hosts, paths, ok := findTarget(sp.calls, route)
	if !ok {
		return CallTarget{}, fmt.Errorf("route %s of service %s: %w", route, service, compose.ErrNotRunning)
	}
	ct := CallTarget{Method: method, ServiceID: id, Route: route}
	if ct.Method == "" {
		ct.Method = "GET"
		if len(methods) > 0 {
			ct.Method = methods[0]
		}
	}
	if len(hosts) > 0 {
		ct.Host = hosts[0]
		if suffix, wild := strings.CutPrefix(ct.Host, "*."); wild {
			// Any name under the suffix is the route's; the most exact
			// match wins, and the caller checks it was this route.
			ct.Host = "composite." + suffix
		}
	}
	var err error
	for _, p := range paths {
		var perr error
		if ct.Path, ct.RawPath, perr = fillPath(p, params); perr == nil {
			return ct, nil
		}
		if !errors.Is(perr, errNoPathParams) {
			return CallTarget{}, fmt.Errorf("route %s of service %s: %w", route, service, perr)
		}
		err = perr
	}
	if err == nil {
		err = errors.New("the route has no path")
	}
	return CallTarget{}, fmt.Errorf("route %s of service %s: %w (it answers on %s)", route, service, err, strings.Join(paths, ", "))
}

// fillPath fills a route path's {param} (or :param) segments and its
// trailing wildcard from params, each value escaped as one segment (the
// wildcard's segment by segment): a value can never add or climb a
// segment. A missing parameter is errNoPathParams; a value the request
// policy would refuse or read as a dot segment is an error of its own.
func fillPath(pattern string, params map[string]string) (path, raw string, err error) {
	if !strings.HasPrefix(pattern, "/") {
		return "", "", fmt.Errorf("path %q does not start with /", pattern)
	}
	var dec, esc strings.Builder
	segs := strings.Split(pattern[1:], "/")
	for i, s := range segs {
		dec.WriteByte('/')
		esc.WriteByte('/')
		switch {
		case i == len(segs)-1 && strings.HasSuffix(s, "*"):
			pre := strings.TrimSuffix(s, "*")
			dec.WriteString(pre)
			esc.WriteString(url.PathEscape(pre))
			rest := params["*"]
			for j, v := range strings.Split(rest, "/") {
				if j > 0 {
					dec.WriteByte('/')
					esc.WriteByte('/')
				}
				if err := checkSegment("*", v, true); err != nil {
					return "", "", err
				}
				dec.WriteString(v)
				esc.WriteString(url.PathEscape(v))
			}
		case len(s) > 2 && s[0] == '{' && s[len(s)-1] == '}', len(s) > 1 && s[0] == ':':
			name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, ":"), "{"), "}")
			v, ok := params[name]
			if !ok {
				return "", "", fmt.Errorf("parameter %s is not given: %w", name, errNoPathParams)
			}
			if err := checkSegment(name, v, false); err != nil {
				return "", "", err
			}
			dec.WriteString(v)
			esc.WriteString(url.PathEscape(v))
		default:
			dec.WriteString(s)
			esc.WriteString(url.PathEscape(s))
		}
	}
	return dec.String(), esc.String(), nil
}

// checkSegment refuses a path parameter's value that is not one segment
// the request policy (reqpolicy.Normalize) keeps as it is: empty (for a
// parameter), a dot segment, or holding '/', '\', ';' or a control byte.
// wild allows an empty segment inside a wildcard's value.
func checkSegment(name, v string, wild bool) error {
	switch {
	case v == "" && !wild:
		return fmt.Errorf("path parameter %s is empty", name)
	case v == "." || v == "..":
		return fmt.Errorf("path parameter %s holds a dot segment (%q)", name, v)
	}
	if i := strings.IndexFunc(v, func(r rune) bool { return r == '/' || r == '\\' || r == ';' || r < 0x20 || r == 0x7f }); i >= 0 {
		return fmt.Errorf("path parameter %s holds %q, which a path segment may not", name, v[i:i+1])
	}
	return nil
}

// isDefault reports whether vc places a service's default version (or
// its only one): the version a composite's call reaches by name.
func (vc *versionCompile) isDefault() bool { return vc == nil || vc.match == "" }

// routeTargetHosts are the hosts a route answers on: its own, else its
// service's.
func routeTargetHosts(svc *spec.Service, r *spec.Route) []string {
	if len(r.Hosts) > 0 {
		return r.Hosts
	}
	return svc.Hosts
}
