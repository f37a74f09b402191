package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// TestDataMessagesOverrideNothing: i18n_data.go adds keys only.
func TestDataMessagesOverrideNothing(t *testing.T) {
	if len(dataOverridden) > 0 {
		t.Errorf("i18n_data.go redefines keys: %v", dataOverridden)
	}
}

// redirectPath is the path a redirect sends to, without its query.
func redirectPath(rec interface{ Header() http.Header }) string {
	return strings.SplitN(rec.Header().Get("Location"), "?", 2)[0]
}

const dsPassword = "s3cret-Never-Shown"

// newDataSource registers a data source on database db through the
// console and answers its page's path.
func (f *fixture) newDataSource(t *testing.T, name, db string) string {
	t.Helper()
	rec := f.send("POST", "/p/default/data-sources", url.Values{"name": {name}, "type": {"postgres"}, "host": {"127.0.0.1"},
		"port": {"5432"}, "database": {db}, "user": {"postgres"}, "password": {dsPassword}, "params": {"sslmode=disable"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create data source: %d %s", rec.Code, rec.Body)
	}
	return redirectPath(rec)
}

// TestDataSourcePages: create, edit keeping the password, test the
// connection, delete; no page ever carries the password.
func TestDataSourcePages(t *testing.T) {
	db := storetest.PostgresDatabase(t, "create table users (id int primary key, name text not null, age int)")
	f := newFixture(t)
	page := f.newDataSource(t, "crm", db)
	check := func(path string) string {
		t.Helper()
		rec := f.send("GET", path, nil, false)
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), dsPassword) {
			t.Fatalf("GET %s renders the password", path)
		}
		return rec.Body.String()
	}
	if body := check("/p/default/data-sources"); !strings.Contains(body, `id="ds-crm"`) {
		t.Fatalf("the list lacks crm:\n%s", body)
	}
	if body := check(page); !strings.Contains(body, `id="ds-password-kept"`) || !strings.Contains(body, `name="password" value=""`) {
		t.Fatalf("the edit form does not say the password is kept:\n%s", body)
	}
	// Edit with an empty password: the description changes, the
	// password is kept (the connection test would work either way on a
	// trust database, so the admin API's has_password says it).
	rec := f.send("POST", page, url.Values{"name": {"crm"}, "description": {"the CRM"}, "type": {"postgres"}, "host": {"127.0.0.1"},
		"port": {"5432"}, "database": {db}, "user": {"postgres"}, "password": {""}, "params": {"sslmode=disable"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", rec.Code, rec.Body)
	}
	var ds spec.DataSource
	f.apiCall(t, "GET", "/projects/default/data-sources/crm", nil, http.StatusOK, &ds)
	if ds.Description != "the CRM" || !ds.HasPassword || ds.Params["sslmode"] != "disable" {
		t.Fatalf("after the edit: %+v", ds)
	}
	// A refused edit shows the form again, never the password typed.
	rec = f.send("POST", page, url.Values{"name": {"crm"}, "type": {"oracle"}, "host": {"127.0.0.1"}, "port": {"x"},
		"database": {db}, "user": {"postgres"}, "password": {dsPassword}}, true)
	if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), dsPassword) {
		t.Fatalf("refused edit: %d, password shown %v", rec.Code, strings.Contains(rec.Body.String(), dsPassword))
	}
	rec = f.send("POST", page+"/test", nil, true)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `id="ds-test-result" data-ok="true"`) {
		t.Fatalf("test connection: %d\n%s", rec.Code, rec.Body)
	}
	if body := check(page); !strings.Contains(body, "Delete data source “crm” (postgres, 127.0.0.1") {
		t.Fatalf("the delete confirmation does not name the data source:\n%s", body)
	}
	rec = f.send("POST", page+"/delete", nil, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body)
	}
	if body := check("/p/default/data-sources"); strings.Contains(body, `id="ds-crm"`) {
		t.Fatal("crm is still listed")
	}
}

// TestFolderPages: a folder is created under another with its path, a
// path that moves running URLs asks for a confirmation naming them.
func TestFolderPages(t *testing.T) {
	f := newFixture(t)
	rec := f.send("POST", "/p/default/folders", url.Values{"name": {"users"}, "path": {"/user"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var fl struct{ Items []spec.Folder }
	f.apiCall(t, "GET", "/projects/default/folders", nil, http.StatusOK, &fl)
	if len(fl.Items) != 1 {
		t.Fatalf("folders: %+v", fl)
	}
	top := fl.Items[0]
	rec = f.send("POST", "/p/default/folders", url.Values{"name": {"basic"}, "path": {"/user/basic"}, "parent_id": {top.ID}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create child: %d %s", rec.Code, rec.Body)
	}
	body := f.send("GET", "/p/default/folders", nil, false).Body.String()
	for _, want := range []string{`id="folder-path-users">/user<`, `id="folder-path-basic">/user/basic<`, `id="folder-basic" data-depth="1"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the tree lacks %s:\n%s", want, body)
		}
	}
	// A service in the folder with path default, running in the test
	// group: a new path moves its URL.
	svc := map[string]any{"name": "people", "path": "default", "folder_id": top.ID,
		"upstream": map[string]any{"nodes": []map[string]any{{"host": "127.0.0.1", "port": 9, "weight": 1}}},
		"routes":   []map[string]any{{"name": "list", "paths": []string{"/list"}, "methods": []string{"GET"}}}}
	f.apiCall(t, "POST", "/projects/default/services", svc, http.StatusCreated, nil)
	f.apiCall(t, "POST", "/projects/default/services/people/publish", map[string]any{"group": "default", "version": "1.0.0"}, http.StatusCreated, nil)
	move := url.Values{"name": {"users"}, "path": {"/people"}, "parent_id": {""}, "description": {""}}
	rec = f.send("POST", "/p/default/folders/"+top.ID, move, true)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), `id="folder-move-confirm"`) ||
		!strings.Contains(rec.Body.String(), "/user/list") || !strings.Contains(rec.Body.String(), "/people/list") {
		t.Fatalf("a moving path: %d\n%s", rec.Code, rec.Body)
	}
	move.Set("confirm", "true")
	if rec = f.send("POST", "/p/default/folders/"+top.ID, move, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("confirmed move: %d %s", rec.Code, rec.Body)
	}
	if body := f.send("GET", "/p/default/folders", nil, false).Body.String(); !strings.Contains(body, `id="folder-path-users">/people<`) {
		t.Errorf("the path did not change:\n%s", body)
	}
}

// dataOddFields are the fields of the data pages' forms, for
// TestFormsNeverAnswer500's odd values.
var dataOddFields = []string{"data_source", "table", "columns", "columns_text", "filter_param", "filter_column", "filter_op",
	"filter_in", "order", "page_size", "max_page_size", "sql", "param_name", "param_in", "param_type", "param_required",
	"allow_write", "mode", "host", "port", "database", "user", "password", "params", "pool_max_open", "parent_id", "route"}

// dataOddPaths makes a data source (on a port nothing listens on), a
// folder and a sql route for TestFormsNeverAnswer500, and answers the
// data pages' forms and pages to try odd values on.
func dataOddPaths(t *testing.T, f *fixture, sid string) (posts, gets []string) {
	t.Helper()
	var ds spec.DataSource
	f.apiCall(t, "POST", "/projects/default/data-sources", map[string]any{"name": "odd", "type": "postgres", "host": "127.0.0.1",
		"port": 1, "database": "x", "user": "x", "password": dsPassword}, http.StatusCreated, &ds)
	var fo spec.Folder
	f.apiCall(t, "POST", "/projects/default/folders", map[string]any{"name": "odd", "path": "/odd"}, http.StatusCreated, &fo)
	d, fl := "/p/default/data-sources/"+ds.ID, "/p/default/folders/"+fo.ID
	api := "/p/default/services/" + sid + "/data-api"
	posts = []string{"/p/default/data-sources", d, d + "/test", d + "/delete", "/p/default/data-sources/nope", "/p/default/data-sources/nope/test",
		"/p/default/folders", fl, fl + "/delete", "/p/default/folders/nope", "/p/default/folders/nope/delete",
		api, api + "/nope", api + "/nope/preview", "/p/default/services/nope/data-api", "/p/nope/folders", "/p/nope/data-sources"}
	gets = []string{"/p/default/data-sources", d, "/p/default/data-sources/nope", "/p/default/folders", "/p/default/data-apis",
		"/p/default/data-apis?service=nope", "/p/default/data-apis?service=" + sid, api, api + "?mode=script&data_source=odd",
		api + "?mode=wizard&data_source=odd&table=%00", api + "?route=nope", api + "/nope", "/p/default/services/nope/data-api"}
	return posts, gets
}

// TestDataPagesFollowPermissions: a developer (folder:read and
// service:read, no datasource:read) sees Folders and Data APIs in the
// navigation, not Data sources, gets 403 naming the permission on the
// data sources page, and no form to change folders.
func TestDataPagesFollowPermissions(t *testing.T) {
	admin := newFixture(t)
	admin.mkUser(t, "dev", "user")
	admin.member(t, "default", "dev", "developer")
	dev := admin.as(t, "dev")
	body := dev.send("GET", "/p/default/folders", nil, false).Body.String()
	if !strings.Contains(body, `id="nav-folders"`) || !strings.Contains(body, `id="nav-data-apis"`) || strings.Contains(body, `id="nav-data-sources"`) {
		t.Errorf("developer's navigation:\n%s", body)
	}
	if strings.Contains(body, `id="new-folder"`) {
		t.Error("a developer is offered the new folder form")
	}
	rec := dev.send("GET", "/p/default/data-sources", nil, false)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "datasource:read") {
		t.Errorf("data sources as a developer: %d\n%s", rec.Code, rec.Body)
	}
	if rec := dev.send("POST", "/p/default/folders", url.Values{"name": {"x"}}, true); rec.Code != http.StatusForbidden {
		t.Errorf("creating a folder as a developer: %d", rec.Code)
	}
	body = admin.send("GET", "/p/default/folders", nil, false).Body.String()
	if !strings.Contains(body, `id="nav-data-sources"`) || !strings.Contains(body, `id="new-folder"`) {
		t.Errorf("admin's folders page lacks the data sources entry or the form:\n%s", body)
	}
}
