package adminapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPluginConfigValidatedOnSave: a plugin configuration the gateway
// would refuse is a 400 when the service or route is saved, naming the
// plugin in the field and the bad option in the message.
func TestPluginConfigValidatedOnSave(t *testing.T) {
	a := newTestAPI(t)
	s := a.createService("svc")
	svcs := "/projects/default/services"
	routes := svcs + "/" + s.ID + "/routes"
	a.mustJSON("POST", routes, `{"name":"r","paths":["/a"]}`, http.StatusCreated, nil)
	tests := []struct {
		name, method, path, body string
		field, message           string
	}{
		{"route mock status", "POST", routes, `{"name":"m","plugins":{"mock":{"status":700}}}`, "plugins.mock", "status"},
		{"route unknown plugin", "POST", routes, `{"name":"u","plugins":{"no-such":{}}}`, "plugins.no-such", "unknown plugin"},
		{"route unknown option", "POST", routes, `{"name":"o","plugins":{"cors":{"allow_origin":["*"]}}}`, "plugins.cors.allow_origin", "not a known field"},
		{"route patch limit-req", "PATCH", routes + "/r", `{"plugins":{"limit-req":{"rate":0}}}`, "plugins.limit-req", "rate"},
		{"service regex", "POST", svcs, `{"name":"x","plugins":{"proxy-rewrite":{"regex_uri":["(","/"]}}}`, "plugins.proxy-rewrite", "regex_uri[0]"},
		{"service patch limit-count", "PATCH", svcs + "/" + s.ID, `{"plugins":{"limit-count":{"count":1,"time_window":60,"policy":"cluster"}}}`, "plugins.limit-count", "policy"},
		{"inline route", "POST", svcs, `{"name":"y","routes":[{"name":"a","plugins":{"ip-restriction":{"allow":["10.0.0.300"]}}}]}`, "routes[0].plugins.ip-restriction", "allow[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do(tt.method, tt.path, tt.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", r.status, r.body)
			}
			if diff := cmp.Diff([]string{tt.field}, r.fields(t)); diff != "" {
				t.Errorf("fields (-want +got):\n%s\nbody %s", diff, r.body)
			}
			if !strings.Contains(string(r.body), tt.message) {
				t.Errorf("body %s does not name %q", r.body, tt.message)
			}
		})
	}
	// A good configuration of every traffic plugin is accepted.
	a.mustJSON("POST", routes, `{"name":"ok","paths":["/ok"],"plugins":{
		"mock":{"status":200,"body":{"ok":true}},
		"cors":{"allow_origins":["https://app.example"]},
		"proxy-rewrite":{"regex_uri":["^/a/(.*)","/$1"],"host":"b.example"},
		"request-transformer":{"query":{"rename":{"q":"search"}}},
		"response-transformer":{"headers":{"remove":["Server"]}},
		"limit-req":{"rate":10,"burst":5},
		"limit-count":{"count":10,"time_window":60,"policy":"redis"},
		"ip-restriction":{"allow":["10.0.0.0/8"],"trusted_proxies":["127.0.0.1"]}}}`, http.StatusCreated, nil)
}

// TestPluginMemberNamesExact (F15): the gateway decodes plugin
// configurations with encoding/json, which takes "COUNT" for count; the
// admin API refuses every spelling but the documented one, on every path
// that saves plugins, naming the member.
func TestPluginMemberNamesExact(t *testing.T) {
	a := newTestAPI(t)
	s := a.createService("svc")
	svcs := "/projects/default/services"
	routes := svcs + "/" + s.ID + "/routes"
	a.mustJSON("POST", routes, `{"name":"r","paths":["/a"]}`, http.StatusCreated, nil)
	lc := `{"limit-count":{"COUNT":3,"Time_Window":60}}`
	for _, tc := range []struct{ name, method, path, body, field string }{
		{"service", "POST", svcs, `{"name":"x","plugins":` + lc + `}`, "plugins.limit-count.COUNT"},
		{"service patch", "PATCH", svcs + "/svc", `{"plugins":` + lc + `}`, "plugins.limit-count.Time_Window"},
		{"route", "POST", routes, `{"name":"o","plugins":` + lc + `}`, "plugins.limit-count.COUNT"},
		{"route put", "PUT", routes + "/r", `{"name":"r","plugins":` + lc + `}`, "plugins.limit-count.COUNT"},
		{"inline route", "POST", svcs, `{"name":"y","routes":[{"name":"a","plugins":` + lc + `}]}`, "routes[0].plugins.limit-count.COUNT"},
		{"nested", "POST", routes, `{"name":"n","plugins":{"proxy-rewrite":{"headers":{"SET":{"X-A":"1"}}}}}`, "plugins.proxy-rewrite.headers.SET"},
		{"stream route", "POST", svcs, `{"name":"st","type":"stream","upstream":{"scheme":"tcp","nodes":[{"host":"127.0.0.1","port":1}]},
			"stream_routes":[{"name":"r","listener":"l","plugins":{"limit-conn":{"Conn":5}}}]}`, "stream_routes[0].plugins.limit-conn.Conn"},
		{"config", "PUT", "/projects/default/config", `{"services":[{"name":"c","routes":[{"name":"r","plugins":` + lc + `}]}]}`, "services[c].routes[r].plugins.limit-count.COUNT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRefused(t, a.do(tc.method, tc.path, tc.body), tc.field)
		})
	}
	// Map keys are the client's (header names), not members.
	a.mustJSON("POST", routes, `{"name":"h","paths":["/h"],"plugins":{"proxy-rewrite":{"headers":{"set":{"X-Mixed-Case":"1"}}}}}`, http.StatusCreated, nil)
}
