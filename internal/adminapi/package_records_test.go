package adminapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/manifest"
	"github.com/portico-gw/portico/internal/spec"
)

// namedPackage is a package "name" from project dev whose services use
// the given upstreams, one service each.
func namedPackage(t *testing.T, name string, upstreams ...string) []byte {
	t.Helper()
	pkg := manifest.Package{Meta: manifest.PackageMeta{Name: name, Description: "the " + name + " API", Project: "dev",
		ExportedAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}}
	for _, u := range upstreams {
		pkg.Services = append(pkg.Services, manifest.PackagedService{Service: spec.Service{Name: name + "_" + u, UpstreamID: u,
			Routes: []spec.Route{{Name: "get_" + u, Paths: []string{"/" + name + "/" + u}, Methods: []string{"GET"}}}}})
	}
	b, err := manifest.WritePackage(&pkg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPackagesRecordedFailedThenRetried: an import whose mapping leaves
// an upstream out is refused as before (400 naming it) with the package's
// id, and the package is listed failed with the reason and what is
// unmapped; beside a published one, both are listed newest first and by
// state; a retry with the whole mapping publishes it, with what it
// created, and the service exists; a published one is not applied again.
func TestPackagesRecordedFailedThenRetried(t *testing.T) {
	a := newTestAPI(t)
	var prod spec.Upstream
	a.mustJSON("POST", "/projects/default/upstreams", map[string]any{"name": "prod_users", "nodes": []map[string]any{{"host": "127.0.0.1", "port": 8080}}}, http.StatusCreated, &prod)

	zip := namedPackage(t, "users", "users_db", "orders_api")
	r := a.do("POST", "/projects/default/import?upstream=users_db:prod_users", zip)
	wantRefused(t, r, "mapping.upstreams.orders_api")
	failedID := r.problem(t).PackageID
	if failedID == "" {
		t.Fatalf("the refusal names no package: %s", r.body)
	}
	var svcs struct{ Total int }
	a.mustJSON("GET", "/projects/default/services", nil, http.StatusOK, &svcs)
	if svcs.Total != 0 {
		t.Fatalf("a refused import left %d services", svcs.Total)
	}

	var got spec.Package
	a.mustJSON("GET", "/projects/default/packages/"+failedID, nil, http.StatusOK, &got)
	if got.State != spec.PackageFailed || got.Name != "users" || got.Description != "the users API" || got.SourceProject != "dev" ||
		got.CreatedBy != "admin" || got.Attempts != 1 || got.CreatedAt.IsZero() || got.Size != len(zip) {
		t.Errorf("failed package %+v", got)
	}
	if !strings.Contains(got.Reason, "mapping.upstreams.orders_api") || !slices.Equal(got.Unmapped.Upstreams, []string{"orders_api"}) ||
		len(got.Errors) != 1 || got.Errors[0].Field != "mapping.upstreams.orders_api" {
		t.Errorf("failed package: reason %q, unmapped %+v, errors %+v", got.Reason, got.Unmapped, got.Errors)
	}
	if !slices.Equal(got.Uses.Upstreams, []string{"orders_api", "users_db"}) || got.Mapping.Upstreams["users_db"] != "prod_users" {
		t.Errorf("failed package: uses %+v, mapping %+v", got.Uses, got.Mapping)
	}

	// Another one, fully mapped: published, and its id in the answer.
	var res packageResult
	a.mustJSON("POST", "/projects/default/import?upstream=users_db:prod_users", namedPackage(t, "catalog", "users_db"), http.StatusOK, &res)
	if res.PackageID == "" || !strings.Contains(res.Diff, "+ service catalog_users_db") {
		t.Fatalf("import answered %+v", res)
	}
	var all listResultOf[spec.Package]
	a.mustJSON("GET", "/projects/default/packages", nil, http.StatusOK, &all)
	if all.Total != 2 || all.Items[0].ID != res.PackageID || all.Items[0].State != spec.PackagePublished ||
		all.Items[1].ID != failedID || all.Items[1].State != spec.PackageFailed {
		t.Fatalf("list %+v", all)
	}
	if r := all.Items[0].Result; r == nil || len(r.Changes) == 0 || r.Changes[0].Name != "catalog_users_db" {
		t.Errorf("published package's result %+v", r)
	}
	a.mustJSON("GET", "/projects/default/packages?state=failed", nil, http.StatusOK, &all)
	if all.Total != 1 || all.Items[0].ID != failedID {
		t.Errorf("failed ones: %+v", all)
	}
	a.mustJSON("GET", "/projects/default/packages?q=CATALOG", nil, http.StatusOK, &all)
	if all.Total != 1 || all.Items[0].ID != res.PackageID {
		t.Errorf("?q=CATALOG: %+v", all)
	}
	wantRefused(t, a.do("GET", "/projects/default/packages?state=done", nil), "state")

	// A dry run records nothing.
	r = a.do("POST", "/projects/default/import?dry_run=true", zip)
	if r.status != http.StatusBadRequest || r.problem(t).PackageID != "" {
		t.Errorf("dry run: %d %s", r.status, r.body)
	}
	a.mustJSON("GET", "/projects/default/packages", nil, http.StatusOK, &all)
	if all.Total != 2 {
		t.Errorf("a dry run recorded a package: %d", all.Total)
	}

	// A retry to a missing upstream fails again, with the new reason.
	retry := "/projects/default/packages/" + failedID + "/retry"
	r = a.do("POST", retry, `{"upstreams":{"users_db":"prod_users","orders_api":"nope"}}`)
	wantRefused(t, r, "mapping.upstreams.orders_api")
	if r.problem(t).PackageID != failedID {
		t.Errorf("retry refusal names package %q", r.problem(t).PackageID)
	}
	got = spec.Package{}
	a.mustJSON("GET", "/projects/default/packages/"+failedID, nil, http.StatusOK, &got)
	if got.State != spec.PackageFailed || got.Attempts != 2 || !strings.Contains(got.Reason, `no upstream "nope"`) || len(got.Unmapped.Upstreams) != 0 {
		t.Errorf("failed again: %+v", got)
	}
	wantRefused(t, a.do("POST", retry, `{"upstream":{}}`), "upstream")
	wantRefused(t, a.do("POST", retry, `{"upstreams":{"orders_api":""}}`), "upstreams.orders_api")

	// With the whole mapping: published, with what it created.
	got = spec.Package{}
	a.mustJSON("POST", retry, `{"upstreams":{"users_db":"prod_users","orders_api":"prod_users"}}`, http.StatusOK, &got)
	if got.State != spec.PackagePublished || got.Reason != "" || got.Errors != nil || got.Attempts != 3 || got.Result == nil ||
		!strings.Contains(got.Result.Diff, "+ service users_orders_api") || !strings.Contains(got.Result.Diff, "+ service users_users_db") {
		t.Fatalf("retried: %+v", got)
	}
	var svc spec.Service
	a.mustJSON("GET", "/projects/default/services/users_orders_api", nil, http.StatusOK, &svc)
	if svc.UpstreamID != prod.ID || svc.State != spec.StateDraft {
		t.Errorf("imported service: upstream %q state %q, want %q draft", svc.UpstreamID, svc.State, prod.ID)
	}
	r = a.do("POST", retry, nil)
	if r.status != http.StatusConflict || r.problem(t).PackageID != failedID {
		t.Errorf("retry of a published package: %d %s", r.status, r.body)
	}

	var audit listResultOf[spec.AuditEvent]
	a.mustJSON("GET", "/audit-events?action=package.fail", nil, http.StatusOK, &audit)
	if audit.Total != 2 || audit.Items[0].Resource != "/projects/default/packages/"+failedID {
		t.Errorf("package.fail audit: %+v", audit)
	}

	a.mustJSON("DELETE", "/projects/default/packages/"+failedID, nil, http.StatusNoContent, nil)
	if r := a.do("GET", "/projects/default/packages/"+failedID, nil); r.status != http.StatusNotFound {
		t.Errorf("deleted package: %d", r.status)
	}
	if r := a.do("GET", "/projects/nope/packages", nil); r.status != http.StatusNotFound {
		t.Errorf("packages of a missing project: %d", r.status)
	}
}

// TestPackageRetryWithTheLastMapping: a retry without a body applies the
// last attempt's mapping, so creating the upstream it named is enough.
func TestPackageRetryWithTheLastMapping(t *testing.T) {
	a := newTestAPI(t)
	r := a.do("POST", "/projects/default/import?upstream=users_db:later", namedPackage(t, "users", "users_db"))
	wantRefused(t, r, "mapping.upstreams.users_db")
	id := r.problem(t).PackageID
	a.mustJSON("POST", "/projects/default/upstreams", map[string]any{"name": "later", "nodes": []map[string]any{{"host": "127.0.0.1", "port": 8080}}}, http.StatusCreated, nil)
	var got spec.Package
	a.mustJSON("POST", "/projects/default/packages/"+id+"/retry", nil, http.StatusOK, &got)
	if got.State != spec.PackagePublished || got.Mapping.Upstreams["users_db"] != "later" {
		t.Errorf("retried with the last mapping: %+v", got)
	}
}

// TestExportNamesThePackage: an export's name and description come from
// the body or the query and travel in the zip; a bad name is refused
// naming it; none is the project and the day.
func TestExportNamesThePackage(t *testing.T) {
	a := newTestAPI(t)
	read := func(r response) manifest.PackageMeta {
		t.Helper()
		if r.status != http.StatusOK {
			t.Fatalf("export: %d %s", r.status, r.body)
		}
		pkg, err := manifest.ReadPackage(r.body, strictDecode)
		if err != nil {
			t.Fatal(err)
		}
		return pkg.Meta
	}
	if m := read(a.do("POST", "/projects/default/export", `{"name":"users.v2","description":"Users, for the portal"}`)); m.Name != "users.v2" || m.Description != "Users, for the portal" {
		t.Errorf("from the body: %+v", m)
	}
	r := a.do("POST", "/projects/default/export?name=q-name&description=from+the+query", nil)
	if m := read(r); m.Name != "q-name" || m.Description != "from the query" {
		t.Errorf("from the query: %+v", m)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.Contains(cd, `"q-name.portico.zip"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if m := read(a.do("POST", "/projects/default/export", nil)); m.Name != "default-"+time.Now().UTC().Format(time.DateOnly) || m.Description != "" {
		t.Errorf("default name: %+v", m)
	}
	wantRefused(t, a.do("POST", "/projects/default/export", `{"name":"a/b"}`), "name")
	wantRefused(t, a.do("POST", "/projects/default/export?name=a%20b", nil), "name")
	wantRefused(t, a.do("POST", "/projects/default/export", `{"description":"`+strings.Repeat("x", 2001)+`"}`), "description")
	wantRefused(t, a.do("POST", "/projects/default/export", `{"title":"x"}`), "title")
}
