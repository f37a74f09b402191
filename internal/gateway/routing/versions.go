package routing

import (
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// Version routing: a deployed service may run other versions beside its
// own (the default), each compiled like a service of its own. By path a
// version's routes answer under its segment after the service's path,
// and the matcher tells them apart like any routes. By header or query
// they answer at hidden paths (spec.VersionRouting.VersionPaths: a first
// segment no request path can hold, naming the selector and the value),
// and LookupRequest looks a request up there when it names a version:
// the default version's routes carry their selector, and a path only a
// routed version answers is found through the table's selectors. A table
// without header- or query-routed versions looks up exactly as before.

// versionSelector is how requests name the versions of services routed by
// a header or a query parameter.
type versionSelector struct {
	// prefix is the hidden first segment up to the value; it also
	// identifies the selector in the table.
	prefix string
	header bool   // else a query parameter
	name   string // the header or query parameter
	// defaultMatch names the default version (on a default route's
	// selector only; the table's selectors leave it empty).
	defaultMatch string
}

// Request is what LookupRequest reads of a request to choose a version.
// The engines' request states implement it.
type Request interface {
	Header(name string) string
	Query(name string) string
}

func (s *versionSelector) value(r Request) string {
	if s.header {
		return r.Header(s.name)
	}
	return r.Query(s.name)
}

// LookupRequest is Lookup choosing among a service's versions: a request
// that names a version another than the default by its service's header or
// query parameter gets that version's route, or none when that version
// has no route there (404, or 405 with what it allows).
func (t *Table) LookupRequest(r Request, host, method, path string, ps *match.Params) (rt *Route, allow string, ok bool) {
	rt, allow, ok = t.matcher.Lookup(host, method, path, ps)
	if len(t.selectors) == 0 {
		return rt, allow, ok
	}
	if ok {
		sel := rt.versionSelector()
		if sel == nil {
			return rt, allow, ok
		}
		v := sel.value(r)
		if v == "" || v == sel.defaultMatch {
			return rt, allow, ok
		}
		return t.matcher.Lookup(host, method, sel.prefix+v+path, ps)
	}
	for _, sel := range t.selectors {
		v := sel.value(r)
		if v == "" {
			continue
		}
		if vrt, vallow, vok := t.matcher.Lookup(host, method, sel.prefix+v+path, ps); vok || vallow != "" {
			return vrt, vallow, vok
		}
	}
	return t.matcher.Lookup(host, method, path, ps) // the miss as it was, its parameters too
}

func (rt *Route) versionSelector() *versionSelector {
	if rt.more == nil {
		return nil
	}
	return rt.more.selector
}

// versionCompile is how addVersion places one version of a service: the
// default one (match empty) or a routed one. A nil *versionCompile is a
// service that runs one version.
type versionCompile struct {
	routing  *spec.VersionRouting
	match    string           // the routed version's value or segment; "" for the default
	selector *versionSelector // the default's routes' selector (by header or query)
}

func (vc *versionCompile) label(name, version string) string {
	if vc == nil || vc.match == "" {
		return name
	}
	return name + "@" + version
}

func (vc *versionCompile) defaultSelector() *versionSelector {
	if vc == nil || vc.match != "" {
		return nil
	}
	return vc.selector
}

func (vc *versionCompile) paths(groupPrefix, project string, svc *spec.Service, r *spec.Route) []string {
	if vc == nil || vc.match == "" {
		return spec.RoutePaths(groupPrefix, project, svc, r)
	}
	return vc.routing.VersionPaths(groupPrefix, project, svc, r, vc.match)
}

// addService adds a deployed service: its own version, then each version
// routed beside it, as one servicePart.
func addService(b *match.Builder[*Route], fe *spec.FieldErrors, deps Deps, g spec.GatewayGroup, ds *spec.DeployedService) *servicePart {
	vr := ds.VersionRouting
	if vr == nil || len(ds.Versions) == 0 {
		return addVersion(b, fe, deps, g, ds, nil)
	}
	var sel *versionSelector
	if vr.By != spec.VersionByPath {
		sel = &versionSelector{prefix: vr.SelectorPrefix(), header: vr.By == spec.VersionByHeader, name: vr.Name,
			defaultMatch: vr.DefaultMatchOf(ds.Version)}
	}
	sp := addVersion(b, fe, deps, g, ds, &versionCompile{routing: vr, selector: sel})
	if sel != nil {
		sp.selector = &versionSelector{prefix: sel.prefix, header: sel.header, name: sel.name}
	}
	paths := []string{sp.paths}
	for vi := range ds.Versions {
		dv := &ds.Versions[vi]
		// A routed version is served as a service of its own, sharing
		// the default's proxy-cache purges; a canary runs on the default
		// version only.
		vds := &spec.DeployedService{ProjectID: ds.ProjectID, Version: dv.Version, Service: dv.Service, Upstream: dv.Upstream, Cache: ds.Cache}
		vsp := addVersion(b, fe, deps, g, vds, &versionCompile{routing: vr, match: dv.Match})
		if vsp.added > 0 {
			paths = append(paths, vsp.paths)
		}
		sp.added += vsp.added
		sp.versions = append(sp.versions, vsp.service)
		sp.oauth2 = sp.oauth2 || vsp.oauth2
	}
	sp.paths = strings.Join(slices.DeleteFunc(paths, func(p string) bool { return p == "" }), pathSep)
	return sp
}

// owns reports whether a route of the matcher belongs to the service part
// (its own version or a routed one).
func (sp *servicePart) owns(info *plugin.ServiceInfo) bool {
	return info == sp.service || slices.Contains(sp.versions, info)
}

// tableSelectors are the distinct selectors of the groups' services, for
// LookupRequest's search of a path only a routed version answers.
func tableSelectors(groups map[string]*groupPart) []*versionSelector {
	var out []*versionSelector
	for _, gp := range groups {
		if gp.services == nil {
			continue
		}
		for _, sel := range gp.services.selectors {
			if !slices.ContainsFunc(out, func(s *versionSelector) bool { return s.prefix == sel.prefix }) {
				out = append(out, sel)
			}
		}
	}
	slices.SortFunc(out, func(a, b *versionSelector) int { return strings.Compare(a.prefix, b.prefix) })
	return out
}
