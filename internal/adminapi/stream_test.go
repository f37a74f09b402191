package adminapi

import (
	"net/http"
	"slices"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// A stream service keeps its type and stream routes, and what only an
// HTTP service has is refused on it; an HTTPS-only service keeps its
// redirect status.
func TestStreamServiceFields(t *testing.T) {
	a := newTestAPI(t)
	var created, got spec.Service
	a.mustJSON("POST", "/projects/default/services", `{"name":"cache","type":"stream",
		"stream_routes":[{"name":"redis","listener":"redis","plugins":{"limit-conn":{"conn":5}}},
			{"name":"tls","listener":"tls","tls":"passthrough","sni":["a.test"]}],
		"upstream":{"scheme":"tcp","nodes":[{"host":"127.0.0.1","port":6379}]}}`, http.StatusCreated, &created)
	a.mustJSON("GET", "/projects/default/services/cache", nil, http.StatusOK, &got)
	if got.Type != spec.ServiceStream || len(got.StreamRoutes) != 2 || got.StreamRoutes[1].SNI[0] != "a.test" ||
		got.StreamRoutes[0].Plugins["limit-conn"] == nil {
		t.Errorf("read back: type %q, stream routes %+v", got.Type, got.StreamRoutes)
	}
	for _, tc := range []struct {
		method, path, body string
		field              string
	}{
		{"POST", "/projects/default/services/cache/routes", `{"name":"r","paths":["/x"]}`, "type"},
		{"PATCH", "/projects/default/services/cache", `{"hosts":["a.test"]}`, "hosts"},
		{"PATCH", "/projects/default/services/cache", `{"stream_routes":[{"name":"r","listener":"l","plugins":{"limit-conn":{"conn":0}}}]}`,
			"stream_routes[0].plugins.limit-conn.conn"},
		{"POST", "/projects/default/services", `{"name":"s2","type":"stream","routes":[{"name":"r"}]}`, "routes"},
	} {
		r := a.do(tc.method, tc.path, tc.body)
		if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), tc.field) {
			t.Errorf("%s %s %s: %d %v, want 400 naming %s", tc.method, tc.path, tc.body, r.status, r.fields(t), tc.field)
		}
	}
	// An HTTP service with routes cannot become a stream service.
	a.createService("web")
	a.mustJSON("POST", "/projects/default/services/web/routes", `{"name":"r","paths":["/x"]}`, http.StatusCreated, nil)
	if r := a.do("PUT", "/projects/default/services/web", `{"name":"web","type":"stream"}`); r.status != http.StatusBadRequest ||
		!slices.Contains(r.fields(t), "type") {
		t.Errorf("an HTTP service with routes turned stream: %d %s", r.status, r.body)
	}
	var https spec.Service
	a.mustJSON("POST", "/projects/default/services", `{"name":"secure","protocols":["https"],"https_redirect_status_code":308}`,
		http.StatusCreated, nil)
	a.mustJSON("GET", "/projects/default/services/secure", nil, http.StatusOK, &https)
	if https.HTTPSRedirectStatusCode != 308 {
		t.Errorf("https_redirect_status_code read back as %d", https.HTTPSRedirectStatusCode)
	}
}
