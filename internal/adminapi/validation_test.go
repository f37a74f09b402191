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

func TestBodyTooLarge(t *testing.T) {
	a := newTestAPI(t) // MaxBodyBytes is 64 KiB in tests
	big := `{"name":"x","description":"` + strings.Repeat("a", 70<<10) + `"}`
	r := a.do("POST", "/projects/default/services", big)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413; body %.200s", r.status, r.body)
	}
	_ = r.problem(t)
}
