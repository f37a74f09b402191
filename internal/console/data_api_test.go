package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// TestDataAPIWizard: a data source's tables and columns are offered, a
// wizard route saved from the form is shown with the result columns the
// database described, and a test run without a reachable gateway is a
// message on the page.
func TestDataAPIWizard(t *testing.T) {
	db := storetest.PostgresDatabase(t, "create table users (id int primary key, name text not null, age int)",
		"insert into users values (1, 'alice', 30), (2, 'bob', 17)")
	f := newFixture(t)
	f.newDataSource(t, "crm", db)
	var svc spec.Service
	f.apiCall(t, "POST", "/projects/default/services", map[string]any{"name": "user", "path": "/user"}, http.StatusCreated, &svc)
	list := f.send("GET", "/p/default/data-apis?service="+svc.ID, nil, false)
	if list.Code != 200 || !strings.Contains(list.Body.String(), `id="dapi-new-wizard"`) {
		t.Fatalf("data APIs page: %d\n%s", list.Code, list.Body)
	}
	wiz := "/p/default/services/" + svc.ID + "/data-api"
	page := f.send("GET", wiz+"?mode=wizard&data_source=crm&table=users", nil, false)
	body := page.Body.String()
	for _, want := range []string{`<option selected>users</option>`, `id="dapi-col-id"`, `id="dapi-col-name"`, `id="dapi-col-age"`} {
		if page.Code != 200 || !strings.Contains(body, want) {
			t.Fatalf("wizard: %d lacks %s\n%s", page.Code, want, body)
		}
	}
	form := url.Values{"mode": {"wizard"}, "data_source": {"crm"}, "table": {"users"}, "name": {"user_info"}, "method": {"GET"},
		"columns": {"id", "name"}, "filter_param": {"name", "min_age", ""}, "filter_column": {"", "age", ""}, "filter_op": {"=", ">", ""},
		"filter_in": {"", "", ""}, "order": {"id desc"}, "page_size": {"20"}}
	rec := f.send("POST", wiz, form, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("save wizard: %d\n%s", rec.Code, rec.Body)
	}
	route := redirectPath(rec)
	body = f.send("GET", route, nil, false).Body.String()
	for _, want := range []string{`id="dapi-route-table">users<`, `<tr class="result-column"><td><code>id</code></td><td>integer</td>`,
		`<tr class="result-column"><td><code>name</code></td><td>string</td>`, `id="dapi-preview-path" value="/user_info?page=1&amp;total=true"`} {
		if !strings.Contains(body, want) {
			t.Errorf("route page lacks %s\n%s", want, body)
		}
	}
	var rt spec.Route
	f.apiCall(t, "GET", "/projects/default/services/user/routes/user_info", nil, http.StatusOK, &rt)
	b := rt.Backend
	if b == nil || b.Table != "users" || len(b.Filters) != 2 || b.Filters[1].Column != "age" || b.Filters[1].Op != ">" || b.PageSize != 20 {
		t.Fatalf("saved backend: %+v", b)
	}
	// No gateway serves the test group in this fixture: the page says so.
	rec = f.send("POST", route+"/preview", url.Values{"method": {"GET"}, "path": {"/user_info"}}, true)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "no gateway") {
		t.Errorf("preview without a gateway: %d\n%s", rec.Code, rec.Body)
	}
	// A column the table lacks comes back beside the form, not a 500.
	form.Set("name", "bad")
	form["columns"] = []string{"nope"}
	if rec = f.send("POST", wiz, form, true); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `class="ferr"`) {
		t.Errorf("a missing column: %d\n%s", rec.Code, rec.Body)
	}
}

// TestDataAPIScript: a statement the database refuses comes back with
// its message; a good one saved shows the columns it returns, and editing
// it keeps the route's other fields.
func TestDataAPIScript(t *testing.T) {
	db := storetest.PostgresDatabase(t, "create table users (id int primary key, name text not null, age int)")
	f := newFixture(t)
	f.newDataSource(t, "crm", db)
	var svc spec.Service
	f.apiCall(t, "POST", "/projects/default/services", map[string]any{"name": "user", "path": "/user"}, http.StatusCreated, &svc)
	ed := "/p/default/services/" + svc.ID + "/data-api"
	if page := f.send("GET", ed+"?mode=script&data_source=crm", nil, false); page.Code != 200 || !strings.Contains(page.Body.String(), `id="dapi-sql"`) {
		t.Fatalf("script editor: %d\n%s", page.Code, page.Body)
	}
	form := url.Values{"mode": {"script"}, "data_source": {"crm"}, "name": {"user_by_id"}, "path": {"/users/{id}"}, "method": {"GET"},
		"sql": {"select id, name from no_such_table where id = :id"}, "param_name": {"id", ""}, "param_in": {"path", ""},
		"param_type": {"integer", ""}, "param_required": {"", ""}}
	rec := f.send("POST", ed, form, true)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "no_such_table") || !strings.Contains(rec.Body.String(), "select id, name from no_such_table") {
		t.Fatalf("refused statement: %d\n%s", rec.Code, rec.Body)
	}
	form.Set("sql", "select id, name, age from users where id = :id")
	if rec = f.send("POST", ed, form, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("save script: %d\n%s", rec.Code, rec.Body)
	}
	route := redirectPath(rec)
	body := f.send("GET", route, nil, false).Body.String()
	for _, want := range []string{`<td><code>age</code></td><td>integer</td>`, `id="dapi-route-sql">select id, name, age from users where id = :id<`} {
		if !strings.Contains(body, want) {
			t.Errorf("route page lacks %s\n%s", want, body)
		}
	}
	// Edit: the form is filled from the route, and saving again changes
	// the statement.
	rid := route[strings.LastIndex(route, "/")+1:]
	if page := f.send("GET", ed+"?route="+rid, nil, false).Body.String(); !strings.Contains(page, "select id, name, age from users") {
		t.Fatalf("edit form not filled:\n%s", page)
	}
	form.Set("sql", "select id from users where id = :id")
	if rec = f.send("POST", ed+"/"+rid, form, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("edit script: %d\n%s", rec.Code, rec.Body)
	}
	var rt spec.Route
	f.apiCall(t, "GET", "/projects/default/services/user/routes/user_by_id", nil, http.StatusOK, &rt)
	if rc := rt.Backend.ResultColumns; len(rc) != 1 || rc[0].Name != "id" {
		t.Errorf("result columns after the edit: %+v", rc)
	}
}
