package routing

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
)

// goldenSnapshot is one gateway serving two groups: "test" with a per-project
// prefix and "prod" without a prefix. Its lookup table below is the
// behaviour of the gateway's plugins in one place.
func goldenSnapshot() *spec.Snapshot {
	return snapshot(
		group("test", "/t/{project}",
			deployed("shop", "pets", "/pets",
				route("get_pet", "/{id}"),
				route("me", "/me"),
				route("files", "/files/*"),
				route("list_pets"), // no paths: answers on /list_pets
				withMethods(route("create_pet", "/"), "POST"),
			),
		),
		group("prod", "",
			deployed("shop", "pets", "/pets",
				route("get_pet", "/{id}"),
				route("me", "/me"),
				withMethods(route("update", "/{id}/edit"), "PUT", "PATCH"),
				offline(route("hidden", "/hidden")),
				withHosts(route("admin", "/admin"), "admin.example.com"),
				withHosts(route("wild_admin", "/admin"), "*.example.com"),
			),
			deployed("other", "anything", "",
				route("anything", "/anything/*"),
				withBackend(route("rewritten", "/v1/users/{id}/orders/{order}"),
					spec.Backend{Path: "/internal/{order}/by/{id}"}),
				withBackend(route("rewrite_wild", "/legacy/*"), spec.Backend{Path: "/new/{*}"}),
			),
		),
	)
}

func TestBuildGolden(t *testing.T) {
	tbl := mustBuild(t, goldenSnapshot())
	if tbl.Revision != 7 {
		t.Errorf("Revision = %d, want 7", tbl.Revision)
	}
	// 5 test paths (list_pets included) + 5 prod pets paths (hidden is offline) + 3 anything.
	if tbl.Len() != 13 {
		t.Errorf("Len = %d, want 13", tbl.Len())
	}
	tests := []struct {
		name, host, method, path string
		wantGroup, wantRoute     string // "" for a miss
		wantAllow                string
		wantUpstream             string
	}{
		{name: "group prefix with project, param", method: "GET", path: "/t/shop/pets/42",
			wantGroup: "test", wantRoute: "get_pet", wantUpstream: "/pets/42"},
		{name: "exact beats param", method: "GET", path: "/t/shop/pets/me",
			wantGroup: "test", wantRoute: "me", wantUpstream: "/pets/me"},
		{name: "wildcard", method: "GET", path: "/t/shop/pets/files/a/b.txt",
			wantGroup: "test", wantRoute: "files", wantUpstream: "/pets/files/a/b.txt"},
		{name: "route without paths answers on its name", method: "GET", path: "/t/shop/pets/list_pets",
			wantGroup: "test", wantRoute: "list_pets", wantUpstream: "/pets/list_pets"},
		{name: "param beats wildcard one level down", method: "DELETE", path: "/t/shop/pets/files",
			wantGroup: "test", wantRoute: "get_pet", wantUpstream: "/pets/files"},
		{name: "method narrows", method: "POST", path: "/t/shop/pets/",
			wantGroup: "test", wantRoute: "create_pet", wantUpstream: "/pets/"},
		{name: "405 lists allowed methods", method: "GET", path: "/t/shop/pets/", wantAllow: "POST"},
		{name: "other project not served", method: "GET", path: "/t/other/pets/42"},
		{name: "prefix template itself not served", method: "GET", path: "/t/{project}/pets/42"},
		{name: "without prefix the group path is 404", method: "GET", path: "/shop/pets/42"},
		{name: "prod has no prefix", method: "GET", path: "/pets/42",
			wantGroup: "prod", wantRoute: "get_pet", wantUpstream: "/pets/42"},
		{name: "prod exact", method: "GET", path: "/pets/me",
			wantGroup: "prod", wantRoute: "me", wantUpstream: "/pets/me"},
		{name: "prod methods", method: "PATCH", path: "/pets/1/edit",
			wantGroup: "prod", wantRoute: "update", wantUpstream: "/pets/1/edit"},
		{name: "prod 405 allow list in method order", method: "GET", path: "/pets/1/edit", wantAllow: "PUT, PATCH"},
		{name: "offline route falls to param", method: "GET", path: "/pets/hidden",
			wantGroup: "prod", wantRoute: "get_pet", wantUpstream: "/pets/hidden"},
		{name: "exact host", host: "admin.example.com", method: "GET", path: "/pets/admin",
			wantGroup: "prod", wantRoute: "admin", wantUpstream: "/pets/admin"},
		{name: "wildcard host", host: "x.example.com", method: "GET", path: "/pets/admin",
			wantGroup: "prod", wantRoute: "wild_admin", wantUpstream: "/pets/admin"},
		{name: "host narrows: other host falls to param", host: "example.org", method: "GET", path: "/pets/admin",
			wantGroup: "prod", wantRoute: "get_pet", wantUpstream: "/pets/admin"},
		{name: "other project's service in the same group", method: "GET", path: "/anything/x/y",
			wantGroup: "prod", wantRoute: "anything", wantUpstream: "/anything/x/y"},
		{name: "backend path template with params", method: "GET", path: "/v1/users/u1/orders/o9",
			wantGroup: "prod", wantRoute: "rewritten", wantUpstream: "/internal/o9/by/u1"},
		{name: "backend path template with wildcard", method: "GET", path: "/legacy/a/b",
			wantGroup: "prod", wantRoute: "rewrite_wild", wantUpstream: "/new/a/b"},
		{name: "wildcard needs a slash after its prefix", method: "GET", path: "/anything"},
		{name: "not a path", method: "GET", path: "pets/1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt, allow, up := lookup(tbl, tc.host, tc.method, tc.path)
			var gotGroup, gotRoute string
			if rt != nil {
				gotGroup, gotRoute = rt.Info.Group, rt.Info.RouteName
			}
			got := []string{gotGroup, gotRoute, allow, up}
			want := []string{tc.wantGroup, tc.wantRoute, tc.wantAllow, tc.wantUpstream}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Lookup(%q %q %q) [group route allow upstream] (-want +got):\n%s",
					tc.host, tc.method, tc.path, diff)
			}
		})
	}
}

func TestBuildRouteInfo(t *testing.T) {
	tbl := mustBuild(t, goldenSnapshot())
	rt, _, _ := lookup(tbl, "", "GET", "/t/shop/pets/42")
	want := struct{ Group, Project, ServiceID, Service, RouteID, Route, Strip string }{
		"test", "shop", "pets-id", "pets", "get_pet-id", "get_pet", "/t/shop",
	}
	got := want
	got.Group, got.Project, got.ServiceID, got.Service = rt.Info.Group, rt.Info.ProjectID, rt.Info.ServiceID, rt.Info.ServiceName
	got.RouteID, got.Route, got.Strip = rt.Info.RouteID, rt.Info.RouteName, rt.StripPrefix()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("route (-want +got):\n%s", diff)
	}
	// Routes of one service share the service's pool (one round-robin).
	other, _, _ := lookup(tbl, "", "GET", "/t/shop/pets/me")
	if other.Upstream != rt.Upstream {
		t.Error("two routes of one service got different pools")
	}
	if len(rt.Upstream.Nodes()) != 1 || rt.Upstream.Nodes()[0].Addr != "127.0.0.1:8080" {
		t.Errorf("pool nodes = %+v", rt.Upstream.Nodes())
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		snap *spec.Snapshot
		want []string // fields, sorted
	}{
		{
			name: "same path in two services of a group",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", route("list", "/pets")),
				deployed("p", "b", "", route("list", "/pets")),
			)),
			want: []string{"services[b].routes[list].paths"},
		},
		{
			name: "route without paths clashes with an explicit path",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", route("pets")),
				deployed("p", "b", "", route("explicit", "/pets")),
			)),
			want: []string{"services[b].routes[explicit].paths"},
		},
		{
			name: "same param shape under different names",
			snap: snapshot(group("g", "/{project}",
				deployed("p", "a", "/x", route("one", "/{id}")),
				deployed("p", "b", "/x", route("two", "/{name}")),
			)),
			want: []string{"services[b].routes[two].paths"},
		},
		{
			name: "two routes of one service",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", route("r1", "/x"), route("r2", "/y", "/x")),
			)),
			want: []string{"services[a].routes[r2].paths"},
		},
		{
			name: "two groups with one prefix",
			snap: snapshot(
				group("g1", "/env", deployed("p", "a", "", route("r", "/x"))),
				group("g2", "/env", deployed("p", "b", "", route("r", "/x"))),
			),
			want: []string{"services[b].routes[r].paths"},
		},
		{
			name: "unknown plugin on a route",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", withPlugins(route("r", "/x"), map[string]string{"no-such-plugin": `{}`})),
			)),
			want: []string{"services[a].routes[r].plugins.no-such-plugin"},
		},
		{
			name: "bad plugin config",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", withPlugins(route("r", "/x"), map[string]string{"ip-restriction": `{"allow":["nope"]}`})),
			)),
			want: []string{"services[a].routes[r].plugins.ip-restriction"},
		},
		{
			name: "unknown field in plugin config",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", withPlugins(route("r", "/x"), map[string]string{"request-size-limit": `{"max_bytes":1,"maxx":2}`})),
			)),
			want: []string{"services[a].routes[r].plugins.request-size-limit"},
		},
		{
			name: "plugin config not an object",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", withPlugins(route("r", "/x"), map[string]string{"request-size-limit": `[1]`})),
			)),
			want: []string{"services[a].routes[r].plugins.request-size-limit"},
		},
		{
			name: "trailing data after plugin config",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", withPlugins(route("r", "/x"), map[string]string{"request-size-limit": `{"max_bytes":1} {}`})),
			)),
			want: []string{"services[a].routes[r].plugins.request-size-limit"},
		},
		{
			name: "bad service plugin is named once, on the service",
			snap: func() *spec.Snapshot {
				ds := deployed("p", "a", "", route("r1", "/x"), route("r2", "/y"))
				ds.Service.Plugins = pluginsOf(map[string]string{"ip-restriction": `{}`})
				return snapshot(group("g", "", ds))
			}(),
			want: []string{"services[a].plugins.ip-restriction"},
		},
		{
			name: "a route override of a bad service plugin is fine",
			snap: func() *spec.Snapshot {
				ds := deployed("p", "a", "",
					withPlugins(route("r1", "/x"), map[string]string{"ip-restriction": `{"deny":["10.0.0.0/8"]}`}),
					route("r2", "/y"))
				ds.Service.Plugins = pluginsOf(map[string]string{"ip-restriction": `{}`})
				return snapshot(group("g", "", ds))
			}(),
			// r2 still inherits the bad config.
			want: []string{"services[a].plugins.ip-restriction"},
		},
		{
			name: "unsupported backend type",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", withBackend(route("r", "/x"), spec.Backend{Type: "mock"})),
			)),
			want: []string{"services[a].routes[r].backend.type"},
		},
		{
			name: "backend path must start with a slash",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", withBackend(route("r", "/x"), spec.Backend{Path: "x"})),
			)),
			want: []string{"services[a].routes[r].backend.path"},
		},
		{
			name: "backend path with an unclosed parameter",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", withBackend(route("r", "/x/{id}"), spec.Backend{Path: "/y/{id"})),
			)),
			want: []string{"services[a].routes[r].backend.path"},
		},
		{
			name: "backend path names a parameter the route has not",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", withBackend(route("r", "/x/{id}", "/z/:id"), spec.Backend{Path: "/y/{uid}"})),
			)),
			want: []string{"services[a].routes[r].backend.path"},
		},
		{
			name: "backend path parameter missing from one of the paths",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", withBackend(route("r", "/x/{id}", "/z"), spec.Backend{Path: "/y/{id}"})),
			)),
			want: []string{"services[a].routes[r].backend.path"},
		},
		{
			name: "backend path wildcard on a route without one",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", withBackend(route("r", "/x/{id}"), spec.Backend{Path: "/y/{*}"})),
			)),
			want: []string{"services[a].routes[r].backend.path"},
		},
		{
			name: "bad route path",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", route("r", "/a/*/b")),
			)),
			want: []string{"services[a].routes[r].paths"},
		},
		{
			name: "unknown method",
			snap: snapshot(group("g", "",
				deployed("p", "a", "", withMethods(route("r", "/a"), "FETCH")),
			)),
			want: []string{"services[a].routes[r].paths"},
		},
		{
			name: "every problem is reported, not only the first",
			snap: snapshot(group("g", "",
				deployed("p", "a", "",
					withPlugins(route("r1", "/x"), map[string]string{"nope": `{}`}),
					withBackend(route("r2", "/y"), spec.Backend{Path: "nope"}),
					route("r3", "/z"),
				),
				deployed("p", "b", "", route("r3", "/z")),
			)),
			want: []string{
				"services[a].routes[r1].plugins.nope",
				"services[a].routes[r2].backend.path",
				"services[b].routes[r3].paths",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tbl, err := Build(tc.snap, Deps{})
			if err == nil {
				t.Fatalf("Build succeeded with %d routes; want errors on %v", tbl.Len(), tc.want)
			}
			if tbl != nil {
				t.Errorf("Build returned a table with its error")
			}
			fe := fieldErrors(t, err)
			if diff := cmp.Diff(tc.want, fields(fe)); diff != "" {
				t.Errorf("fields (-want +got):\n%s\nerrors: %v", diff, err)
			}
			for _, e := range fe {
				if e.Message == "" {
					t.Errorf("%s has no message", e.Field)
				}
			}
			// The control plane's check is the very same compiler.
			if verr := Validate(tc.snap); verr == nil || verr.Error() != err.Error() {
				t.Errorf("Validate = %v, want the Build error %v", verr, err)
			}
		})
	}
}

func TestConflictMessageNamesBoth(t *testing.T) {
	_, err := Build(snapshot(group("g", "",
		deployed("p", "first", "", route("list", "/pets")),
		deployed("p", "second", "", route("mine", "/pets")),
	)), Deps{})
	msg := fieldErrors(t, err)[0].Message
	for _, want := range []string{"/pets", "list", "first"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not name %q", msg, want)
		}
	}
}

func TestNoConflictWhenNarrowed(t *testing.T) {
	snap := snapshot(group("g", "",
		deployed("p", "a", "",
			withMethods(route("get", "/x"), "GET"),
			withHosts(route("host", "/y"), "a.example.com"),
		),
		deployed("p", "b", "",
			withMethods(route("post", "/x"), "POST"),
			withHosts(route("host", "/y"), "b.example.com"),
			offline(route("off", "/x")),
		),
	))
	tbl := mustBuild(t, snap)
	for _, tc := range []struct{ host, method, path, want string }{
		{"", "GET", "/x", "a/get"},
		{"", "POST", "/x", "b/post"},
		{"a.example.com", "GET", "/y", "a/host"},
		{"B.example.com", "GET", "/y", "b/host"},
		{"c.example.com", "GET", "/y", ""},
	} {
		rt, _, _ := lookup(tbl, tc.host, tc.method, tc.path)
		got := ""
		if rt != nil {
			got = rt.Info.ServiceName + "/" + rt.Info.RouteName
		}
		if got != tc.want {
			t.Errorf("%s %s %s → %q, want %q", tc.host, tc.method, tc.path, got, tc.want)
		}
	}
}

func TestServiceHostsApplyToRoutesWithout(t *testing.T) {
	ds := deployed("p", "a", "", route("inherit", "/x"), withHosts(route("own", "/y"), "own.test"))
	ds.Service.Hosts = []string{"svc.test"}
	tbl := mustBuild(t, snapshot(group("g", "", ds)))
	for _, tc := range []struct {
		host, path string
		hit        bool
	}{
		{"svc.test", "/x", true},
		{"other.test", "/x", false},
		{"own.test", "/y", true},
		{"svc.test", "/y", false},
	} {
		rt, _, _ := lookup(tbl, tc.host, "GET", tc.path)
		if (rt != nil) != tc.hit {
			t.Errorf("host %s path %s: hit %v, want %v", tc.host, tc.path, rt != nil, tc.hit)
		}
	}
}

func TestEmptySnapshot(t *testing.T) {
	tbl := mustBuild(t, &spec.Snapshot{Revision: 3})
	if tbl.Len() != 0 || tbl.Revision != 3 {
		t.Errorf("Len, Revision = %d, %d; want 0, 3", tbl.Len(), tbl.Revision)
	}
	if rt, allow, _ := lookup(tbl, "", "GET", "/"); rt != nil || allow != "" {
		t.Errorf("empty table matched %v / allow %q", rt, allow)
	}
	if err := Validate(&spec.Snapshot{}); err != nil {
		t.Errorf("Validate(empty) = %v", err)
	}
}

func TestBackendTimeoutGetsItsOwnPool(t *testing.T) {
	ds := deployed("p", "a", "",
		route("plain", "/plain"),
		withBackend(route("slow", "/slow"), spec.Backend{Timeout: &spec.Timeout{Read: 0.5}}),
	)
	ds.Upstream.Timeout = &spec.Timeout{Connect: 2, Read: 9}
	tbl := mustBuild(t, snapshot(group("g", "", ds)))
	plain, _, _ := lookup(tbl, "", "GET", "/plain")
	slow, _, _ := lookup(tbl, "", "GET", "/slow")
	if plain.Upstream == slow.Upstream {
		t.Fatal("route timeout shares the service pool")
	}
	if got := plain.Upstream.Timeouts.Read.Seconds(); got != 9 {
		t.Errorf("plain read timeout %vs, want 9", got)
	}
	// The route's read wins; the upstream's connect stays.
	if r, c := slow.Upstream.Timeouts.Read.Seconds(), slow.Upstream.Timeouts.Connect.Seconds(); r != 0.5 || c != 2 {
		t.Errorf("slow route timeouts read %vs connect %vs, want 0.5 and 2", r, c)
	}
	if plain.Upstream.Nodes()[0].Key == slow.Upstream.Nodes()[0].Key {
		t.Error("different timeouts, same client key")
	}
	if ds.Upstream.Timeout.Read != 9 {
		t.Error("Build modified the snapshot's upstream")
	}
}

func TestBackendMethod(t *testing.T) {
	tbl := mustBuild(t, snapshot(group("g", "",
		deployed("p", "a", "",
			withBackend(route("m", "/m"), spec.Backend{Method: "POST"}),
			route("plain", "/plain"),
		))))
	m, _, _ := lookup(tbl, "", "GET", "/m")
	plain, _, _ := lookup(tbl, "", "GET", "/plain")
	if m.BackendMethod() != "POST" || plain.BackendMethod() != "" {
		t.Errorf("BackendMethod = %q and %q, want POST and empty", m.BackendMethod(), plain.BackendMethod())
	}
}

// A service keeps the paths it was added at in one string separated by
// NUL (to take it out again); a path holding NUL would split into others
// and leave its route behind, so it is refused.
func TestPathWithNULIsRefused(t *testing.T) {
	_, err := Build(snapshot(group("g", "", deployed("p", "s", "/s", route("r", "/a\x00/b")))), Deps{})
	if got := fields(fieldErrors(t, err)); !slices.Equal(got, []string{"services[s].routes[r].paths"}) {
		t.Errorf("fields %v, want the route's paths", got)
	}
}

// Services given as JSON (as a gateway reads a whole snapshot from the
// feed) compile to the same table as decoded ones; one that does not
// decode is refused like any bad configuration.
func TestBuildFromServicesJSON(t *testing.T) {
	g := group("g", "/{project}",
		deployed("p", "a", "/a", route("r1", "/x"), withMethods(route("r2", "/y/{id}"), "GET")),
		deployed("p", "b", "/b", route("r3", "/*")))
	lazy := g
	lazy.Services = nil
	for _, ds := range g.Services {
		raw, err := json.Marshal(ds)
		if err != nil {
			t.Fatal(err)
		}
		lazy.ServicesJSON = append(lazy.ServicesJSON, raw)
	}
	probes := [][3]string{{"", "GET", "/p/a/x"}, {"", "GET", "/p/a/y/7"}, {"", "POST", "/p/a/y/7"}, {"", "GET", "/p/b/z/z"}, {"", "GET", "/p/c"}}
	want, got := answers(mustBuild(t, snapshot(g)), probes), answers(mustBuild(t, snapshot(lazy)), probes)
	if !slices.Equal(got, want) {
		t.Errorf("from JSON %v, decoded %v", got, want)
	}
	lazy.ServicesJSON = append(lazy.ServicesJSON, json.RawMessage(`{"service":7}`))
	if fields := fields(fieldErrors(t, func() error { _, err := Build(snapshot(lazy), Deps{}); return err }())); !slices.Equal(fields, []string{"services[2]"}) {
		t.Errorf("fields %v", fields)
	}
}
