package routing

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// answers is what a table answers for a set of requests: the route (by
// service and route name), the allow list and the upstream path.
func answers(tbl *Table, probes [][3]string) []string {
	out := make([]string, len(probes))
	for i, p := range probes {
		rt, allow, up := lookup(tbl, p[0], p[1], p[2])
		if rt == nil {
			out[i] = "miss allow=" + allow
			continue
		}
		out[i] = fmt.Sprintf("%s/%s/%s -> %s", rt.Info.Group, rt.Info.ServiceName, rt.Info.RouteName, up)
	}
	return out
}

// TestUpdateAnswersAsBuild: a table updated by deltas answers every
// request exactly as a table built from the resulting snapshot, and the
// table it started from answers as before.
func TestUpdateAnswersAsBuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 15))
	svc := func(n, variant int) spec.DeployedService {
		ds := deployed("p", fmt.Sprintf("s%d", n), fmt.Sprintf("/s%d", n),
			route("list", "/items"),
			withMethods(route("get", "/items/{id}"), "GET"),
			route(fmt.Sprintf("v%d", variant), fmt.Sprintf("/v%d/*", variant)))
		if variant%3 == 0 {
			ds.Service.Routes[0] = offline(ds.Service.Routes[0])
		}
		if variant%4 == 1 {
			ds.Service.Routes[1] = withHosts(ds.Service.Routes[1], "api.example.com")
		}
		return ds
	}
	var probes [][3]string
	for n := range 40 {
		for v := range 6 {
			probes = append(probes,
				[3]string{"x", "GET", fmt.Sprintf("/p/s%d/items", n)},
				[3]string{"api.example.com", "GET", fmt.Sprintf("/p/s%d/items/9", n)},
				[3]string{"x", "POST", fmt.Sprintf("/p/s%d/items/9", n)},
				[3]string{"x", "GET", fmt.Sprintf("/p/s%d/v%d/deep/er", n, v)})
		}
	}
	snap := snapshot(group("g", "/{project}"))
	snap.Revision = 1
	for n := range 20 {
		snap.Groups[0].Services = append(snap.Groups[0].Services, svc(n, 0))
	}
	tbl := mustBuild(t, snap)
	for step := range 60 {
		before := answers(tbl, probes)
		d := &spec.SnapshotDelta{Base: snap.Revision, Revision: snap.Revision + 1 + int64(rng.IntN(3)),
			Groups: []spec.GroupDelta{{Group: snap.Groups[0].Group}}}
		for range 1 + rng.IntN(3) {
			n := rng.IntN(40)
			if rng.IntN(4) == 0 {
				d.Groups[0].Removed = append(d.Groups[0].Removed, fmt.Sprintf("s%d-id", n))
			} else if !containsService(d.Groups[0].Services, n) && !slicesContains(d.Groups[0].Removed, fmt.Sprintf("s%d-id", n)) {
				d.Groups[0].Services = append(d.Groups[0].Services, svc(n, 1+rng.IntN(5)))
			}
		}
		next, err := tbl.Update(d, Deps{})
		if err != nil {
			t.Fatalf("step %d: Update: %v", step, err)
		}
		if err := snap.ApplyDelta(d); err != nil {
			t.Fatal(err)
		}
		want := answers(mustBuild(t, snap), probes)
		got := answers(next, probes)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("step %d: %v answered %q, a table built from the snapshot %q", step, probes[i], got[i], want[i])
			}
		}
		if after := answers(tbl, probes); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("step %d: the table updated from changed its answers", step)
		}
		if next.Len() != mustBuild(t, snap).Len() || next.Revision != d.Revision {
			t.Fatalf("step %d: Len %d revision %d, want %d and %d", step, next.Len(), next.Revision, mustBuild(t, snap).Len(), d.Revision)
		}
		tbl = next
	}
}

func containsService(list []spec.DeployedService, n int) bool {
	for _, ds := range list {
		if ds.Service.ID == fmt.Sprintf("s%d-id", n) {
			return true
		}
	}
	return false
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestUpdateRefuses: a delta that does not fit the table asks for the
// whole snapshot; one that does not compile is refused like a snapshot,
// naming the field; the table it started from is untouched either way.
func TestUpdateRefuses(t *testing.T) {
	base := snapshot(group("g", "", deployed("p", "a", "/a", route("r", "/r")),
		deployed("p", "auth", "/auth", withPlugins(route("t", "/t"), map[string]string{"oauth2": `{"token_ttl": 60}`}))))
	tbl := mustBuild(t, base)
	gd := func(prefix string, svcs ...spec.DeployedService) []spec.GroupDelta {
		return []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "g", PathPrefix: prefix}, Services: svcs}}
	}
	cases := []struct {
		name  string
		delta spec.SnapshotDelta
		whole bool // ErrNeedsSnapshot; else FieldErrors on field
		field string
	}{
		{"another base", spec.SnapshotDelta{Base: 3, Revision: 9, Groups: gd("")}, true, ""},
		{"a group it does not serve", spec.SnapshotDelta{Base: 7, Revision: 8,
			Groups: []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "other"}}}}, true, ""},
		{"the group's prefix changed", spec.SnapshotDelta{Base: 7, Revision: 8, Groups: gd("/x")}, true, ""},
		{"an oauth2 service changes", spec.SnapshotDelta{Base: 7, Revision: 8, Groups: []spec.GroupDelta{{
			Group: spec.GatewayGroup{Name: "g"}, Removed: []string{"auth-id"}}}}, true, ""},
		{"a service starts running oauth2", spec.SnapshotDelta{Base: 7, Revision: 8, Groups: gd("",
			deployed("p", "a", "/a", withPlugins(route("r", "/r"), map[string]string{"oauth2": `{"token_ttl": 60}`})))}, true, ""},
		{"a service claims the token endpoint's path", spec.SnapshotDelta{Base: 7, Revision: 8, Groups: gd("",
			deployed("p", "o", "/oauth2", route("token", "/token")))}, true, ""},
		{"a bad plugin", spec.SnapshotDelta{Base: 7, Revision: 8, Groups: gd("",
			deployed("p", "a", "/a", withPlugins(route("r", "/r"), map[string]string{"no-such": `{}`})))}, false,
			"services[a].routes[r].plugins.no-such"},
		{"a route another service holds", spec.SnapshotDelta{Base: 7, Revision: 8, Groups: gd("",
			deployed("p", "b", "/a", route("r", "/r")))}, false, "services[b].routes[r].paths"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := tbl.Update(&c.delta, Deps{})
			switch {
			case c.whole && !errors.Is(err, ErrNeedsSnapshot):
				t.Fatalf("Update = %v, want ErrNeedsSnapshot", err)
			case !c.whole:
				if got := fields(fieldErrors(t, err)); len(got) != 1 || got[0] != c.field {
					t.Fatalf("refused on %v, want %s", got, c.field)
				}
			}
			if rt, _, _ := lookup(tbl, "x", "GET", "/a/r"); rt == nil || rt.Info.ServiceName != "a" {
				t.Fatalf("the table updated from lost its route: %v", rt)
			}
		})
	}
}

// TestValidateServices: the control plane's check of one service compiles
// it as Build would, with the data sources given.
func TestValidateServices(t *testing.T) {
	g := spec.GatewayGroup{Name: "g"}
	ok := deployed("p", "a", "/a", route("r", "/r"), route("s", "/s"))
	if err := ValidateServices(&spec.GroupSnapshot{Group: g, Services: []spec.DeployedService{ok}}); err != nil {
		t.Fatalf("a good service: %v", err)
	}
	twice := deployed("p", "a", "/a", route("r", "/r"), route("s", "/r"))
	if got := fields(fieldErrors(t, ValidateServices(&spec.GroupSnapshot{Group: g, Services: []spec.DeployedService{twice}}))); len(got) != 1 || got[0] != "services[a].routes[s].paths" {
		t.Fatalf("two routes on one path refused on %v", got)
	}
	sql := deployed("p", "a", "/a", withBackend(route("q", "/q"), spec.Backend{Type: "sql",
		SQLBackend: &spec.SQLBackend{DataSource: "ds1", SQL: "SELECT 1"}}))
	if got := fields(fieldErrors(t, ValidateServices(&spec.GroupSnapshot{Group: g, Services: []spec.DeployedService{sql}}))); len(got) != 1 || got[0] != "services[a].routes[q].backend.data_source" {
		t.Fatalf("a sql route without its data source refused on %v", got)
	}
	if err := ValidateServices(&spec.GroupSnapshot{Group: g, DataSources: []spec.DataSource{{ID: "ds1", Type: "mysql"}}, Services: []spec.DeployedService{sql}}); err != nil {
		t.Fatalf("a sql route with its data source: %v", err)
	}
}
