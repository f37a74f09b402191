package routing

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/spec"
)

// Builders of snapshots: a test names only what it is about.

func snapshot(groups ...spec.GroupSnapshot) *spec.Snapshot {
	return &spec.Snapshot{Revision: 7, Groups: groups}
}

func group(name, prefix string, svcs ...spec.DeployedService) spec.GroupSnapshot {
	return spec.GroupSnapshot{Group: spec.GatewayGroup{Name: name, PathPrefix: prefix}, Services: svcs}
}

func deployed(project, name, path string, routes ...spec.Route) spec.DeployedService {
	return spec.DeployedService{
		ProjectID: project,
		Version:   "1.0.0",
		Service:   spec.Service{ID: name + "-id", Name: name, Path: path, Routes: routes},
		Upstream:  spec.Upstream{Nodes: []spec.Node{{Host: "127.0.0.1", Port: 8080, Weight: 1}}},
	}
}

func route(name string, paths ...string) spec.Route {
	return spec.Route{ID: name + "-id", Name: name, Paths: paths}
}

func withMethods(r spec.Route, m ...string) spec.Route { r.Methods = m; return r }
func withHosts(r spec.Route, h ...string) spec.Route   { r.Hosts = h; return r }
func offline(r spec.Route) spec.Route                  { f := false; r.Online = &f; return r }
func withBackend(r spec.Route, b spec.Backend) spec.Route {
	r.Backend = &b
	return r
}

func withPlugins(r spec.Route, p map[string]string) spec.Route {
	r.Plugins = pluginsOf(p)
	return r
}

func pluginsOf(p map[string]string) spec.Plugins {
	out := spec.Plugins{}
	for k, v := range p {
		out[k] = json.RawMessage(v)
	}
	return out
}

func mustBuild(t testing.TB, snap *spec.Snapshot) *Table {
	t.Helper()
	tbl, err := Build(snap, Deps{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return tbl
}

// fieldErrors returns the FieldErrors of err, failing when it is something
// else.
func fieldErrors(t *testing.T, err error) spec.FieldErrors {
	t.Helper()
	var fe spec.FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not spec.FieldErrors", err, err)
	}
	return fe
}

func fields(fe spec.FieldErrors) []string {
	out := make([]string, len(fe))
	for i, e := range fe {
		out[i] = e.Field
	}
	slices.Sort(out)
	return out
}

// lookup returns the matched route (or nil), the allow list and the
// upstream path it would send.
func lookup(tbl *Table, host, method, path string) (rt *Route, allow, upstreamPath string) {
	var ps match.Params
	rt, allow, ok := tbl.Lookup(host, method, path, &ps)
	if !ok {
		return nil, allow, ""
	}
	return rt, allow, rt.UpstreamPath(path, &ps)
}
