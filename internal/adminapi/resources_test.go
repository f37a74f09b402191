package adminapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
)

func TestNotFound(t *testing.T) {
	a := newTestAPI(t)
	s := a.createService("svc")
	const (
		noProject = `project "nope" not found`
		noGroup   = `gateway group "nope" not found`
		noService = `service "x" not found in project "default"`
		noRoute   = `route "r" not found in service "svc"`
		noUp      = `upstream "u" not found in project "default"`
		svcs      = "/projects/default/services"
		ups       = "/projects/default/upstreams"
		pub       = `{"group":"default","version":"1.0.0"}`
	)
	routes := svcs + "/" + s.ID + "/routes"
	tests := []struct {
		name   string
		method string
		path   string
		body   string // sent when not empty; PATCH sends {} by default
		detail string
	}{
		{"project", "GET", "/projects/nope", "", noProject},
		{"project patch", "PATCH", "/projects/nope", "", noProject},
		{"project put", "PUT", "/projects/nope", `{"id":"nope"}`, noProject},
		{"project delete", "DELETE", "/projects/nope", "", noProject},
		{"services of a missing project", "GET", "/projects/nope/services", "", noProject},
		{"service create in a missing project", "POST", "/projects/nope/services", `{"name":"s"}`, noProject},
		{"upstreams of a missing project", "GET", "/projects/nope/upstreams", "", noProject},
		{"upstream create in a missing project", "POST", "/projects/nope/upstreams", `{"name":"u","nodes":[{"host":"h","port":1}]}`, noProject},
		{"service", "GET", svcs + "/x", "", noService},
		{"service patch", "PATCH", svcs + "/x", "", noService},
		{"service put", "PUT", svcs + "/x", `{"name":"x"}`, noService},
		{"service delete", "DELETE", svcs + "/x", "", noService},
		{"routes of a missing service", "GET", svcs + "/x/routes", "", noService},
		{"route create in a missing service", "POST", svcs + "/x/routes", `{"name":"r"}`, noService},
		{"route", "GET", routes + "/r", "", noRoute},
		{"route patch", "PATCH", routes + "/r", "", noRoute},
		{"route put", "PUT", routes + "/r", `{"name":"r"}`, noRoute},
		{"route delete", "DELETE", routes + "/r", "", noRoute},
		{"publish a missing service", "POST", svcs + "/x/publish", pub, noService},
		{"rollback a missing service", "POST", svcs + "/x/rollback", pub, noService},
		{"versions of a missing service", "GET", svcs + "/x/versions", "", noService},
		{"version of a missing service", "GET", svcs + "/x/versions/1.0.0", "", noService},
		{"history of a missing service", "GET", svcs + "/x/history", "", noService},
		{"upstream", "GET", ups + "/u", "", noUp},
		{"upstream patch", "PATCH", ups + "/u", "", noUp},
		{"upstream put", "PUT", ups + "/u", `{"name":"u","nodes":[{"host":"h","port":1}]}`, noUp},
		{"upstream delete", "DELETE", ups + "/u", "", noUp},
		{"group", "GET", "/gateway-groups/nope", "", noGroup},
		{"group patch", "PATCH", "/gateway-groups/nope", "", noGroup},
		{"group put", "PUT", "/gateway-groups/nope", `{}`, noGroup},
		{"group delete", "DELETE", "/gateway-groups/nope", "", noGroup},
		{"services of a missing group", "GET", "/gateway-groups/nope/services", "", noGroup},
		{"no such endpoint", "GET", "/nothing-here", "", `no endpoint GET /api/v1/nothing-here`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			switch {
			case tt.body != "":
				body = tt.body
			case tt.method == "PATCH":
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
	a.mustJSON("POST", "/projects/default/services/svc/routes", `{"name":"r2"}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/upstreams", `{"name":"up2","nodes":[{"host":"h","port":1}]}`, http.StatusCreated, nil)
	tests := []struct {
		name   string
		method string
		path   string
		body   string
	}{
		{"duplicate service name", "POST", "/projects/default/services", `{"name":"svc"}`},
		{"rename onto another service", "PATCH", "/projects/default/services/uses-up", `{"name":"svc"}`},
		{"rename onto another service by PUT", "PUT", "/projects/default/services/uses-up", `{"name":"svc"}`},
		{"duplicate route name", "POST", "/projects/default/services/" + s.ID + "/routes", `{"name":"r"}`},
		{"rename a route onto another by PATCH", "PATCH", "/projects/default/services/svc/routes/r2", `{"name":"r"}`},
		{"rename a route onto another by PUT", "PUT", "/projects/default/services/svc/routes/r2", `{"name":"r"}`},
		{"rename an upstream onto another by PATCH", "PATCH", "/projects/default/upstreams/up2", `{"name":"up"}`},
		{"rename an upstream onto another by PUT", "PUT", "/projects/default/upstreams/up2", `{"name":"up","nodes":[{"host":"h","port":1}]}`},
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
	// Each answer is decoded into a fresh value: json.Unmarshal leaves the
	// fields an answer omits (omitempty) as they were, which would make
	// cleared fields look kept.
	var put, reread spec.Service
	a.mustJSON("PUT", "/projects/default/services/svc", `{"name":"svc2"}`, http.StatusOK, &put)
	a.mustJSON("GET", "/projects/default/services/"+created.ID, nil, http.StatusOK, &reread)
	for _, x := range []struct {
		name string
		got  spec.Service
	}{{"PUT answer", put}, {"GET after PUT", reread}} {
		got := x.got
		if got.ID != created.ID || got.ProjectID != "default" || got.State != spec.StateDraft || got.Name != "svc2" ||
			got.Description != "" || got.Labels != nil || got.Protocols != nil || got.Path != "" {
			t.Errorf("%s = %+v, want only name svc2 with id, project and state kept", x.name, got)
		}
		if !got.CreatedAt.Equal(created.CreatedAt) {
			t.Errorf("%s: created_at changed by PUT: %v → %v", x.name, created.CreatedAt, got.CreatedAt)
		}
		if len(got.Routes) != 1 {
			t.Errorf("%s: routes = %v, want the route kept (routes change under /routes)", x.name, got.Routes)
		}
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

// TestPutReplaces checks PUT on every resource: members left out of the body
// are cleared (or take their defaults), the server-set ones are kept.
func TestPutReplaces(t *testing.T) {
	a := newTestAPI(t)
	a.mustJSON("POST", "/gateway-groups", `{"name":"test"}`, http.StatusCreated, nil)
	a.createService("svc")
	tests := []struct {
		name         string
		create, path string // POST path; the object's path is path
		body, put    string
		kept         []string       // members equal before and after
		want         map[string]any // members after PUT
		cleared      []string       // members absent after PUT
	}{
		{
			name: "project", create: "/projects", path: "/projects/p1",
			body: `{"id":"p1","name":"P one","description":"d","test_group":"test"}`, put: `{"name":"P1"}`,
			kept:    []string{"id", "created_at"},
			want:    map[string]any{"name": "P1", "test_group": "default", "production_group": "default"},
			cleared: []string{"description"},
		},
		{
			name: "gateway group", create: "/gateway-groups", path: "/gateway-groups/g1",
			body: `{"name":"g1","path_prefix":"/g","description":"d"}`, put: `{"description":"new"}`,
			kept: []string{"name", "created_at"},
			want: map[string]any{"description": "new", "path_prefix": ""},
		},
		{
			name: "upstream", create: "/projects/default/upstreams", path: "/projects/default/upstreams/up",
			body: `{"name":"up","scheme":"https","retries":2,"nodes":[{"host":"a","port":1}]}`, put: `{"name":"up2","nodes":[{"host":"b","port":2}]}`,
			kept:    []string{"id", "project_id", "created_at"},
			want:    map[string]any{"name": "up2", "nodes": []any{map[string]any{"host": "b", "port": 2.0, "weight": 100.0}}},
			cleared: []string{"scheme", "retries"},
		},
		{
			name: "route", create: "/projects/default/services/svc/routes", path: "/projects/default/services/svc/routes/r",
			body: `{"name":"r","description":"d","paths":["/a"],"methods":["GET"]}`, put: `{"name":"r2","paths":["/b"]}`,
			kept:    []string{"id", "service_id", "created_at"},
			want:    map[string]any{"name": "r2", "paths": []any{"/b"}},
			cleared: []string{"description", "methods"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after, reread map[string]any
			a.mustJSON("POST", tt.create, tt.body, http.StatusCreated, &before)
			a.mustJSON("PUT", tt.path, tt.put, http.StatusOK, &after)
			id, _ := after["id"].(string)
			if id == "" {
				id, _ = after["name"].(string)
			}
			a.mustJSON("GET", tt.path[:strings.LastIndexByte(tt.path, '/')+1]+id, nil, http.StatusOK, &reread)
			for what, got := range map[string]map[string]any{"PUT answer": after, "GET after PUT": reread} {
				for _, k := range tt.kept {
					if !cmp.Equal(got[k], before[k]) {
						t.Errorf("%s: %s = %v, want it kept as %v", what, k, got[k], before[k])
					}
				}
				for k, v := range tt.want {
					if !cmp.Equal(got[k], v) {
						t.Errorf("%s: %s = %v, want %v", what, k, got[k], v)
					}
				}
				for _, k := range tt.cleared {
					if v, ok := got[k]; ok {
						t.Errorf("%s: %s = %v, want it cleared", what, k, v)
					}
				}
			}
		})
	}
}
