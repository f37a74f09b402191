package adminapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
)

// testAndProductionGroups creates the groups test and production.
func testAndProductionGroups(a *testAPI) {
	a.t.Helper()
	a.mustJSON("POST", "/gateway-groups", `{"name":"test","path_prefix":"/api/gateway/test/{project}"}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/gateway-groups", `{"name":"production","path_prefix":"/api/gateway"}`, http.StatusCreated, nil)
}

func nodesOn(port int) map[string]any {
	return map[string]any{"nodes": []map[string]any{{"host": "127.0.0.1", "port": port}}}
}

// TestSync is sync between groups over the admin API.
func TestSync(t *testing.T) {
	a := newTestAPI(t)
	testAndProductionGroups(a)
	svc := a.createService("petstore")
	a.mustJSON("POST", "/projects/default/services/petstore/routes", `{"name":"get_pet","paths":["/pet/{id}"],"methods":["GET"]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services/petstore/publish",
		map[string]any{"group": "test", "version": "1.0.0", "upstream": nodesOn(8001)}, http.StatusCreated, nil)

	var got publishResponse
	a.mustJSON("POST", "/projects/default/services/petstore/sync",
		`{"from_group":"test","to_group":"production","upstream":{"nodes":[{"host":"127.0.0.1","port":8002}]}}`, http.StatusOK, &got)
	if got.Group != "production" || got.Version != "1.0.0" || got.ServiceID != svc.ID || got.Revision <= 0 ||
		len(got.Upstream.Nodes) != 1 || got.Upstream.Nodes[0].Port != 8002 {
		t.Fatalf("sync answer = %+v", got)
	}
	var gs struct{ Items []groupService }
	a.mustJSON("GET", "/gateway-groups/production/services", nil, http.StatusOK, &gs)
	if len(gs.Items) != 1 || gs.Items[0].Version != "1.0.0" || !cmp.Equal(gs.Items[0].URLs, []string{"/api/gateway/pet/{id}"}) {
		t.Errorf("production runs %+v", gs.Items)
	}
	var versions struct{ Items []versionInfo }
	a.mustJSON("GET", "/projects/default/services/petstore/versions", nil, http.StatusOK, &versions)
	if len(versions.Items) != 1 || !cmp.Equal(versions.Items[0].Groups, []string{"production", "test"}) {
		t.Errorf("versions = %+v, want 1.0.0 alone, in both groups", versions.Items)
	}
	var hist struct{ Items []spec.HistoryEvent }
	a.mustJSON("GET", "/projects/default/services/petstore/history?group=production", nil, http.StatusOK, &hist)
	if len(hist.Items) != 1 || hist.Items[0].Action != "sync" || !strings.Contains(hist.Items[0].Detail, "test") {
		t.Errorf("production history = %+v", hist.Items)
	}
	var audit struct{ Items []spec.AuditEvent }
	a.mustJSON("GET", "/audit-events", nil, http.StatusOK, &audit)
	if len(audit.Items) == 0 || audit.Items[0].Action != "release.sync" {
		t.Errorf("newest audit event = %+v, want release.sync", audit.Items[0])
	}

	// Refusals, each a problem naming what is wrong.
	a.mustJSON("POST", "/projects/default/services/petstore/publish", map[string]any{"group": "test", "version": "1.1.0"}, http.StatusCreated, nil)
	cases := []struct {
		name, body string
		status     int
		detail     string
		fields     []string
	}{
		{"not the running version", `{"from_group":"test","to_group":"production","version":"1.0.0"}`, http.StatusConflict, "only the running version can be synced", nil},
		{"not running in from_group", `{"from_group":"default","to_group":"production"}`, http.StatusConflict, "runs no version in gateway group", nil},
		{"same group", `{"from_group":"test","to_group":"test"}`, http.StatusBadRequest, "", []string{"to_group"}},
		{"missing groups", `{}`, http.StatusBadRequest, "", []string{"from_group", "to_group"}},
		{"unknown field", `{"from_group":"test","to_group":"production","group":"x"}`, http.StatusBadRequest, "", []string{"group"}},
		{"unknown group", `{"from_group":"test","to_group":"staging"}`, http.StatusBadRequest, "", []string{"to_group"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do("POST", "/projects/default/services/petstore/sync", tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			p := r.problem(t)
			if !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q does not say %q", p.Detail, tc.detail)
			}
			if tc.fields != nil && !cmp.Equal(r.fields(t), tc.fields) {
				t.Errorf("fields = %q, want %q", r.fields(t), tc.fields)
			}
		})
	}
	if r := a.do("POST", "/projects/default/services/nope/sync", `{"from_group":"test","to_group":"production"}`); r.status != http.StatusNotFound {
		t.Errorf("unknown service: status %d, want 404", r.status)
	}
}

// TestRouteConflict publishes two services on one path: 409 naming the
// other service and route, with the collisions as data.
func TestRouteConflict(t *testing.T) {
	a := newTestAPI(t)
	for _, name := range []string{"pets", "animals"} {
		a.createService(name)
	}
	a.mustJSON("POST", "/projects/default/services/pets/routes", `{"name":"get_pet","paths":["/pets/{id}"],"methods":["GET"]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services/animals/routes", `{"name":"fetch","paths":["/pets/{pid}"]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services/pets/publish", map[string]any{"group": "default", "version": "1.0.0", "upstream": testUpstream}, http.StatusCreated, nil)
	r := a.do("POST", "/projects/default/services/animals/publish", map[string]any{"group": "default", "version": "1.0.0", "upstream": testUpstream})
	if r.status != http.StatusConflict {
		t.Fatalf("status %d, want 409: %s", r.status, r.body)
	}
	p := r.problem(t)
	for _, s := range []string{`"pets"`, `"get_pet"`, `"fetch"`, "/pets/{pid}", "GET"} {
		if !strings.Contains(p.Detail, s) {
			t.Errorf("detail %q does not name %s", p.Detail, s)
		}
	}
	want := []release.Conflict{{Group: "default", Path: "/pets/{pid}", Method: "GET", Service: "animals", Route: "fetch",
		OtherProject: "default", OtherService: "pets", OtherRoute: "get_pet"}}
	if diff := cmp.Diff(want, p.Conflicts); diff != "" {
		t.Errorf("conflicts (-want +got):\n%s", diff)
	}
	var versions struct{ Total int }
	a.mustJSON("GET", "/projects/default/services/animals/versions", nil, http.StatusOK, &versions)
	if versions.Total != 0 {
		t.Errorf("a refused publish left %d version(s)", versions.Total)
	}
}
