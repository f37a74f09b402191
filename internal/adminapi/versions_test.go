package adminapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
)

const petstore = "/projects/default/services/petstore"

// publishedPetstore is a service with two routes and an inline upstream,
// published as 1.0.0 to the default group.
func publishedPetstore(a *testAPI) {
	a.t.Helper()
	a.mustJSON("POST", "/projects/default/services", map[string]any{"name": "petstore", "protocols": []string{"http"},
		"upstream": testUpstream}, http.StatusCreated, nil)
	a.mustJSON("POST", petstore+"/routes", `{"name":"list","paths":["/pets"],"methods":["GET"],"backend":{"path":"/v1/pets"}}`, http.StatusCreated, nil)
	a.mustJSON("POST", petstore+"/routes", `{"name":"get","paths":["/pets/{id}"],"methods":["GET"],"plugins":{"limit-count":{"count":10,"time_window":60}}}`, http.StatusCreated, nil)
	a.mustJSON("POST", petstore+"/publish", map[string]any{"group": "default", "version": "1.0.0"}, http.StatusCreated, nil)
}

func changePaths(cs []spec.FieldChange) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Op + " " + c.Path
	}
	return out
}

// TestRestoreVersion: "edit from this version" makes the template what a
// version holds, routes matched by name, in one audited change that no
// gateway sees; the diff of the version and the template is then empty.
func TestRestoreVersion(t *testing.T) {
	a := newTestAPI(t)
	publishedPetstore(a)
	var tmpl spec.Service
	a.mustJSON("GET", petstore, nil, http.StatusOK, &tmpl)
	listID := tmpl.Routes[slices.IndexFunc(tmpl.Routes, func(r spec.Route) bool { return r.Name == "list" })].ID

	// Edit the template: a route changed, one removed, one added, a
	// member of the service set.
	a.mustJSON("PATCH", petstore+"/routes/list", `{"backend":{"path":"/v2/pets"}}`, http.StatusOK, nil)
	a.mustJSON("DELETE", petstore+"/routes/get", nil, http.StatusNoContent, nil)
	a.mustJSON("POST", petstore+"/routes", `{"name":"create","paths":["/pets"],"methods":["POST"]}`, http.StatusCreated, nil)
	a.mustJSON("PATCH", petstore, `{"description":"edited"}`, http.StatusOK, nil)

	var d serviceDiff
	a.mustJSON("GET", petstore+"/diff?from=1.0.0", nil, http.StatusOK, &d)
	want := []string{"added description", "changed routes[name=list].backend.path", "removed routes[name=get]", "added routes[name=create]"}
	if d.From != "1.0.0" || d.To != "template" || !cmp.Equal(changePaths(d.Changes), want) {
		t.Fatalf("diff 1.0.0 → template = %+v, want %v", d, want)
	}
	var g spec.GatewayGroup
	a.mustJSON("GET", "/gateway-groups/default", nil, http.StatusOK, &g)

	var restored spec.Service
	a.mustJSON("POST", petstore+"/versions/1.0.0/restore", nil, http.StatusOK, &restored)
	if restored.ID != tmpl.ID || restored.State != tmpl.State || restored.Description != "" || len(restored.Routes) != 2 ||
		len(restored.Running) != 1 || restored.Running[0].Version != "1.0.0" {
		t.Fatalf("restored = %+v", restored)
	}
	a.mustJSON("GET", petstore+"/diff?from=1.0.0&to=template", nil, http.StatusOK, &d)
	if len(d.Changes) != 0 {
		t.Fatalf("after the restore, 1.0.0 → template = %+v, want nothing", d.Changes)
	}
	a.mustJSON("GET", petstore, nil, http.StatusOK, &tmpl)
	for _, r := range tmpl.Routes {
		if r.Name == "list" && r.ID != listID {
			t.Errorf("route list has a new id %s, want its own %s kept", r.ID, listID)
		}
		if r.Name == "create" {
			t.Errorf("route create is still in the template")
		}
	}

	var after spec.GatewayGroup
	a.mustJSON("GET", "/gateway-groups/default", nil, http.StatusOK, &after)
	if after.Revision != g.Revision {
		t.Errorf("the group's revision moved %d → %d: the template is not served", g.Revision, after.Revision)
	}
	var audit struct{ Items []spec.AuditEvent }
	a.mustJSON("GET", "/audit-events?action=service.restore", nil, http.StatusOK, &audit)
	if len(audit.Items) != 1 || !strings.HasSuffix(audit.Items[0].Resource, "/versions/1.0.0") ||
		!strings.Contains(string(audit.Items[0].Detail), `"before"`) {
		t.Errorf("audit = %+v, want one service.restore of version 1.0.0 with before and after", audit.Items)
	}

	// Refusals.
	if r := a.do("POST", petstore+"/versions/9.9.9/restore", nil); r.status != http.StatusNotFound {
		t.Errorf("restore of a missing version: %d %s", r.status, r.body)
	}
	if r := a.do("POST", petstore+"/versions/1.0.0/restore", `{"routes":[]}`); r.status != http.StatusBadRequest {
		t.Errorf("restore with a body: %d %s, want 400", r.status, r.body)
	}
	// To disabled, whatever state the publish of 1.0.0 left.
	for _, action := range []string{"submit", "publish"} {
		a.mustJSON("GET", petstore, nil, http.StatusOK, &tmpl)
		if slices.Contains(tmpl.AllowedActions, action) {
			a.mustJSON("POST", petstore+"/actions/"+action, nil, http.StatusOK, nil)
		}
	}
	a.mustJSON("POST", petstore+"/actions/disable", nil, http.StatusOK, nil)
	if r := a.do("POST", petstore+"/versions/1.0.0/restore", nil); r.status != http.StatusConflict || r.problem(t).State != spec.StateDisabled {
		t.Errorf("restore of a disabled service: %d %s, want 409 naming the state", r.status, r.body)
	}
}

// TestRestoreVersionRefusesWhatTodayRefuses: a version whose upstream is
// gone cannot become the template; the refusal names the member and
// leaves the template as it was.
func TestRestoreVersionRefusesWhatTodayRefuses(t *testing.T) {
	a := newTestAPI(t)
	a.mustJSON("POST", "/projects/default/upstreams", map[string]any{"name": "pets", "nodes": testUpstream["nodes"]}, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services", `{"name":"petstore","upstream_id":"pets"}`, http.StatusCreated, nil)
	a.mustJSON("POST", petstore+"/routes", `{"name":"list","paths":["/pets"]}`, http.StatusCreated, nil)
	a.mustJSON("POST", petstore+"/publish", `{"group":"default","version":"1.0.0"}`, http.StatusCreated, nil)
	a.mustJSON("PUT", petstore, map[string]any{"name": "petstore", "upstream": testUpstream}, http.StatusOK, nil)
	a.mustJSON("DELETE", "/projects/default/upstreams/pets", nil, http.StatusNoContent, nil)
	a.mustJSON("DELETE", petstore+"/routes/list", nil, http.StatusNoContent, nil)

	r := a.do("POST", petstore+"/versions/1.0.0/restore", nil)
	if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), "upstream_id") {
		t.Fatalf("restore of a version whose upstream is gone: %d %s", r.status, r.body)
	}
	var tmpl spec.Service
	a.mustJSON("GET", petstore, nil, http.StatusOK, &tmpl)
	if tmpl.Upstream == nil || len(tmpl.Routes) != 0 {
		t.Errorf("the refused restore changed the template: %+v", tmpl)
	}
}

// TestServiceDiff compares two versions and refuses what names neither a
// version nor the template.
func TestServiceDiff(t *testing.T) {
	a := newTestAPI(t)
	publishedPetstore(a)
	a.mustJSON("PATCH", petstore+"/routes/get", `{"plugins":{"limit-count":{"count":20,"time_window":60}}}`, http.StatusOK, nil)
	nodes := []map[string]any{{"host": "127.0.0.1", "port": 8080, "weight": 100}, {"host": "127.0.0.2", "port": 8080, "weight": 100}}
	a.mustJSON("PATCH", petstore, map[string]any{"upstream": map[string]any{"scheme": "http", "nodes": nodes}}, http.StatusOK, nil)
	a.mustJSON("POST", petstore+"/publish", map[string]any{"group": "default", "version": "1.1.0"}, http.StatusCreated, nil)

	var d serviceDiff
	a.mustJSON("GET", petstore+"/diff?from=1.0.0&to=1.1.0", nil, http.StatusOK, &d)
	want := []spec.FieldChange{
		{Path: "routes[name=get].plugins.limit-count.count", Op: "changed", From: 10.0, To: 20.0},
		{Path: "upstream.nodes[host:port=127.0.0.2:8080]", Op: "added", To: map[string]any{"host": "127.0.0.2", "port": 8080.0, "weight": 100.0}},
	}
	if diff := cmp.Diff(want, d.Changes); diff != "" {
		t.Errorf("1.0.0 → 1.1.0 (-want +got):\n%s", diff)
	}
	a.mustJSON("GET", petstore+"/diff?from=1.1.0", nil, http.StatusOK, &d)
	if len(d.Changes) != 0 {
		t.Errorf("1.1.0 → template = %+v, want nothing (just published)", d.Changes)
	}
	a.mustJSON("GET", petstore+"/diff?from=template&to=1.0.0", nil, http.StatusOK, &d)
	if len(d.Changes) != 2 || d.Changes[0].From != 20.0 {
		t.Errorf("template → 1.0.0 = %+v, want the two changes backwards", d.Changes)
	}

	for _, tc := range []struct{ query, field string }{
		{"", "from"},
		{"?from=1.0.0&to=9.9.9", "to"},
		{"?from=no%20such", "from"},
		{"?from=1.0.0&too=1", "too"},
	} {
		r := a.do("GET", petstore+"/diff"+tc.query, nil)
		if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), tc.field) {
			t.Errorf("diff%s: %d %s, want 400 naming %s", tc.query, r.status, r.body, tc.field)
		}
	}
	if r := a.do("GET", "/projects/default/services/nope/diff?from=1.0.0", nil); r.status != http.StatusNotFound {
		t.Errorf("diff of a missing service: %d", r.status)
	}
}

// TestSyncDryRun: a dry run answers the changes the sync would make in the
// target group, refuses what the sync refuses and changes nothing; the
// sync then answers the same changes.
func TestSyncDryRun(t *testing.T) {
	a := newTestAPI(t)
	testAndProductionGroups(a)
	a.createService("petstore")
	a.mustJSON("POST", petstore+"/routes", `{"name":"get_pet","paths":["/pet/{id}"],"methods":["GET"]}`, http.StatusCreated, nil)
	a.mustJSON("POST", petstore+"/publish", map[string]any{"group": "test", "version": "1.0.0", "upstream": nodesOn(8001)}, http.StatusCreated, nil)

	var prod spec.GatewayGroup
	a.mustJSON("GET", "/gateway-groups/production", nil, http.StatusOK, &prod)
	body := `{"from_group":"test","to_group":"production","upstream":{"nodes":[{"host":"127.0.0.1","port":8002}]}}`
	var dry syncResponse
	a.mustJSON("POST", petstore+"/sync?dry_run=true", body, http.StatusOK, &dry)
	got := changePaths(dry.Changes)
	for _, p := range []string{"added version", "added routes", "added upstream", "added name"} {
		if !slices.Contains(got, p) {
			t.Errorf("dry run into an empty group: %v lacks %q", got, p)
		}
	}
	if dry.Applied || dry.Version != "1.0.0" || dry.Group != "production" || dry.Revision != prod.Revision {
		t.Errorf("dry run answer = %+v (production at revision %d)", dry, prod.Revision)
	}
	var gs struct{ Items []groupService }
	a.mustJSON("GET", "/gateway-groups/production/services", nil, http.StatusOK, &gs)
	if len(gs.Items) != 0 {
		t.Fatalf("the dry run left %+v running in production", gs.Items)
	}
	var hist struct{ Total int }
	a.mustJSON("GET", petstore+"/history?group=production", nil, http.StatusOK, &hist)
	if hist.Total != 0 {
		t.Errorf("the dry run left %d history entries", hist.Total)
	}

	var real syncResponse
	a.mustJSON("POST", petstore+"/sync", body, http.StatusOK, &real)
	if !real.Applied || real.Revision <= prod.Revision || !cmp.Equal(changePaths(real.Changes), got) {
		t.Errorf("sync answer = %+v, want applied with the dry run's changes %v", real, got)
	}

	// A new version in test: the preview names the version, the route
	// and the nodes that change in production.
	a.mustJSON("PATCH", petstore+"/routes/get_pet", `{"methods":["GET","HEAD"]}`, http.StatusOK, nil)
	a.mustJSON("POST", petstore+"/publish", map[string]any{"group": "test", "version": "1.1.0", "upstream": nodesOn(8001)}, http.StatusCreated, nil)
	a.mustJSON("POST", petstore+"/sync?dry_run=true", `{"from_group":"test","to_group":"production"}`, http.StatusOK, &dry)
	want := []string{"changed routes[name=get_pet].methods", "changed version"}
	if !cmp.Equal(changePaths(dry.Changes), want) {
		t.Errorf("dry run of 1.1.0 over 1.0.0 = %+v, want %v (production's own upstream kept)", dry.Changes, want)
	}
	a.mustJSON("POST", petstore+"/sync?dry_run=true", `{"from_group":"test","to_group":"production","upstream":{"nodes":[{"host":"127.0.0.1","port":8003}]}}`, http.StatusOK, &dry)
	want = []string{"changed routes[name=get_pet].methods", "removed upstream.nodes[host:port=127.0.0.1:8002]", "added upstream.nodes[host:port=127.0.0.1:8003]", "changed version"}
	if !cmp.Equal(changePaths(dry.Changes), want) {
		t.Errorf("dry run with new nodes = %v, want %v", changePaths(dry.Changes), want)
	}

	// The dry run refuses what the sync refuses.
	for _, b := range []string{`{"from_group":"test","to_group":"test"}`, `{"from_group":"test","to_group":"production","version":"1.0.0"}`} {
		d, r := a.do("POST", petstore+"/sync?dry_run=true", b), a.do("POST", petstore+"/sync", b)
		if d.status != r.status || d.status < 400 {
			t.Errorf("%s: dry run %d, sync %d", b, d.status, r.status)
		}
	}
	if r := a.do("POST", petstore+"/sync?dry_run=maybe", body); r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), "dry_run") {
		t.Errorf("dry_run=maybe: %d %s", r.status, r.body)
	}
}
