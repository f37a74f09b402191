package routing

import (
	"testing"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/spec"
)

// fakeRequest is what LookupRequest reads of a request.
type fakeRequest struct{ header, query map[string]string }

func (r fakeRequest) Header(name string) string { return r.header[name] }
func (r fakeRequest) Query(name string) string  { return r.query[name] }

// versioned is the orders service at 1.0.0 (routes list and get) with
// 2.0.0 (list, and export only it has) routed beside it by vr.
func versioned(vr spec.VersionRouting) spec.DeployedService {
	ds := deployed("shop", "orders", "/orders", route("list", "/"), route("get", "/{id}"))
	v2 := ds.Service
	v2.Routes = []spec.Route{route("list", "/"), withMethods(route("export", "/export"), "POST")}
	ds.VersionRouting = &vr
	ds.Versions = []spec.DeployedVersion{{Version: "2.0.0", Match: "v2", Service: v2, Upstream: ds.Upstream}}
	return ds
}

func TestVersionRouting(t *testing.T) {
	type want struct {
		version string // of the route found; "" none
		allow   string
	}
	cases := []struct {
		name    string
		vr      spec.VersionRouting
		req     fakeRequest
		method  string
		path    string
		want    want
		wantErr bool
	}{
		{name: "header absent: default", vr: spec.VersionRouting{By: "header", Name: "X-API-Version"}, path: "/orders/", want: want{version: "1.0.0"}},
		{name: "header names v2", vr: spec.VersionRouting{By: "header", Name: "X-API-Version"},
			req: fakeRequest{header: map[string]string{"X-API-Version": "v2"}}, path: "/orders/", want: want{version: "2.0.0"}},
		{name: "header names the default", vr: spec.VersionRouting{By: "header", Name: "X-API-Version"},
			req: fakeRequest{header: map[string]string{"X-API-Version": "1.0.0"}}, path: "/orders/7", want: want{version: "1.0.0"}},
		{name: "header names a chosen default match", vr: spec.VersionRouting{By: "header", Name: "X-API-Version", DefaultMatch: "v1"},
			req: fakeRequest{header: map[string]string{"X-API-Version": "v1"}}, path: "/orders/7", want: want{version: "1.0.0"}},
		{name: "v2 has no get", vr: spec.VersionRouting{By: "header", Name: "X-API-Version"},
			req: fakeRequest{header: map[string]string{"X-API-Version": "v2"}}, path: "/orders/7"},
		{name: "unknown version", vr: spec.VersionRouting{By: "header", Name: "X-API-Version"},
			req: fakeRequest{header: map[string]string{"X-API-Version": "v9"}}, path: "/orders/"},
		{name: "only v2 exports", vr: spec.VersionRouting{By: "header", Name: "X-API-Version"},
			req: fakeRequest{header: map[string]string{"X-API-Version": "v2"}}, method: "POST", path: "/orders/export", want: want{version: "2.0.0"}},
		{name: "v2's export with another method: 405", vr: spec.VersionRouting{By: "header", Name: "X-API-Version"},
			req: fakeRequest{header: map[string]string{"X-API-Version": "v2"}}, path: "/orders/export", want: want{allow: "POST"}},
		{name: "export without the header: the default's get", vr: spec.VersionRouting{By: "header", Name: "X-API-Version"},
			method: "POST", path: "/orders/export", want: want{version: "1.0.0"}},
		{name: "query names v2", vr: spec.VersionRouting{By: "query", Name: "version"},
			req: fakeRequest{query: map[string]string{"version": "v2"}}, path: "/orders/", want: want{version: "2.0.0"}},
		{name: "path segment", vr: spec.VersionRouting{By: "path"}, path: "/orders/v2/", want: want{version: "2.0.0"}},
		{name: "path without segment", vr: spec.VersionRouting{By: "path"}, path: "/orders/", want: want{version: "1.0.0"}},
		{name: "path: a header means nothing", vr: spec.VersionRouting{By: "path"},
			req: fakeRequest{header: map[string]string{"X-API-Version": "v2"}}, path: "/orders/", want: want{version: "1.0.0"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tbl := mustBuild(t, snapshot(group("g", "", versioned(c.vr))))
			method := c.method
			if method == "" {
				method = "GET"
			}
			var ps match.Params
			rt, allow, ok := tbl.LookupRequest(c.req, "", method, c.path, &ps)
			got := want{allow: allow}
			if ok {
				got.version = rt.Info.Version
			}
			if got != c.want {
				t.Errorf("LookupRequest(%s %s) = %+v, want %+v", method, c.path, got, c.want)
			}
		})
	}
}

// TestVersionRoutingUpdates: a delta that adds, changes and removes a
// service's routed versions answers as a build of the same snapshot.
func TestVersionRoutingUpdates(t *testing.T) {
	plain := deployed("shop", "orders", "/orders", route("list", "/"), route("get", "/{id}"))
	routed := versioned(spec.VersionRouting{By: "header", Name: "X-API-Version"})
	v2 := fakeRequest{header: map[string]string{"X-API-Version": "v2"}}
	tbl := mustBuild(t, snapshot(group("g", "", plain)))
	step := func(ds spec.DeployedService) {
		t.Helper()
		next, err := tbl.Update(&spec.SnapshotDelta{Base: tbl.Revision, Revision: tbl.Revision + 1,
			Groups: []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "g"}, Services: []spec.DeployedService{ds}}}}, Deps{})
		if err != nil {
			t.Fatal(err)
		}
		tbl = next
	}
	version := func(r fakeRequest, method, path string) string {
		var ps match.Params
		rt, _, ok := tbl.LookupRequest(r, "", method, path, &ps)
		if !ok {
			return ""
		}
		return rt.Info.Version
	}
	if got := version(v2, "GET", "/orders/"); got != "1.0.0" {
		t.Fatalf("before routing: %q", got)
	}
	step(routed)
	if got := version(v2, "GET", "/orders/"); got != "2.0.0" {
		t.Errorf("routed: %q, want 2.0.0", got)
	}
	if got := version(v2, "POST", "/orders/export"); got != "2.0.0" {
		t.Errorf("routed export: %q, want 2.0.0", got)
	}
	step(plain)
	if got := version(v2, "GET", "/orders/"); got != "1.0.0" {
		t.Errorf("routing removed: %q, want 1.0.0", got)
	}
	if got := version(v2, "POST", "/orders/export"); got != "1.0.0" {
		t.Errorf("routing removed, export answers %q, want the default's get", got)
	}
	if len(tbl.selectors) != 0 {
		t.Errorf("selectors left: %d", len(tbl.selectors))
	}
}
