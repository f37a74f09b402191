package adminapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestValidation checks that each bad input is a 400 naming the bad field.
func TestValidation(t *testing.T) {
	a := newTestAPI(t)
	s := a.createService("svc")
	svcs := "/projects/default/services"
	routes := svcs + "/" + s.ID + "/routes"
	ups := "/projects/default/upstreams"
	node := func(n string) string { return `{"name":"u","nodes":[` + n + `]}` }
	pub := svcs + "/" + s.ID + "/publish"
	a.mustJSON("POST", routes, `{"name":"r","paths":["/a"]}`, http.StatusCreated, nil)
	a.mustJSON("POST", ups, `{"name":"u0","nodes":[{"host":"h","port":1}]}`, http.StatusCreated, nil)
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		fields []string
	}{
		{"service without name", "POST", svcs, `{"protocols":["http"]}`, []string{"name"}},
		{"service with empty name", "POST", svcs, `{"name":""}`, []string{"name"}},
		{"service with invalid name", "POST", svcs, `{"name":"!bad"}`, []string{"name"}},
		{"service path without slash", "POST", svcs, `{"name":"x","path":"api"}`, []string{"path"}},
		{"service protocol", "POST", svcs, `{"name":"x","protocols":["ftp"]}`, []string{"protocols[0]"}},
		{"service unknown upstream_id", "POST", svcs, `{"name":"x","upstream_id":"nope"}`, []string{"upstream_id"}},
		{"service inline route invalid", "POST", svcs, `{"name":"x","routes":[{"name":"ok"},{"name":"b","paths":["x"]}]}`, []string{"routes[1].paths[0]"}},
		{"route without name", "POST", routes, `{"paths":["/a"]}`, []string{"name"}},
		{"route with invalid name", "POST", routes, `{"name":"a b"}`, []string{"name"}},
		{"route path without slash", "POST", routes, `{"name":"r","paths":["anything"]}`, []string{"paths[0]"}},
		{"route unknown method", "POST", routes, `{"name":"r","methods":["GET","FETCH"]}`, []string{"methods[1]"}},
		{"upstream without name", "POST", ups, `{"nodes":[{"host":"127.0.0.1","port":80}]}`, []string{"name"}},
		{"upstream without nodes", "POST", ups, `{"name":"u"}`, []string{"nodes"}},
		{"port 0", "POST", ups, node(`{"host":"127.0.0.1","port":0}`), []string{"nodes[0].port"}},
		{"port 70000", "POST", ups, node(`{"host":"127.0.0.1","port":70000}`), []string{"nodes[0].port"}},
		{"negative weight", "POST", ups, node(`{"host":"127.0.0.1","port":80,"weight":-1}`), []string{"nodes[0].weight"}},
		{"bad scheme", "POST", ups, `{"name":"u","scheme":"gopher","nodes":[{"host":"h","port":1}]}`, []string{"scheme"}},
		{"malformed JSON", "POST", svcs, `{"name":`, []string{"body"}},
		{"not JSON at all", "POST", svcs, `name=x`, []string{"body"}},
		{"two JSON values", "POST", svcs, `{"name":"a"} {"name":"b"}`, []string{"body"}},
		{"empty body", "POST", svcs, ``, []string{"body"}},
		{"unknown field", "POST", svcs, `{"name":"x","bogus":1}`, []string{"bogus"}},
		{"wrong type", "POST", svcs, `{"name":5}`, []string{"name"}},
		{"wrong nested type", "POST", svcs, `{"name":"x","upstream":{"retries":"two"}}`, []string{"upstream.retries"}},
		{"project with invalid id", "POST", "/projects", `{"id":"Bad Id"}`, []string{"id"}},
		{"project without id", "POST", "/projects", `{"name":"x"}`, []string{"id"}},
		{"project with missing group", "POST", "/projects", `{"id":"p1","test_group":"nope"}`, []string{"test_group"}},
		{"group with invalid name", "POST", "/gateway-groups", `{"name":"No"}`, []string{"name"}},
		{"group prefix without slash", "POST", "/gateway-groups", `{"name":"g","path_prefix":"api"}`, []string{"path_prefix"}},
		{"patch unknown field", "PATCH", svcs + "/" + s.ID, `{"bogus":true}`, []string{"bogus"}},
		{"patch not an object", "PATCH", svcs + "/" + s.ID, `[1]`, []string{"body"}},
		{"patch invalid path", "PATCH", svcs + "/" + s.ID, `{"path":"x"}`, []string{"path"}},
		{"put routes", "PUT", svcs + "/" + s.ID, `{"name":"svc","routes":[]}`, []string{"routes"}},
		{"page 0", "GET", svcs + "?page=0", ``, []string{"page"}},
		{"page too large", "GET", svcs + "/" + s.ID + "/routes?page=1000001", ``, []string{"page"}},
		{"page beyond int64", "GET", svcs + "?page=9223372036854775808", ``, []string{"page"}},

		// Every bad field is named, not only the first.
		{"service with several bad fields", "POST", svcs, `{"name":"","protocols":["ftp"],"path":"v1"}`, []string{"name", "protocols[0]", "path"}},
		{"route with several bad fields", "POST", routes, `{"name":"a b","paths":["x","/ok"],"methods":["get","FETCH"]}`,
			[]string{"name", "paths[0]", "methods[0]", "methods[1]"}},
		{"upstream with several bad fields", "POST", ups, `{"name":"!u","scheme":"ftp","nodes":[{"host":"","port":0,"weight":-1},{"host":"h","port":65536}]}`,
			[]string{"name", "scheme", "nodes[0].host", "nodes[0].port", "nodes[0].weight", "nodes[1].port"}},
		{"upstream with empty name", "POST", ups, `{"name":"","nodes":[{"host":"h","port":1}]}`, []string{"name"}},
		{"upstream with invalid name", "POST", ups, `{"name":"!u","nodes":[{"host":"h","port":1}]}`, []string{"name"}},
		{"port -1", "POST", ups, node(`{"host":"127.0.0.1","port":-1}`), []string{"nodes[0].port"}},
		{"port 65536", "POST", ups, node(`{"host":"127.0.0.1","port":65536}`), []string{"nodes[0].port"}},
		{"unknown fields at any depth", "POST", svcs, `{"name":"x","bogus":1,"upstream":{"nodes":[{"host":"h","port":1,"zz":2}]}}`,
			[]string{"bogus", "upstream.nodes[0].zz"}},
		{"field name in another case", "POST", svcs, `{"Name":"x"}`, []string{"Name"}},
		{"wrong type in a list", "POST", ups, node(`{"host":"h","port":"80"}`), []string{"nodes[0].port"}},
		{"fraction for an integer", "POST", ups, `{"name":"u","retries":1.5,"nodes":[{"host":"h","port":1}]}`, []string{"retries"}},
		{"array for an object", "POST", svcs, `[{"name":"x"}]`, []string{"body"}},

		// PUT and PATCH validate like POST.
		{"patch field name in another case", "PATCH", svcs + "/" + s.ID, `{"Name":"y"}`, []string{"Name"}},
		{"patch removes the name", "PATCH", svcs + "/" + s.ID, `{"name":null}`, []string{"name"}},
		{"put without name", "PUT", svcs + "/" + s.ID, `{"description":"x"}`, []string{"name"}},
		{"route put path without slash", "PUT", routes + "/r", `{"name":"r","paths":["x"]}`, []string{"paths[0]"}},
		{"route patch unknown method", "PATCH", routes + "/r", `{"methods":["FETCH"]}`, []string{"methods[0]"}},
		{"route patch invalid name", "PATCH", routes + "/r", `{"name":""}`, []string{"name"}},
		{"upstream patch port 0", "PATCH", ups + "/u0", `{"nodes":[{"host":"h","port":0}]}`, []string{"nodes[0].port"}},
		{"upstream patch negative weight", "PATCH", ups + "/u0", `{"nodes":[{"host":"h","port":1,"weight":-3}]}`, []string{"nodes[0].weight"}},
		{"upstream put without nodes", "PUT", ups + "/u0", `{"name":"u0"}`, []string{"nodes"}},
		{"group patch prefix without slash", "PATCH", "/gateway-groups/default", `{"path_prefix":"x"}`, []string{"path_prefix"}},
		{"project patch missing group", "PATCH", "/projects/default", `{"production_group":"nope"}`, []string{"production_group"}},
		{"project patch invalid name", "PATCH", "/projects/default", `{"name":"!"}`, []string{"name"}},
		{"patch malformed JSON", "PATCH", "/projects/default", `{"name":`, []string{"body"}},

		// Publishing and rolling back.
		{"publish without group and version", "POST", pub, `{}`, []string{"group", "version"}},
		{"publish bad version and port", "POST", pub, `{"group":"default","version":"bad version","upstream":{"nodes":[{"host":"h","port":0}]}}`,
			[]string{"version", "upstream.nodes[0].port"}},
		{"publish to a missing group", "POST", pub, `{"group":"nope","version":"1"}`, []string{"group"}},
		{"publish unknown upstream field", "POST", pub, `{"group":"default","version":"1","upstream":{"nodes":[{"host":"h","port":1,"x":1}]}}`,
			[]string{"upstream.nodes[0].x"}},
		{"publish malformed JSON", "POST", pub, `{"group":`, []string{"body"}},
		{"rollback without group and version", "POST", svcs + "/" + s.ID + "/rollback", `{}`, []string{"group", "version"}},
		{"page not a number", "GET", svcs + "?page=x", ``, []string{"page"}},
		{"page_size 0", "GET", svcs + "?page_size=0", ``, []string{"page_size"}},
		{"page_size 501", "GET", svcs + "?page_size=501", ``, []string{"page_size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			r := a.do(tt.method, tt.path, body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", r.status, r.body)
			}
			if diff := cmp.Diff(tt.fields, r.fields(t)); diff != "" {
				t.Errorf("fields (-want +got):\n%s\nbody %s", diff, r.body)
			}
		})
	}
	// Nothing of the failed requests was stored.
	var list struct{ Total int }
	a.mustJSON("GET", svcs, nil, http.StatusOK, &list)
	if list.Total != 1 {
		t.Errorf("services after failed creates: %d, want 1", list.Total)
	}
}

// TestValidationBoundaries checks that the edges of the allowed ranges are accepted.
func TestValidationBoundaries(t *testing.T) {
	a := newTestAPI(t)
	var u struct{ Nodes []struct{ Port, Weight int } }
	a.mustJSON("POST", "/projects/default/upstreams",
		`{"name":"edges","nodes":[{"host":"h","port":1,"weight":0},{"host":"h","port":65535}]}`, http.StatusCreated, &u)
	if len(u.Nodes) != 2 || u.Nodes[0].Weight != 0 || u.Nodes[1].Port != 65535 || u.Nodes[1].Weight != 100 {
		t.Errorf("nodes = %+v, want ports 1 and 65535, weights 0 and the default 100", u.Nodes)
	}
	a.mustJSON("GET", "/projects/default/services?page=1000000", nil, http.StatusOK, nil)
}

func TestBodyTooLarge(t *testing.T) {
	a := newTestAPI(t) // MaxBodyBytes is 64 KiB in tests
	big := `{"name":"x","description":"` + strings.Repeat("a", 70<<10) + `"}`
	r := a.do("POST", "/projects/default/services", big)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413; body %.200s", r.status, r.body)
	}
	_ = r.problem(t)
}
