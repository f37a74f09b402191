package adminapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
)

// compositeRouteBody is a composite route at path calling service/route.
func compositeRouteBody(name, path, service, route string) map[string]any {
	return map[string]any{"name": name, "paths": []string{path}, "methods": []string{"GET"},
		"backend": map[string]any{"type": "composite", "composite": map[string]any{
			"steps":    []map[string]any{{"name": "call", "service": service, "route": route}},
			"response": map[string]any{"body": "steps.call.body"},
		}}}
}

// TestCompositeDependenciesEndpoint: the graph around a service, the 409
// of a change that would break a running composite (problem+json naming
// each dependent) and of a delete a template's composite holds.
func TestCompositeDependenciesEndpoint(t *testing.T) {
	a := newTestAPI(t)
	const P = "/projects/default/services/"
	users := a.createService("users")
	a.mustJSON("POST", P+"users/routes", map[string]any{"name": "get-user", "paths": []string{"/users/{id}"}, "methods": []string{"GET"}}, http.StatusCreated, nil)
	profile := a.createService("profile")
	a.mustJSON("POST", P+"profile/routes", compositeRouteBody("get-profile", "/profile/{id}", "users", "get-user"), http.StatusCreated, nil)
	orders := a.createService("orders")
	a.mustJSON("POST", P+"orders/routes", compositeRouteBody("get-order", "/orders/{id}", "users", "get-user"), http.StatusCreated, nil)

	// The composite first: what it calls does not run.
	pub := map[string]any{"group": "default", "version": "1.0.0", "upstream": testUpstream}
	r := a.do("POST", P+"profile/publish", pub)
	if r.status != http.StatusConflict {
		t.Fatalf("publish of the composite first: status %d, body %s", r.status, r.body)
	}
	if p := r.problem(t); len(p.Dependencies) != 1 || !p.Dependencies[0].Missing || !strings.Contains(p.Detail, `composite API "profile/get-profile"`) {
		t.Errorf("problem = %+v", p)
	}
	a.mustJSON("POST", P+"users/publish", pub, http.StatusCreated, nil)
	a.mustJSON("POST", P+"profile/publish", pub, http.StatusCreated, nil)

	r = a.do("POST", P+"users/unpublish", map[string]any{"group": "default"})
	if r.status != http.StatusConflict {
		t.Fatalf("unpublish of the API called: status %d, body %s", r.status, r.body)
	}
	p := r.problem(t)
	want := []release.Dependency{{Group: "default", ProjectID: "default", ServiceID: profile.ID, Service: "profile", Version: "1.0.0",
		Route: "get-profile", UsesService: "users", UsesRoute: "get-user", Reason: release.ReasonNotRunning}}
	if diff := cmp.Diff(want, p.Dependencies); diff != "" {
		t.Errorf("problem's dependencies (-want +got):\n%s", diff)
	}
	if p.Type != typeConflict || !strings.Contains(p.Detail, `service "users" is used in group "default" by composite API "profile/get-profile"`) {
		t.Errorf("problem = %s %q", p.Type, p.Detail)
	}

	var deps spec.ServiceDependencies
	a.mustJSON("GET", P+"users/dependencies", nil, http.StatusOK, &deps)
	wantDeps := spec.ServiceDependencies{Uses: []spec.UsedAPI{}, UsedBy: []spec.UsingCall{
		{Service: "profile", ServiceID: profile.ID, Route: "get-profile", UsesRoute: "get-user", Group: "default", Version: "1.0.0"},
		{Service: "orders", ServiceID: orders.ID, Route: "get-order", UsesRoute: "get-user", Template: true},
		{Service: "profile", ServiceID: profile.ID, Route: "get-profile", UsesRoute: "get-user", Template: true},
	}}
	if diff := cmp.Diff(wantDeps, deps); diff != "" {
		t.Errorf("dependencies of users (-want +got):\n%s", diff)
	}
	a.mustJSON("GET", P+"profile/dependencies", nil, http.StatusOK, &deps)
	if len(deps.Uses) != 1 || deps.Uses[0].Service != "users" || !cmp.Equal(deps.Uses[0].Groups, []string{"default"}) || len(deps.Uses[0].MissingIn) != 0 {
		t.Errorf("dependencies of profile = %+v", deps)
	}
	if r := a.do("GET", P+"nope/dependencies", nil); r.status != http.StatusNotFound {
		t.Errorf("dependencies of a missing service: status %d", r.status)
	}

	// Delete: held by the templates that call it, once nothing runs.
	a.mustJSON("POST", P+"profile/unpublish", map[string]any{"group": "default"}, http.StatusOK, nil)
	a.mustJSON("POST", P+"users/unpublish", map[string]any{"group": "default"}, http.StatusOK, nil)
	r = a.do("DELETE", P+users.ID, nil)
	if r.status != http.StatusConflict {
		t.Fatalf("delete of a service templates call: status %d, body %s", r.status, r.body)
	}
	if p := r.problem(t); len(p.Dependencies) != 2 || p.Dependencies[0].Group != "" || !strings.Contains(p.Detail, "of the service templates") {
		t.Errorf("problem = %+v", p)
	}
	a.mustJSON("DELETE", P+orders.ID, nil, http.StatusNoContent, nil)
	a.mustJSON("DELETE", P+profile.ID, nil, http.StatusNoContent, nil)
	a.mustJSON("DELETE", P+users.ID, nil, http.StatusNoContent, nil)
}

// TestPruneKeepsWhatCompositesCall: a prune that deletes a service a
// remaining template's composite calls is refused; deleting both in one
// document is not, whatever the order of the plan.
func TestPruneKeepsWhatCompositesCall(t *testing.T) {
	a := newTestAPI(t)
	const P = "/projects/default/services/"
	a.createService("users")
	a.mustJSON("POST", P+"users/routes", map[string]any{"name": "get-user", "paths": []string{"/users/{id}"}}, http.StatusCreated, nil)
	a.createService("profile")
	a.mustJSON("POST", P+"profile/routes", compositeRouteBody("get-profile", "/profile/{id}", "users", "get-user"), http.StatusCreated, nil)
	onlyProfile := "services:\n- name: profile\n  routes:\n  - name: get-profile\n    paths: ['/profile/{id}']\n    methods: [GET]\n" +
		"    backend: {type: composite, composite: {steps: [{name: call, service: users, route: get-user}], response: {body: steps.call.body}}}\n"
	r := a.do("PUT", "/projects/default/config?prune=true", onlyProfile)
	if r.status != http.StatusConflict {
		t.Fatalf("prune of a called service: %d %s", r.status, r.body)
	}
	if p := r.problem(t); len(p.Dependencies) != 1 || p.Dependencies[0].Service != "profile" || p.Dependencies[0].UsesService != "users" {
		t.Errorf("problem = %+v", p)
	}
	a.mustJSON("GET", P+"users", nil, http.StatusOK, nil)
	// Both gone in one document.
	a.mustJSON("PUT", "/projects/default/config?prune=true", "services: []\n", http.StatusOK, nil)
	if r := a.do("GET", P+"users", nil); r.status != http.StatusNotFound {
		t.Errorf("users after the prune of both: %d", r.status)
	}
}
