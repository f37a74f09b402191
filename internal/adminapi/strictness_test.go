package adminapi

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/manifest"
	"github.com/portico-gw/portico/internal/spec"
)

// Tests of the rule "nothing is accepted and ignored": every field the
// admin API accepts has an effect, or is refused with 400 naming it.

// runningCanary publishes service svc on upstream a and starts a canary to
// upstream b with a guard; it answers the canary's id.
func runningCanary(t *testing.T, a *testAPI) string {
	t.Helper()
	a.mustJSON("POST", "/projects/default/upstreams", `{"name":"a","nodes":[{"host":"127.0.0.1","port":1}]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/upstreams", `{"name":"b","nodes":[{"host":"127.0.0.1","port":2}]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services", `{"name":"svc","upstream_id":"a","routes":[{"name":"r"}]}`, http.StatusCreated, nil)
	a.mustJSON("POST", "/projects/default/services/svc/publish", `{"group":"default","version":"1.0.0"}`, http.StatusCreated, nil)
	var c spec.Canary
	a.mustJSON("POST", "/projects/default/services/svc/canary", `{"group":"default","target":{"upstream_id":"b"},"weight":10,
	   "guard":{"max_error_rate":0.5,"min_requests":5}}`, http.StatusCreated, &c)
	return c.ID
}

// wantRefused checks for a 400 naming field.
func wantRefused(t *testing.T, r response, field string) {
	t.Helper()
	if r.status != http.StatusBadRequest || !slices.Contains(r.fields(t), field) {
		t.Errorf("status %d %s, want 400 naming %s", r.status, r.body, field)
	}
}

// TestCanaryPatchGuardAndRemoveGuard (F12): guard and remove_guard together
// are refused naming remove_guard, and the guard stays.
func TestCanaryPatchGuardAndRemoveGuard(t *testing.T) {
	a := newTestAPI(t)
	id := runningCanary(t, a)
	path := "/projects/default/services/svc/canary/" + id
	wantRefused(t, a.do("PATCH", path, `{"guard":{"max_error_rate":0.1,"min_requests":1},"remove_guard":true}`), "remove_guard")
	var c spec.Canary
	a.mustJSON("GET", path, nil, http.StatusOK, &c)
	if c.Guard == nil || c.Guard.MaxErrorRate != 0.5 {
		t.Errorf("guard after the refused PATCH = %+v, want the original", c.Guard)
	}
	var removed spec.Canary
	a.mustJSON("PATCH", path, `{"remove_guard":true}`, http.StatusOK, &removed)
	if removed.Guard != nil {
		t.Errorf("remove_guard alone left guard %+v", removed.Guard)
	}
}

// concretePath fills an endpoint's path parameters with placeholders:
// the refusals tested here come before any lookup.
func concretePath(path string) string {
	return regexp.MustCompile(`\{[a-z]+\}`).ReplaceAllString(path, "x")
}

// TestBodilessEndpointsRefuseABody (F10): every endpoint that declares no
// request type and does not read its body itself answers 400 naming what
// was sent; empty and {} pass.
func TestBodilessEndpointsRefuseABody(t *testing.T) {
	a := newTestAPI(t)
	n := 0
	for _, ep := range (&server{}).endpoints() {
		if ep.req != nil || ep.rawBody {
			continue
		}
		n++
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			path := concretePath(ep.path)
			wantRefused(t, a.do(ep.method, path, `{"x":1}`), "x")
			wantRefused(t, a.do(ep.method, path, `[1]`), "body")
			wantRefused(t, a.do(ep.method, path, `not json`), "body")
			if ep.path == "/auth/logout" {
				return // an empty body would end the test's session
			}
			for _, ok := range []any{nil, "{}"} {
				r := a.do(ep.method, path, ok)
				if r.status != http.StatusBadRequest {
					continue
				}
				// A required query parameter left out is the only 400
				// an empty body may get.
				fields := r.fields(t)
				if len(fields) == 0 || slices.ContainsFunc(fields, func(f string) bool { return !slices.Contains(ep.query, f) }) {
					t.Errorf("body %v: 400 %s", ok, r.body)
				}
			}
		})
	}
	if n < 40 {
		t.Fatalf("only %d bodiless endpoints found", n)
	}
}

// TestBodyOfBodilessEndpointIgnoredNoMore (F10): the audit's cases did
// something while ignoring the body; now they do nothing.
func TestBodyOfBodilessEndpointIgnoredNoMore(t *testing.T) {
	a := newTestAPI(t)
	id := runningCanary(t, a)
	cancel := "/projects/default/services/svc/canary/" + id + "/cancel"
	wantRefused(t, a.do("POST", cancel, `{"reason":"because"}`), "reason")
	var c spec.Canary
	a.mustJSON("GET", "/projects/default/services/svc/canary/"+id, nil, http.StatusOK, &c)
	if c.State != spec.CanaryRunning {
		t.Errorf("canary after a refused cancel: %s", c.State)
	}
	a.mustJSON("POST", cancel, "{}", http.StatusOK, nil)

	wantRefused(t, a.do("POST", "/projects/default/export", `{"services":["only-this-one"]}`), "services")
	wantRefused(t, a.do("DELETE", "/projects/default/upstreams/b", `{"force":true}`), "force")
	a.mustJSON("GET", "/projects/default/upstreams/b", nil, http.StatusOK, nil)
	wantRefused(t, a.do("POST", "/auth/logout", `{"everywhere":true}`), "everywhere")
	a.mustJSON("GET", "/me", nil, http.StatusOK, nil) // the token still works
}

// TestUnknownQueryParametersRefused (F11): every endpoint refuses a query
// parameter it does not read, naming it, and a single-valued one given
// twice; a sign-in callback ignores what the identity provider adds
// (TestProviderQueryIsIgnoredOnlyOnCallbacks).
func TestUnknownQueryParametersRefused(t *testing.T) {
	a := newTestAPI(t)
	for _, ep := range (&server{}).endpoints() {
		t.Run(ep.method+" "+ep.path, func(t *testing.T) {
			if !ep.providerQuery {
				wantRefused(t, a.do(ep.method, concretePath(ep.path)+"?bogus=1", nil), "bogus")
			}
			for _, name := range ep.query {
				if queryParams[name].explode {
					continue
				}
				wantRefused(t, a.do(ep.method, concretePath(ep.path)+"?"+name+"=1&"+name+"=2", nil), name)
			}
		})
	}
	wantRefused(t, a.do("GET", "/projects?page=1;x", nil), "query")
	a.mustJSON("GET", "/projects?page=1&page_size=5&q=def", nil, http.StatusOK, nil)
}

// TestConfigDryRunTypoRefused (F11): ?dryrun=true, a typo of dry_run, is
// refused and applies nothing (it used to apply the change for real).
func TestConfigDryRunTypoRefused(t *testing.T) {
	a := newTestAPI(t)
	doc := `{"services":[{"name":"svc","upstream":{"nodes":[{"host":"127.0.0.1","port":1}]}}]}`
	wantRefused(t, a.do("PUT", "/projects/default/config?dryrun=true", doc), "dryrun")
	if r := a.do("GET", "/projects/default/services/svc", nil); r.status != http.StatusNotFound {
		t.Errorf("service after the refused PUT: %d, want 404", r.status)
	}
	var res configResult
	a.mustJSON("PUT", "/projects/default/config?dry_run=true", doc, http.StatusOK, &res)
	if res.Applied || len(res.Changes) == 0 {
		t.Errorf("dry run answered %+v", res)
	}
}

// TestConfigChecksRoutesLikeRoutes (F8.1, F8.2): PUT …/config checks a
// route's plugins and sql backend as POST …/routes does, before anything
// is written; so do the inline routes of POST …/services and a package
// import.
func TestConfigChecksRoutesLikeRoutes(t *testing.T) {
	a := newTestAPI(t)
	badPlugins := `{"limit-count":{"count":1,"time_window":1,"bogus":true},"no-such-plugin":{}}`
	doc := `{"services":[{"name":"svc","upstream":{"nodes":[{"host":"127.0.0.1","port":1}]},"routes":[{"name":"r","plugins":` + badPlugins + `}]}]}`
	r := a.do("PUT", "/projects/default/config", doc)
	wantRefused(t, r, "services[svc].routes[r].plugins.limit-count.bogus")
	wantRefused(t, r, "services[svc].routes[r].plugins.no-such-plugin")
	if r := a.do("GET", "/projects/default/services/svc", nil); r.status != http.StatusNotFound {
		t.Errorf("the refused document left service svc: %d", r.status)
	}

	sqlRoute := `{"name":"q","backend":{"type":"sql","data_source":"nope","sql":"select 1",
		"result_columns":[{"name":"fake","type":"string"}]}}`
	for _, tc := range []struct{ name, method, path, body, field string }{
		{"inline route", "POST", "/projects/default/services", `{"name":"inline","routes":[` + sqlRoute + `]}`, "routes[0].backend.data_source"},
		{"config", "PUT", "/projects/default/config", `{"services":[{"name":"cfg","routes":[` + sqlRoute + `]}]}`, "services[cfg].routes[q].backend.data_source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRefused(t, a.do(tc.method, tc.path, tc.body), tc.field)
		})
	}
	// POST …/routes says the same (it answered 404 before).
	a.mustJSON("POST", "/projects/default/services", `{"name":"plain"}`, http.StatusCreated, nil)
	wantRefused(t, a.do("POST", "/projects/default/services/plain/routes", sqlRoute), "backend.data_source")
}

// TestSQLResultColumnsAreTheServers (F8.2): result_columns sent by the
// client are replaced by what the data source describes, on every path
// that saves a route. Needs PostgreSQL on 127.0.0.1:5432 (trust, db test).
func TestSQLResultColumnsAreTheServers(t *testing.T) {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second); err != nil {
		t.Skip("PostgreSQL is not running on 127.0.0.1:5432")
	} else {
		_ = c.Close()
	}
	a := newTestAPI(t)
	a.mustJSON("POST", "/projects/default/data-sources", `{"name":"db","type":"postgres","host":"127.0.0.1","port":5432,
		"database":"test","user":"postgres","params":{"sslmode":"disable"}}`, http.StatusCreated, nil)
	route := func(name string) string {
		return `{"name":"` + name + `","paths":["/` + name + `"],"backend":{"type":"sql","data_source":"db","sql":"select 1::int as one",
			"result_columns":[{"name":"fake","type":"string"}]}}`
	}
	check := func(t *testing.T, svc, name string) {
		t.Helper()
		var rt spec.Route
		a.mustJSON("GET", "/projects/default/services/"+svc+"/routes/"+name, nil, http.StatusOK, &rt)
		rc := rt.Backend.ResultColumns
		if len(rc) != 1 || rc[0].Name != "one" || rc[0].Type != "integer" {
			t.Errorf("%s/%s result_columns = %+v, want the data source's [one integer]", svc, name, rc)
		}
	}
	a.mustJSON("POST", "/projects/default/services", `{"name":"inline","routes":[`+route("a")+`]}`, http.StatusCreated, nil)
	check(t, "inline", "a")
	a.mustJSON("PUT", "/projects/default/config", `{"services":[{"name":"cfg","routes":[`+route("b")+`]}]}`, http.StatusOK, nil)
	check(t, "cfg", "b")
	var rt spec.Route
	if err := json.Unmarshal([]byte(route("c")), &rt); err != nil {
		t.Fatal(err)
	}
	a.mustJSON("POST", "/projects/default/import?data_source=db:db", packageZip(t, spec.Service{Name: "pkg", Routes: []spec.Route{rt}}), http.StatusOK, nil)
	check(t, "pkg", "c")
	// The dump leaves the server's result_columns out, and applying it
	// again changes nothing.
	r := a.do("GET", "/projects/default/config?format=json", nil)
	if strings.Contains(string(r.body), "result_columns") {
		t.Errorf("the dump holds result_columns: %s", r.body)
	}
	var res configResult
	a.mustJSON("PUT", "/projects/default/config?dry_run=true", r.body, http.StatusOK, &res)
	if !res.Plan.Empty() {
		t.Errorf("re-applying the dump plans %s", res.Diff)
	}
}

// TestConfigFolderID (F8.3): a folder_id in a configuration document is
// refused naming it (it was cleared, and path "default" then meant "");
// a service the document changes keeps its folder.
func TestConfigFolderID(t *testing.T) {
	a := newTestAPI(t)
	var f spec.Folder
	a.mustJSON("POST", "/projects/default/folders", `{"name":"users","path":"/users"}`, http.StatusCreated, &f)
	doc := `{"services":[{"name":"svc","folder_id":"` + f.ID + `","path":"default"}]}`
	wantRefused(t, a.do("PUT", "/projects/default/config", doc), "services[0].folder_id")
	// path default without a folder: refused, naming path.
	wantRefused(t, a.do("PUT", "/projects/default/config", `{"services":[{"name":"svc","path":"default"}]}`), "services[svc].path")
	if r := a.do("GET", "/projects/default/services/svc", nil); r.status != http.StatusNotFound {
		t.Fatalf("a refused document left service svc: %d", r.status)
	}
	// In a folder, made through the API: the dump says path default, and
	// applying it (changed) keeps the folder.
	a.mustJSON("POST", "/projects/default/services", `{"name":"svc","folder_id":"`+f.ID+`","path":"default"}`, http.StatusCreated, nil)
	a.mustJSON("PUT", "/projects/default/config", `{"services":[{"name":"svc","path":"default","description":"changed"}]}`, http.StatusOK, nil)
	var got spec.Service
	a.mustJSON("GET", "/projects/default/services/svc", nil, http.StatusOK, &got)
	if got.FolderID != f.ID || got.FolderPath != "/users" || got.Description != "changed" {
		t.Errorf("service after the document: folder %q (%q), description %q", got.FolderID, got.FolderPath, got.Description)
	}
}

// TestDefaultPathNeedsAFolder (F17): path "default" means the folder's
// path; without a folder it is refused naming path wherever a service is
// saved.
func TestDefaultPathNeedsAFolder(t *testing.T) {
	a := newTestAPI(t)
	var f spec.Folder
	a.mustJSON("POST", "/projects/default/folders", `{"name":"users","path":"/users"}`, http.StatusCreated, &f)
	wantRefused(t, a.do("POST", "/projects/default/services", `{"name":"s","path":"default"}`), "path")
	a.mustJSON("POST", "/projects/default/services", `{"name":"s","path":"default","folder_id":"`+f.ID+`"}`, http.StatusCreated, nil)
	wantRefused(t, a.do("PATCH", "/projects/default/services/s", `{"folder_id":null}`), "path")
	wantRefused(t, a.do("PUT", "/projects/default/services/s", `{"name":"s","path":"default"}`), "path")
	a.mustJSON("PATCH", "/projects/default/services/s", `{"folder_id":null,"path":"/own"}`, http.StatusOK, nil)
	// A package: the folder is found by its path, before the service is
	// checked; without one, path default is refused.
	zip := packageZip(t, spec.Service{Name: "p", Path: "default"})
	wantRefused(t, a.do("POST", "/projects/default/import", zip), "services[p].path")
	pkg := manifest.Package{Meta: manifest.PackageMeta{Project: "elsewhere"},
		Services: []manifest.PackagedService{{Service: spec.Service{Name: "p", Path: "default"}, Folder: "/users"}}}
	b, err := manifest.WritePackage(&pkg)
	if err != nil {
		t.Fatal(err)
	}
	a.mustJSON("POST", "/projects/default/import", b, http.StatusOK, nil)
	var got spec.Service
	a.mustJSON("GET", "/projects/default/services/p", nil, http.StatusOK, &got)
	if got.FolderID != f.ID || got.EffectivePath() != "/users" {
		t.Errorf("imported service: folder %q, path %q", got.FolderID, got.EffectivePath())
	}
}

// TestServerSetFieldsOfNestedObjects (F13): an inline upstream's id,
// project_id and timestamps are the server's (ignored, as on a project
// upstream), a credential's hint is the server's whatever its type, and
// openapi must be a JSON object.
func TestServerSetFieldsOfNestedObjects(t *testing.T) {
	a := newTestAPI(t)
	foreign := `"id":"client-id","project_id":"other","created_at":"2001-01-01T00:00:00Z","updated_at":"2001-01-01T00:00:00Z"`
	var s spec.Service
	a.mustJSON("POST", "/projects/default/services", `{"name":"inl","upstream":{`+foreign+`,"nodes":[{"host":"127.0.0.1","port":1}]},"routes":[{"name":"r"}]}`, http.StatusCreated, &s)
	a.mustJSON("PATCH", "/projects/default/services/inl", `{"upstream":{`+foreign+`}}`, http.StatusOK, nil)
	a.mustJSON("GET", "/projects/default/services/inl", nil, http.StatusOK, &s)
	if u := s.Upstream; u == nil || u.ID != "" || u.ProjectID != "" || !u.CreatedAt.IsZero() || !u.UpdatedAt.IsZero() {
		t.Errorf("stored inline upstream %+v", s.Upstream)
	}

	id := runningCanary(t, a)
	a.mustJSON("POST", "/projects/default/services/svc/canary/"+id+"/cancel", nil, http.StatusOK, nil)
	var c spec.Canary
	a.mustJSON("POST", "/projects/default/services/svc/canary", `{"group":"default","weight":10,
		"target":{"upstream":{`+foreign+`,"nodes":[{"host":"127.0.0.1","port":3}]}}}`, http.StatusCreated, &c)
	a.mustJSON("GET", "/projects/default/services/svc/canary/"+c.ID, nil, http.StatusOK, &c)
	if u := c.Target.Upstream; u == nil || u.ID != "" || u.ProjectID != "" || !u.CreatedAt.IsZero() {
		t.Errorf("stored canary target upstream %+v", c.Target.Upstream)
	}

	var app spec.Application
	a.mustJSON("POST", "/applications", `{"name":"app"}`, http.StatusCreated, &app)
	var cr spec.Credential
	a.mustJSON("POST", "/applications/"+app.ID+"/credentials", `{"type":"basic-auth","username":"bob","hint":"...FAKE"}`, http.StatusCreated, &cr)
	a.mustJSON("GET", "/applications/"+app.ID+"/credentials/"+cr.ID, nil, http.StatusOK, &cr)
	if cr.Hint != "" {
		t.Errorf("basic-auth credential hint %q, want none", cr.Hint)
	}
	var key spec.Credential
	a.mustJSON("POST", "/applications/"+app.ID+"/credentials", `{"type":"key-auth","hint":"...FAKE"}`, http.StatusCreated, &key)
	if key.Hint != spec.KeyHint(key.Key) {
		t.Errorf("key-auth hint %q, want %q", key.Hint, spec.KeyHint(key.Key))
	}

	for _, tc := range []struct{ method, path, body, field string }{
		{"POST", "/projects/default/services", `{"name":"o1","openapi":42}`, "openapi"},
		{"POST", "/projects/default/services", `{"name":"o2","routes":[{"name":"r","openapi":"just a string"}]}`, "routes[0].openapi"},
		{"PATCH", "/projects/default/services/svc", `{"openapi":[1]}`, "openapi"},
		{"PATCH", "/projects/default/services/svc/routes/r", `{"openapi":true}`, "openapi"},
		{"PUT", "/projects/default/config", `{"services":[{"name":"o3","openapi":"x"}]}`, "services[o3].openapi"},
	} {
		wantRefused(t, a.do(tc.method, tc.path, tc.body), tc.field)
	}
	a.mustJSON("PATCH", "/projects/default/services/svc", `{"openapi":{"info":{"title":"t","version":"1"}}}`, http.StatusOK, nil)
}

// TestDocumentAndMappingStrict (F15): a configuration document and a
// package's mapping part are read with exact member names and no unknown
// members.
func TestDocumentAndMappingStrict(t *testing.T) {
	a := newTestAPI(t)
	wantRefused(t, a.do("PUT", "/projects/default/config", "services:\n- Name: s\n"), "services[0].Name")
	wantRefused(t, a.do("PUT", "/projects/default/config", "services:\n- name: s\n  Routes: []\n"), "services[0].Routes")
	if r := a.do("GET", "/projects/default/services/s", nil); r.status != http.StatusNotFound {
		t.Fatalf("a refused document left service s: %d", r.status)
	}

	multipartImport := func(mapping string) response {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("mapping", mapping)
		fw, _ := mw.CreateFormFile("package", "p.zip")
		_, _ = fw.Write(packageZip(t, spec.Service{Name: "m"}))
		_ = mw.Close()
		req, err := http.NewRequest("POST", a.url+Prefix+"/projects/default/import", &buf)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+a.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return response{status: resp.StatusCode, header: resp.Header, body: b}
	}
	wantRefused(t, multipartImport(`{"datasources":{"a":"b"}}`), "mapping.datasources")
	wantRefused(t, multipartImport(`{"Upstreams":{}}`), "mapping.Upstreams")
	if r := multipartImport(`{"upstreams":{}}`); r.status != http.StatusOK {
		t.Errorf("a good mapping: %d %s", r.status, r.body)
	}
}
