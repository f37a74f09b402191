package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestUnpublishPage: a service's page and the services list say where it
// runs; the page's 下线 form takes it off the group, and it then runs
// nowhere; a refusal (it runs there no more) is shown on the page.
func TestUnpublishPage(t *testing.T) {
	if len(releaseOverridden) > 0 {
		t.Errorf("pages_unpublish.go redefines keys: %v", releaseOverridden)
	}
	f := newFixture(t)
	f.apiCall(t, "POST", "/projects/default/services", map[string]any{"name": "orders", "protocols": []string{"http"},
		"upstream": map[string]any{"scheme": "http", "nodes": []map[string]any{{"host": "127.0.0.1", "port": 8080, "weight": 1}}},
		"routes":   []map[string]any{{"name": "list", "paths": []string{"/orders"}}}}, http.StatusCreated, nil)
	f.apiCall(t, "POST", "/projects/default/services/orders/publish", map[string]any{"group": "default", "version": "1.0.0"}, http.StatusCreated, nil)

	list := f.send("GET", "/p/default/services", nil, false).Body.String()
	if !strings.Contains(list, "production (default) 1.0.0") {
		t.Errorf("the services list does not say where orders runs:\n%s", list)
	}
	page := f.send("GET", "/p/default/services/orders", nil, false).Body.String()
	for _, want := range []string{`id="unpublish-default"`, `name="group" value="default"`, "production (default) 1.0.0"} {
		if !strings.Contains(page, want) {
			t.Errorf("the service page lacks %s", want)
		}
	}
	rec := f.send("POST", "/p/default/services/orders/unpublish", url.Values{"group": {"default"}}, true)
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "flash=unpublished") {
		t.Fatalf("unpublish: %d %s %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	page = f.send("GET", "/p/default/services/orders", nil, false).Body.String()
	if strings.Contains(page, `id="unpublish-default"`) || !strings.Contains(page, "Runs in no gateway group.") {
		t.Errorf("after unpublish the page still shows the service running")
	}
	rec = f.send("POST", "/p/default/services/orders/unpublish", url.Values{"group": {"default"}}, true)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "does not run in gateway group") {
		t.Errorf("a second unpublish: %d, want 409 with the detail", rec.Code)
	}
}

// TestRouteDesignShown: a route's declared parameters, where the backend
// gets them, and its backend constants (never their values) show in the
// routes table.
func TestRouteDesignShown(t *testing.T) {
	if len(designOverridden) > 0 {
		t.Errorf("route_design.go redefines keys: %v", designOverridden)
	}
	f := newFixture(t)
	f.apiCall(t, "POST", "/projects/default/services", map[string]any{"name": "users", "protocols": []string{"http"},
		"routes": []map[string]any{{"name": "get", "paths": []string{"/users/{id}"},
			"parameters": []map[string]any{
				{"name": "uid", "in": "query", "type": "integer", "required": true, "backend": map[string]any{"in": "header", "name": "X-User-Id"}},
				{"name": "id", "in": "path", "backend": map[string]any{"in": "query", "name": "item"}}},
			"backend": map[string]any{"path": "/v1/users", "parameters": []map[string]any{{"in": "header", "name": "X-Key", "value": "s3cret"}}}}}},
		http.StatusCreated, nil)
	page := f.send("GET", "/p/default/services/users", nil, false).Body.String()
	for _, want := range []string{"uid (query, integer, required) → header X-User-Id", "id (path) → query item", "header X-Key = (constant)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the routes table lacks %q", want)
		}
	}
	if strings.Contains(page, "s3cret") {
		t.Error("the page shows a backend constant's value")
	}
}
