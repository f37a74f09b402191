package console

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/spec"
)

func TestVersionMessagesOverrideNothing(t *testing.T) {
	if len(versionsOverridden) > 0 {
		t.Errorf("versionMessages redefine %v", versionsOverridden)
	}
}

// apiJSON calls the admin API with the fixture's session, as the
// console's own pages do.
func (f *fixture) apiJSON(t *testing.T, method, path string, body any, out any) int {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	r := httptest.NewRequest(method, adminapi.Prefix+path, rd)
	r.AddCookie(f.cookie)
	r.Header.Set(adminapi.CSRFHeader, f.csrf)
	rec := httptest.NewRecorder()
	f.api.ServeHTTP(rec, r)
	if out != nil && rec.Code < 300 {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v (%s)", method, path, err, rec.Body)
		}
	}
	return rec.Code
}

// publishedService makes a service with route list (backend path /v1)
// published as 1.0.0 to the default group, and answers its id.
func publishedService(t *testing.T, f *fixture) string {
	t.Helper()
	rec := f.send("POST", "/p/default/services", url.Values{"name": {"svc_v"}, "protocols": {"http"}, "node_host": {"127.0.0.1"}, "node_port": {"9"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create service: %d %s", rec.Code, rec.Body)
	}
	sid := strings.TrimPrefix(strings.SplitN(rec.Header().Get("Location"), "?", 2)[0], "/p/default/services/")
	if rec := f.send("POST", "/p/default/services/"+sid+"/routes", url.Values{"name": {"list"}, "paths": {"/items"}, "methods": {"GET"}, "backend_path": {"/v1"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("add route: %d %s", rec.Code, rec.Body)
	}
	if rec := f.send("POST", "/p/default/services/"+sid+"/publish", url.Values{"group": {"default"}, "version": {"1.0.0"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("publish: %d %s", rec.Code, rec.Body)
	}
	return sid
}

// TestVersionsTab: the Versions tab shows what changed since the newest
// version, compares any two sides, and "edit from this version" makes
// the template that version again.
func TestVersionsTab(t *testing.T) {
	f := newFixture(t)
	sid := publishedService(t, f)
	svc := "/projects/default/services/" + sid
	if code := f.apiJSON(t, "PATCH", svc+"/routes/list", map[string]any{"backend": map[string]any{"path": "/v2"}}, nil); code != http.StatusOK {
		t.Fatalf("edit route: %d", code)
	}
	page := "/p/default/services/" + sid + "/versions"
	rec := f.send("GET", page, nil, false)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "routes[name=list].backend.path") || !strings.Contains(body, `id="restore-1.0.0"`) ||
		!strings.Contains(body, "&#34;/v1&#34;") || !strings.Contains(body, "Edit from this version") {
		t.Fatalf("versions tab: %d\n%s", rec.Code, body)
	}
	if rec := f.send("GET", page+"?from=template&to=template", nil, false); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="no-changes"`) {
		t.Errorf("template against itself: %d, want no changes", rec.Code)
	}
	for _, q := range []string{"?from=9.9.9", "?from=%00&to=<script>", "?to=1.0.0"} {
		rec := f.send("GET", page+q, nil, false)
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "<script>") {
			t.Errorf("GET versions%s: %d", q, rec.Code)
		}
	}
	if rec := f.send("GET", page+"?from=9.9.9", nil, false); !strings.Contains(rec.Body.String(), `id="error"`) {
		t.Errorf("a version that does not exist: the page says nothing")
	}
	zh := httptest.NewRequest("GET", page, nil)
	zh.AddCookie(f.cookie)
	zh.Header.Set("Accept-Language", "zh-CN")
	zrec := httptest.NewRecorder()
	f.h.ServeHTTP(zrec, zh)
	if !strings.Contains(zrec.Body.String(), "基于此版本编辑") || !strings.Contains(zrec.Body.String(), "修改") {
		t.Errorf("Chinese versions tab lacks its words")
	}

	if rec := f.send("POST", page+"/1.0.0/restore", url.Values{}, false); rec.Code != http.StatusForbidden {
		t.Errorf("restore without CSRF: %d", rec.Code)
	}
	rec = f.send("POST", page+"/1.0.0/restore", url.Values{}, true)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/p/default/services/"+sid+"?") {
		t.Fatalf("restore: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	var d struct{ Changes []spec.FieldChange }
	if code := f.apiJSON(t, "GET", svc+"/diff?from=1.0.0", nil, &d); code != http.StatusOK || len(d.Changes) != 0 {
		t.Errorf("after the restore: %d %+v, want no changes", code, d.Changes)
	}
	if rec := f.send("POST", page+"/9.9.9/restore", url.Values{}, true); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "9.9.9") {
		t.Errorf("restore of a missing version: %d", rec.Code)
	}
}

// TestSyncPreview: the sync form shows what would change in the target
// group and runs the sync only when confirmed.
func TestSyncPreview(t *testing.T) {
	f := newFixture(t)
	sid := publishedService(t, f)
	if code := f.apiJSON(t, "POST", "/gateway-groups", map[string]any{"name": "staging"}, nil); code != http.StatusCreated {
		t.Fatalf("create group: %d", code)
	}
	overview := f.send("GET", "/p/default/services/"+sid, nil, false).Body.String()
	if !strings.Contains(overview, "/sync/preview") || !strings.Contains(overview, `id="tab-versions"`) {
		t.Fatalf("the service page has no sync preview or versions tab")
	}
	form := url.Values{"from_group": {"default"}, "to_group": {"staging"}, "scheme": {"http"},
		"node_host": {"127.0.0.1", ""}, "node_port": {"9100", ""}, "node_weight": {"", ""}}
	rec := f.send("POST", "/p/default/services/"+sid+"/sync/preview", form, true)
	body := rec.Body.String()
	for _, want := range []string{`id="sync-confirm"`, "<code>version</code>", `name="to_group" value="staging"`, `name="node_port" value="9100"`,
		`id="sync-runs-now">nothing`, `id="sync-would-run">1.0.0`} {
		if !strings.Contains(body, want) {
			t.Errorf("preview lacks %s:\n%s", want, body)
		}
	}
	var running struct{ Total int }
	f.apiJSON(t, "GET", "/gateway-groups/staging/services", nil, &running)
	if running.Total != 0 {
		t.Fatalf("the preview ran the sync: staging runs %d service(s)", running.Total)
	}
	// Confirming sends the preview's fields to the sync.
	confirm := url.Values{}
	for _, name := range syncFields {
		confirm[name] = form[name]
	}
	if rec := f.send("POST", "/p/default/services/"+sid+"/sync", confirm, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("confirm: %d %s", rec.Code, rec.Body)
	}
	var gs struct {
		Items []struct {
			Version  string
			Upstream spec.Upstream
		}
	}
	f.apiJSON(t, "GET", "/gateway-groups/staging/services", nil, &gs)
	if len(gs.Items) != 1 || gs.Items[0].Version != "1.0.0" {
		t.Fatalf("after the confirmation staging runs %+v", gs.Items)
	}
	// A second preview: the same version with other nodes.
	form.Set("node_port", "9200")
	body = f.send("POST", "/p/default/services/"+sid+"/sync/preview", form, true).Body.String()
	if !strings.Contains(body, "upstream.nodes[host:port=127.0.0.1:9200]") || !strings.Contains(body, `id="sync-runs-now">1.0.0`) {
		t.Errorf("preview of new nodes:\n%s", body)
	}
	// Refusals go back to the sync form; odd values never fail the page.
	if rec := f.send("POST", "/p/default/services/"+sid+"/sync/preview", url.Values{"from_group": {"default"}, "to_group": {"default"}}, true); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `id="error"`) {
		t.Errorf("preview into the same group: %d", rec.Code)
	}
	for _, v := range []string{"", "x", "<script>alert(1)</script>", "%00", strings.Repeat("a", 5000), "名字"} {
		odd := url.Values{"from_group": {v}, "to_group": {v}, "node_host": {v}, "node_port": {v}, "node_weight": {v}, "scheme": {v}}
		if rec := f.send("POST", "/p/default/services/"+sid+"/sync/preview", odd, true); rec.Code >= 500 {
			t.Errorf("preview with %q: %d", v, rec.Code)
		}
		if rec := f.send("POST", "/p/default/services/"+sid+"/versions/"+url.PathEscape(v)+"/restore", url.Values{}, true); rec.Code >= 500 {
			t.Errorf("restore of %q: %d", v, rec.Code)
		}
	}
}
