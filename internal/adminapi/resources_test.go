package adminapi

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
)

func TestNotFound(t *testing.T) {
	a := newTestAPI(t)
	s := a.createService("svc")
	tests := []struct {
		name   string
		method string
		path   string
		detail string
	}{
		{"project", "GET", "/projects/nope", `project "nope" not found`},
		{"services of a missing project", "GET", "/projects/nope/services", `project "nope" not found`},
		{"service", "GET", "/projects/default/services/x", `service "x" not found in project "default"`},
		{"service delete", "DELETE", "/projects/default/services/x", `service "x" not found in project "default"`},
		{"route", "GET", "/projects/default/services/" + s.ID + "/routes/r", `route "r" not found in service "svc"`},
		{"upstream", "GET", "/projects/default/upstreams/u", `upstream "u" not found in project "default"`},
		{"group", "GET", "/gateway-groups/nope", `gateway group "nope" not found`},
		{"group patch", "PATCH", "/gateway-groups/nope", `gateway group "nope" not found`},
		{"no such endpoint", "GET", "/nothing-here", `no endpoint GET /api/v1/nothing-here`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.method == "PATCH" {
				body = `{}`
			}
			r := a.do(tt.method, tt.path, body)
			if r.status != http.StatusNotFound {
				t.Fatalf("status %d, want 404; body %s", r.status, r.body)
			}
			if got := r.problem(t).Detail; got != tt.detail {
				t.Errorf("detail = %q, want %q", got, tt.detail)
			}
		})
	}
	t.Run("method not allowed", func(t *testing.T) {
		r := a.do("PATCH", "/projects", `{}`)
		if r.status != http.StatusMethodNotAllowed {
			t.Fatalf("status %d, want 405", r.status)
		}
		_ = r.problem(t)
	})
}

func TestConflicts(t *testing.T) {
	a := newTestAPI(t)
	s := a.createService("svc")
	a.mustJSON("POST", "/projects/default/services/svc/routes", `{"name":"r"}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/upstreams", map[string]any{"name": "up", "nodes": testUpstream["nodes"]}, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services", `{"name":"uses-up","upstream_id":"up"}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects", `{"id":"busy"}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/busy/services", `{"name":"x"}`, http.StatusCreated, nil)
	tests := []struct {
		name   string
		method string
		path   string
		body   string
	}{
		{"duplicate service name", "POST", "/projects/default/services", `{"name":"svc"}`},
		{"rename onto another service", "PATCH", "/projects/default/services/uses-up", `{"name":"svc"}`},
		{"duplicate route name", "POST", "/projects/default/services/" + s.ID + "/routes", `{"name":"r"}`},
		{"duplicate upstream name", "POST", "/projects/default/upstreams", `{"name":"up","nodes":[{"host":"h","port":1}]}`},
		{"duplicate project", "POST", "/projects", `{"id":"busy"}`},
		{"duplicate group", "POST", "/gateway-groups", `{"name":"default"}`},
		{"delete upstream in use", "DELETE", "/projects/default/upstreams/up", ``},
		{"delete default project", "DELETE", "/projects/default", ``},
		{"delete project with services", "DELETE", "/projects/busy", ``},
		{"delete default group", "DELETE", "/gateway-groups/default", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			r := a.do(tt.method, tt.path, body)
			if r.status != http.StatusConflict {
				t.Fatalf("status %d, want 409; body %s", r.status, r.body)
			}
			if r.problem(t).Detail == "" {
				t.Error("409 without detail")
			}
		})
	}
}

func TestPatchMerge(t *testing.T) {
	a := newTestAPI(t)
	var created spec.Service
	a.mustJSON("POST", "/projects/default/services",
		`{"name":"svc","description":"d","labels":{"team":"a","tier":"1"},"protocols":["http"],"path":"/v1"}`, http.StatusCreated, &created)
	a.mustJSON("POST", "/projects/default/services/svc/routes", `{"name":"r","paths":["/x"]}`, http.StatusCreated, nil)

	var got spec.Service
	a.mustJSON("PATCH", "/projects/default/services/svc",
		`{"labels":{"tier":null,"env":"prod"},"path":null,"id":"ignored","state":"published"}`, http.StatusOK, &got)
	want := created
	want.Labels = map[string]string{"team": "a", "env": "prod"}
	want.Path = ""
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool {
		f := p.Last().String()
		return f == ".UpdatedAt" || f == ".Routes"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("patched service (-want +got):\n%s", diff)
	}
	if len(got.Routes) != 1 {
		t.Errorf("patch answer routes = %v, want the one route", got.Routes)
	}

	// PUT replaces: fields left out are cleared, read-only ones are kept.
	a.mustJSON("PUT", "/projects/default/services/svc", `{"name":"svc2"}`, http.StatusOK, &got)
	if got.ID != created.ID || got.State != spec.StateDraft || got.Description != "" || got.Labels != nil || got.Name != "svc2" {
		t.Errorf("after PUT = %+v, want only name svc2 with id and state kept", got)
	}
	if !got.CreatedAt.Equal(created.CreatedAt) {
		t.Errorf("created_at changed by PUT: %v → %v", created.CreatedAt, got.CreatedAt)
	}

	// Route patch: a partial change keeps the rest.
	var r spec.Route
	a.mustJSON("PATCH", "/projects/default/services/svc2/routes/r", `{"methods":["GET"]}`, http.StatusOK, &r)
	if diff := cmp.Diff([]string{"/x"}, r.Paths); diff != "" || len(r.Methods) != 1 {
		t.Errorf("patched route = %+v", r)
	}

	// Project patch sets the release stages; unknown groups are refused.
	a.mustJSON("POST", "/gateway-groups", `{"name":"test","path_prefix":"/api/gateway/test/{project}"}`, http.StatusCreated, nil)
	var p spec.Project
	a.mustJSON("PATCH", "/projects/default", `{"test_group":"test"}`, http.StatusOK, &p)
	if p.TestGroup != "test" || p.ProductionGroup != "default" || p.ID != "default" {
		t.Errorf("patched project = %+v", p)
	}
}

func TestListPaging(t *testing.T) {
	a := newTestAPI(t)
	for i := range 5 {
		a.createService(fmt.Sprintf("svc-%d", i))
	}
	a.createService("other")
	tests := []struct {
		query string
		n     int
		total int
	}{
		{"", 6, 6},
		{"?page_size=2", 2, 6},
		{"?page=3&page_size=2", 2, 6},
		{"?page=4&page_size=2", 0, 6},
		{"?q=svc", 5, 5},
		{"?q=svc&page=2&page_size=3", 2, 5},
		{"?q=zzz", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := a.do("GET", "/projects/default/services"+tt.query, nil)
			var got struct {
				Items *[]spec.Service
				Total int
			}
			a.decode(r, &got)
			if got.Items == nil {
				t.Fatalf("items is null or missing: %s", r.body)
			}
			if len(*got.Items) != tt.n || got.Total != tt.total {
				t.Errorf("got %d items of %d, want %d of %d", len(*got.Items), got.Total, tt.n, tt.total)
			}
		})
	}
}

func TestGroups(t *testing.T) {
	a := newTestAPI(t)
	var g spec.GatewayGroup
	a.mustJSON("POST", "/gateway-groups", `{"name":"test","path_prefix":"/api/gateway/test/{project}"}`, http.StatusCreated, &g)
	rev := g.Revision

	// Changing the prefix moves every URL: the revision must move so gateways reload.
	a.mustJSON("PATCH", "/gateway-groups/test", `{"path_prefix":"/t/{project}"}`, http.StatusOK, &g)
	if g.PathPrefix != "/t/{project}" || g.Revision <= rev {
		t.Errorf("after prefix change: %+v, want prefix /t/{project} and revision > %d", g, rev)
	}
	rev = g.Revision
	a.mustJSON("PATCH", "/gateway-groups/test", `{"description":"only words"}`, http.StatusOK, &g)
	if g.Revision != rev {
		t.Errorf("description change moved the revision %d → %d", rev, g.Revision)
	}

	// A group where something runs cannot be deleted; an empty one can.
	s := a.createService("svc")
	a.mustJSON("POST", "/projects/default/services/svc/routes", `{"name":"r","paths":["/a"]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services/"+s.ID+"/publish",
		map[string]any{"group": "test", "version": "1.0.0", "upstream": testUpstream}, http.StatusCreated, nil)
	var gs struct{ Items []groupService }
	a.mustJSON("GET", "/gateway-groups/test/services", nil, http.StatusOK, &gs)
	if len(gs.Items) != 1 || !cmp.Equal(gs.Items[0].URLs, []string{"/t/default/a"}) {
		t.Errorf("services in test = %+v, want svc at /t/default/a", gs.Items)
	}
	if r := a.do("DELETE", "/gateway-groups/test", nil); r.status != http.StatusConflict {
		t.Errorf("delete group with a running service: status %d, want 409; body %s", r.status, r.body)
	}
	a.mustJSON("POST", "/gateway-groups", `{"name":"empty"}`, http.StatusCreated, nil)
	if r := a.do("DELETE", "/gateway-groups/empty", nil); r.status != http.StatusNoContent {
		t.Errorf("delete empty group: status %d, want 204; body %s", r.status, r.body)
	}
	if r := a.do("GET", "/gateway-groups/empty", nil); r.status != http.StatusNotFound {
		t.Errorf("deleted group: status %d, want 404", r.status)
	}
}

func TestDeletes(t *testing.T) {
	a := newTestAPI(t)
	a.mustJSON("POST", "/projects", `{"id":"p1","description":"x"}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/p1/upstreams", `{"name":"up","nodes":[{"host":"127.0.0.1","port":80}]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/p1/services", `{"name":"s","routes":[{"name":"r"}]}`, http.StatusCreated, nil)
	for _, path := range []string{
		"/projects/p1/services/s/routes/r",
		"/projects/p1/services/s",
		"/projects/p1/upstreams/up",
		"/projects/p1",
	} {
		if r := a.do("DELETE", path, nil); r.status != http.StatusNoContent {
			t.Fatalf("DELETE %s: status %d, want 204; body %s", path, r.status, r.body)
		}
		if r := a.do("GET", path, nil); r.status != http.StatusNotFound {
			t.Errorf("GET %s after delete: status %d, want 404", path, r.status)
		}
	}
}
