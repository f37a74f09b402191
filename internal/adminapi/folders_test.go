package adminapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
)

// groupURLs lists the URLs a group serves for a service.
func (a *testAPI) groupURLs(group string) []string {
	a.t.Helper()
	var gs struct{ Items []groupService }
	a.mustJSON("GET", "/gateway-groups/"+group+"/services", nil, http.StatusOK, &gs)
	var out []string
	for _, s := range gs.Items {
		out = append(out, s.URLs...)
	}
	return out
}

// TestFolders: URLs composed from the catalog folder's path: a service whose path is
// default takes its folder's path; changing that path moves running URLs
// only when confirmed.
func TestFolders(t *testing.T) {
	a := newTestAPI(t)
	testAndProductionGroups(a)
	var user, basic spec.Folder
	a.mustJSON("POST", "/projects/default/folders", `{"name":"用户域","path":"/user"}`, http.StatusCreated, &user)
	a.mustJSON("POST", "/projects/default/folders", map[string]any{"name": "基本信息", "path": "/user/basic", "parent_id": user.ID}, http.StatusCreated, &basic)
	if user.ID == "" || basic.ParentID != user.ID || basic.ProjectID != "default" || basic.Path != "/user/basic" {
		t.Fatalf("created folders %+v %+v", user, basic)
	}
	var folders struct {
		Items []spec.Folder
		Total int
	}
	a.mustJSON("GET", "/projects/default/folders", nil, http.StatusOK, &folders)
	if folders.Total != 2 || len(folders.Items) != 2 {
		t.Errorf("folders = %+v", folders)
	}
	var got spec.Folder
	a.mustJSON("GET", "/projects/default/folders/"+basic.ID, nil, http.StatusOK, &got)
	if diff := cmp.Diff(basic, got); diff != "" {
		t.Errorf("GET folder (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		fields             []string
	}{
		{"three segments", "POST", "/projects/default/folders", `{"name":"x","path":"/a/b/c"}`, http.StatusBadRequest, []string{"path"}},
		{"missing parent", "POST", "/projects/default/folders", `{"name":"x","parent_id":"nope"}`, http.StatusBadRequest, []string{"parent_id"}},
		{"sibling of the same name", "POST", "/projects/default/folders", `{"name":"用户域"}`, http.StatusConflict, nil},
		{"unknown field", "POST", "/projects/default/folders", `{"name":"x","paths":"/x"}`, http.StatusBadRequest, []string{"paths"}},
		{"loop", "PATCH", "/projects/default/folders/" + user.ID, map[string]any{"parent_id": basic.ID}, http.StatusConflict, nil},
		{"unknown folder", "GET", "/projects/default/folders/nope", nil, http.StatusNotFound, nil},
		{"unknown project", "GET", "/projects/nope/folders", nil, http.StatusNotFound, nil},
		{"service in an unknown folder", "POST", "/projects/default/services", `{"name":"lost","folder_id":"nope"}`, http.StatusBadRequest, []string{"folder_id"}},
		{"bad confirm", "PATCH", "/projects/default/folders/" + user.ID + "?confirm=maybe", `{"path":"/u"}`, http.StatusBadRequest, []string{"confirm"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do(tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.fields != nil && !cmp.Equal(r.fields(t), tc.fields) {
				t.Errorf("fields = %q, want %q", r.fields(t), tc.fields)
			}
		})
	}

	// A service in folder 基本信息 with the default path.
	var svc spec.Service
	a.mustJSON("POST", "/projects/default/services", map[string]any{"name": "user_info", "path": "default", "folder_id": basic.ID}, http.StatusCreated, &svc)
	if svc.FolderID != basic.ID || svc.FolderPath != "/user/basic" {
		t.Errorf("created service folder = %q %q", svc.FolderID, svc.FolderPath)
	}
	a.mustJSON("POST", "/projects/default/services/user_info/routes", `{"name":"user_info"}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services/user_info/publish", map[string]any{"group": "test", "version": "1.0.0", "upstream": testUpstream}, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services/user_info/sync", `{"from_group":"test","to_group":"production"}`, http.StatusOK, nil)
	if got := a.groupURLs("test"); !cmp.Equal(got, []string{"/api/gateway/test/default/user/basic/user_info"}) {
		t.Errorf("test URLs = %q", got)
	}

	// Renaming moves nothing; a new path moves both URLs: 409 with the list.
	a.mustJSON("PATCH", "/projects/default/folders/"+basic.ID, `{"name":"基本资料"}`, http.StatusOK, nil)
	r := a.do("PATCH", "/projects/default/folders/"+basic.ID, `{"path":"/user/active"}`)
	if r.status != http.StatusConflict {
		t.Fatalf("path change: status %d, want 409: %s", r.status, r.body)
	}
	p := r.problem(t)
	want := []release.URLChange{
		{Group: "production", ProjectID: "default", ServiceID: svc.ID, Service: "user_info", Route: "user_info", From: "/api/gateway/user/basic/user_info", To: "/api/gateway/user/active/user_info"},
		{Group: "test", ProjectID: "default", ServiceID: svc.ID, Service: "user_info", Route: "user_info", From: "/api/gateway/test/default/user/basic/user_info", To: "/api/gateway/test/default/user/active/user_info"},
	}
	if diff := cmp.Diff(want, p.Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if !strings.Contains(p.Detail, "confirm=true") || !strings.Contains(p.Detail, "/api/gateway/user/active/user_info") {
		t.Errorf("detail %q", p.Detail)
	}
	a.mustJSON("GET", "/projects/default/folders/"+basic.ID, nil, http.StatusOK, &got)
	if got.Path != "/user/basic" {
		t.Errorf("a refused change left path %q", got.Path)
	}

	a.mustJSON("PATCH", "/projects/default/folders/"+basic.ID+"?confirm=true", `{"path":"/user/active"}`, http.StatusOK, &got)
	if got.Path != "/user/active" || got.Name != "基本资料" {
		t.Errorf("after confirmed change: %+v", got)
	}
	if got := a.groupURLs("production"); !cmp.Equal(got, []string{"/api/gateway/user/active/user_info"}) {
		t.Errorf("production URLs = %q", got)
	}
	var hist struct{ Items []spec.HistoryEvent }
	a.mustJSON("GET", "/projects/default/services/user_info/history", nil, http.StatusOK, &hist)
	if len(hist.Items) < 2 || hist.Items[0].Action != "move" || hist.Items[1].Action != "move" {
		t.Errorf("history = %+v, want two move events first", hist.Items)
	}

	// Deleting: not with children, not with services, not while a running
	// version takes its path from the folder.
	for _, id := range []string{user.ID, basic.ID} {
		if r := a.do("DELETE", "/projects/default/folders/"+id, nil); r.status != http.StatusConflict {
			t.Errorf("DELETE folder %s: status %d, want 409: %s", id, r.status, r.body)
		}
	}
	a.mustJSON("PATCH", "/projects/default/services/user_info", `{"folder_id":null,"path":"/own"}`, http.StatusOK, nil)
	if r := a.do("DELETE", "/projects/default/folders/"+basic.ID, nil); r.status != http.StatusConflict || !strings.Contains(r.problem(t).Detail, "runs in gateway group") {
		t.Errorf("DELETE folder of a running version: status %d, want 409: %s", r.status, r.body)
	}
	var empty spec.Folder
	a.mustJSON("POST", "/projects/default/folders", `{"name":"标签","path":"/tag"}`, http.StatusCreated, &empty)
	a.mustJSON("DELETE", "/projects/default/folders/"+empty.ID, nil, http.StatusNoContent, nil)
}

// TestGroupPrefixMovesURLs changes the prefix of a group where a service
// runs: 409 with the URLs unless confirmed; then a new revision.
func TestGroupPrefixMovesURLs(t *testing.T) {
	a := newTestAPI(t)
	testAndProductionGroups(a)
	a.createService("orders")
	a.mustJSON("POST", "/projects/default/services/orders/routes", `{"name":"list","paths":["/list"]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services/orders/publish", map[string]any{"group": "test", "version": "1.0.0", "upstream": testUpstream}, http.StatusCreated, nil)
	var g spec.GatewayGroup
	a.mustJSON("PATCH", "/gateway-groups/test", `{"description":"the test environment"}`, http.StatusOK, &g)
	rev := g.Revision

	r := a.do("PATCH", "/gateway-groups/test", `{"path_prefix":"/t/{project}"}`)
	if r.status != http.StatusConflict {
		t.Fatalf("status %d, want 409: %s", r.status, r.body)
	}
	want := []release.URLChange{{Group: "test", ProjectID: "default", ServiceID: r.problem(t).Changes[0].ServiceID, Service: "orders", Route: "list",
		From: "/api/gateway/test/default/list", To: "/t/default/list"}}
	if diff := cmp.Diff(want, r.problem(t).Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	a.mustJSON("GET", "/gateway-groups/test", nil, http.StatusOK, &g)
	if g.PathPrefix != "/api/gateway/test/{project}" || g.Revision != rev {
		t.Errorf("a refused change left %+v", g)
	}
	g = spec.GatewayGroup{}
	a.mustJSON("PUT", "/gateway-groups/test?confirm=true", `{"name":"test","path_prefix":"/t/{project}"}`, http.StatusOK, &g)
	if g.PathPrefix != "/t/{project}" || g.Revision <= rev || g.Description != "" {
		t.Errorf("after confirmed change: %+v (revision was %d)", g, rev)
	}
	if got := a.groupURLs("test"); !cmp.Equal(got, []string{"/t/default/list"}) {
		t.Errorf("URLs = %q", got)
	}
}

// TestGroupDelete: refused while a service runs there or a project names it
// as a stage; an unused group goes.
func TestGroupDelete(t *testing.T) {
	a := newTestAPI(t)
	testAndProductionGroups(a)
	a.createService("orders")
	a.mustJSON("POST", "/projects/default/services/orders/routes", `{"name":"list","paths":["/list"]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services/orders/publish", map[string]any{"group": "test", "version": "1.0.0", "upstream": testUpstream}, http.StatusCreated, nil)
	if r := a.do("DELETE", "/gateway-groups/test", nil); r.status != http.StatusConflict || !strings.Contains(r.problem(t).Detail, "still runs 1 service") {
		t.Errorf("DELETE group with a service: %d %s", r.status, r.body)
	}
	a.mustJSON("PATCH", "/projects/default", `{"production_group":"production"}`, http.StatusOK, nil)
	if r := a.do("DELETE", "/gateway-groups/production", nil); r.status != http.StatusConflict || !strings.Contains(r.problem(t).Detail, "production group of project") &&
		!strings.Contains(r.problem(t).Detail, `project(s) ["default"]`) {
		t.Errorf("DELETE a project's stage group: %d %s", r.status, r.body)
	}
	a.mustJSON("POST", "/gateway-groups", `{"name":"staging","path_prefix":"/staging","description":"d"}`, http.StatusCreated, nil)
	a.mustJSON("DELETE", "/gateway-groups/staging", nil, http.StatusNoContent, nil)
	a.mustJSON("GET", "/gateway-groups/staging", nil, http.StatusNotFound, nil)
}
