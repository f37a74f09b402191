package console

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// pluginFixture is a console over a service svc_p with one route, users.
type pluginFixture struct {
	*fixture
	sid, rid string
}

func newPluginFixture(t *testing.T) *pluginFixture {
	t.Helper()
	f := newFixture(t)
	rec := f.send("POST", "/p/default/services", url.Values{"name": {"svc_p"}, "protocols": {"http"}, "node_host": {"127.0.0.1"}, "node_port": {"9"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create service: %d %s", rec.Code, rec.Body)
	}
	pf := &pluginFixture{fixture: f, sid: strings.TrimPrefix(strings.SplitN(rec.Header().Get("Location"), "?", 2)[0], "/p/default/services/")}
	if rec := f.send("POST", "/p/default/services/"+pf.sid+"/routes", url.Values{"name": {"users"}, "paths": {"/users"}, "methods": {"GET"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("create route: %d %s", rec.Code, rec.Body)
	}
	svc := pf.service(t)
	if len(svc.Routes) != 1 {
		t.Fatalf("routes: %+v", svc.Routes)
	}
	pf.rid = svc.Routes[0].ID
	return pf
}

// service reads svc_p through the admin API.
func (pf *pluginFixture) service(t *testing.T) spec.Service {
	t.Helper()
	var svc spec.Service
	r := httptestRequest("GET", "/projects/default/services/"+pf.sid)
	if _, err := (webpage.API{Handler: pf.api}).Call(r, pf.cookie.Value, "GET", "/projects/default/services/"+pf.sid, nil, &svc); err != nil {
		t.Fatalf("get service: %v", err)
	}
	return svc
}

func (pf *pluginFixture) page() string { return "/p/default/services/" + pf.sid + "/plugins" }

// TestPluginEditorRendersEveryPlugin opens the add form of every plugin
// of the catalogue on the service and on the route: each has a schema and
// a form with an input for every member of it.
func TestPluginEditorRendersEveryPlugin(t *testing.T) {
	pf := newPluginFixture(t)
	var cat webpage.List[catalogueEntry]
	if _, err := (webpage.API{Handler: pf.api}).Call(httptestRequest("GET", "/plugins"), pf.cookie.Value, "GET", "/plugins", nil, &cat); err != nil {
		t.Fatal(err)
	}
	if len(cat.Items) == 0 {
		t.Fatal("empty catalogue")
	}
	for _, e := range cat.Items {
		if e.Schema == nil || schemaType(e.Schema) != "object" {
			t.Errorf("%s: no object schema: %v", e.Name, e.Schema)
			continue
		}
		if !e.Services && !e.Routes {
			if !e.Stream {
				t.Errorf("%s: may be set nowhere", e.Name)
			}
			continue // a stream route's only: TestStreamRoutePlugins
		}
		if e.Phase != "" && !messages.Has("plg.phase."+e.Phase) {
			t.Errorf("%s: phase %q has no words", e.Name, e.Phase)
		}
		names, _, _ := properties(e.Schema)
		for _, scope := range []string{"", pf.rid} {
			rec := pf.send("GET", pf.page()+"?"+url.Values{"scope": {scope}, "add": {e.Name}}.Encode(), nil, false)
			body := rec.Body.String()
			if rec.Code != 200 || !strings.Contains(body, `id="`+pluginFormID(scope, e.Name)+`"`) {
				t.Errorf("%s (scope %q): %d, no form", e.Name, scope, rec.Code)
				continue
			}
			for _, n := range names {
				if !strings.Contains(body, `name="cfg.`+n+`"`) {
					t.Errorf("%s (scope %q): no input for %s", e.Name, scope, n)
				}
			}
		}
	}
}

// TestSaveKeyAuthOnService: key-auth saved through the editor is on the
// service, shown on its overview, and the route's chain runs it.
func TestSaveKeyAuthOnService(t *testing.T) {
	pf := newPluginFixture(t)
	rec := pf.send("POST", pf.page(), url.Values{"scope": {""}, "plugin": {"key-auth"}, "cfg.header": {"X-Api-Key"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", rec.Code, rec.Body)
	}
	svc := pf.service(t)
	if got := compact(svc.Plugins["key-auth"]); got != `{"header":"X-Api-Key"}` {
		t.Fatalf("key-auth stored as %s", got)
	}
	if body := pf.send("GET", "/p/default/services/"+pf.sid, nil, false).Body.String(); !strings.Contains(body, `<span class="chip plugin-chip">key-auth</span>`) {
		t.Error("the overview does not show key-auth")
	}
	// A route plugin of a later phase, and one of an earlier: the chain
	// is in the gateway's order, whatever the names.
	for _, p := range []url.Values{
		{"scope": {pf.rid}, "plugin": {"limit-count"}, "cfg.count": {"10"}, "cfg.time_window": {"60"}},
		{"scope": {pf.rid}, "plugin": {"cors"}},
	} {
		if rec := pf.send("POST", pf.page(), p, true); rec.Code != http.StatusSeeOther {
			t.Fatalf("save %s: %d %s", p.Get("plugin"), rec.Code, rec.Body)
		}
	}
	body := pf.send("GET", pf.page(), nil, false).Body.String()
	chain := body[strings.Index(body, `id="chain-users"`):]
	chain = chain[:strings.Index(chain, "</ol>")]
	c, k, l := strings.Index(chain, "<code>cors</code>"), strings.Index(chain, "<code>key-auth</code>"), strings.Index(chain, "<code>limit-count</code>")
	if c < 0 || k < c || l < k {
		t.Errorf("chain out of order: %s", chain)
	}
	// Editing replaces the configuration: a member cleared is gone.
	if rec := pf.send("POST", pf.page(), url.Values{"scope": {""}, "plugin": {"key-auth"}, "cfg.query": {"apikey"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", rec.Code, rec.Body)
	}
	if got := compact(pf.service(t).Plugins["key-auth"]); got != `{"query":"apikey"}` {
		t.Errorf("after the edit key-auth is %s", got)
	}
	// Removing it.
	if rec := pf.send("POST", pf.page()+"/remove", url.Values{"scope": {""}, "plugin": {"key-auth"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("remove: %d %s", rec.Code, rec.Body)
	}
	if _, on := pf.service(t).Plugins["key-auth"]; on {
		t.Error("key-auth still set after removal")
	}
}

// TestPluginInvalidValueShownInline: a refused value is shown beside its
// field, and the form keeps what the user typed.
func TestPluginInvalidValueShownInline(t *testing.T) {
	pf := newPluginFixture(t)
	rec := pf.send("POST", pf.page(), url.Values{"scope": {pf.rid}, "plugin": {"limit-count"}, "cfg.count": {"lots"}, "cfg.time_window": {"60"}}, true)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("bad count: %d, want 400", rec.Code)
	}
	body := rec.Body.String()
	form := body[strings.Index(body, `id="`+pluginFormID(pf.rid, "limit-count")+`"`):]
	form = form[:strings.Index(form, "</form>")]
	if !strings.Contains(form, `>redis</option>`) {
		t.Error("limit-count's policy is not a select of its values")
	}
	if !strings.Contains(form, `value="lots"`) || !strings.Contains(form, `value="60"`) {
		t.Errorf("the form lost the input: %s", form)
	}
	count := form[strings.Index(form, `name="cfg.count"`):]
	if i := strings.Index(count, `class="ferr"`); i < 0 || strings.Contains(count[:i], `name="cfg.`+"time_window") {
		t.Errorf("no message beside count: %s", html.UnescapeString(count))
	}
	if strings.Contains(body, `id="field-errors"`) {
		t.Error("the message beside count is listed again under the banner")
	}
	if _, on := pf.service(t).Routes[0].Plugins["limit-count"]; on {
		t.Error("a refused plugin was saved")
	}
}

// TestEditServiceSettingsAndNodes: a service's path, upstream and
// description, and an upstream's nodes, change after creation.
func TestEditServiceSettingsAndNodes(t *testing.T) {
	pf := newPluginFixture(t)
	if rec := pf.send("POST", "/p/default/upstreams", url.Values{"name": {"pool"}, "node_host": {"10.0.0.1"}, "node_port": {"80"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("create upstream: %d %s", rec.Code, rec.Body)
	}
	var ul webpage.List[spec.Upstream]
	if _, err := (webpage.API{Handler: pf.api}).Call(httptestRequest("GET", "/"), pf.cookie.Value, "GET", "/projects/default/upstreams", nil, &ul); err != nil || len(ul.Items) != 1 {
		t.Fatalf("upstreams: %v %+v", err, ul)
	}
	uid := ul.Items[0].ID
	rec := pf.send("POST", "/p/default/services/"+pf.sid+"/settings", url.Values{"path": {"/shop"}, "upstream_id": {uid}, "description": {"the shop"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("settings: %d %s", rec.Code, rec.Body)
	}
	svc := pf.service(t)
	if svc.Path != "/shop" || svc.UpstreamID != uid || svc.Description != "the shop" {
		t.Errorf("settings not saved: %q %q %q", svc.Path, svc.UpstreamID, svc.Description)
	}
	rec = pf.send("POST", "/p/default/services/"+pf.sid+"/settings", url.Values{"path": {"no-slash"}, "upstream_id": {uid}, "description": {"kept"}}, true)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `value="no-slash"`) || !strings.Contains(rec.Body.String(), `class="ferr"`) {
		t.Errorf("bad path: %d, want 400 with the input kept and a message", rec.Code)
	}
	rec = pf.send("POST", "/p/default/upstreams/"+uid, url.Values{"node_host": {"10.0.0.2", "10.0.0.3", ""}, "node_port": {"81", "82", ""}, "node_weight": {"5", "", ""}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("nodes: %d %s", rec.Code, rec.Body)
	}
	body := pf.send("GET", "/p/default/upstreams", nil, false).Body.String()
	if !strings.Contains(body, "10.0.0.2:81 (5)") || !strings.Contains(body, "10.0.0.3:82 (100)") || strings.Contains(body, "10.0.0.1:80") {
		t.Errorf("nodes not replaced")
	}
	rec = pf.send("POST", "/p/default/upstreams/"+uid, url.Values{"node_host": {"10.0.0.9"}, "node_port": {"port"}}, true)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `value="port"`) {
		t.Errorf("bad port: %d, want 400 with the input kept", rec.Code)
	}
}

// TestPluginFormsNeverAnswer500 is the odd-values test of the policy
// editor's forms: any value of any member, scope or plugin name answers a
// page or a redirect.
func TestPluginFormsNeverAnswer500(t *testing.T) {
	skipUnderRace(t)
	pf := newPluginFixture(t)
	odd := []string{"", " ", "x", "-1", "0", "99999999999999999999", "1.5", "<script>alert(1)</script>", "../../etc/passwd",
		"%00", "\x00", strings.Repeat("a", 5000), "{\"a\":", "名字", "null", "true", "[]", "{}", "on"}
	members := []string{"header", "query", "count", "time_window", "key", "policy", "allow", "deny", "allow_origins", "bodies",
		"disable", "sample_ratio", "methods", "uri", "status", "body", "headers", "max_body_bytes"}
	posts := []string{pf.page(), pf.page() + "/remove", "/p/default/services/" + pf.sid + "/settings", "/p/default/services/nope/plugins",
		"/p/default/services/nope/settings", "/p/default/upstreams/nope", "/p/nope/upstreams/nope"}
	plugins := []string{"key-auth", "limit-count", "cors", "access-log", "mock", "ip-restriction", "limit-conn", "nope", ""}
	for _, p := range posts {
		if rec := pf.send("POST", p, url.Values{"plugin": {"key-auth"}}, false); rec.Code != http.StatusForbidden {
			t.Errorf("POST %s without CSRF: %d, want 403", p, rec.Code)
		}
		for i, v := range odd {
			form := url.Values{"plugin": {plugins[i%len(plugins)]}, "scope": {[]string{"", pf.rid, v}[i%3]}, "cfg_raw": {v},
				"path": {v}, "upstream_id": {v}, "description": {v}, "node_host": {v, "h"}, "node_port": {v, "1"}, "node_weight": {v}}
			for j, m := range members {
				form.Set("cfg."+m, odd[(i+j)%len(odd)])
			}
			if rec := pf.send("POST", p, form, true); rec.Code >= 500 {
				t.Errorf("POST %s with %q: %d %.300s", p, v, rec.Code, rec.Body)
			}
		}
	}
	for _, g := range []string{pf.page(), pf.page() + "?scope=&add=nope", pf.page() + "?scope=%00&add=%00", "/p/default/services/nope/plugins", "/p/default/upstreams"} {
		if rec := pf.send("GET", g, nil, false); rec.Code >= 500 {
			t.Errorf("GET %s: %d", g, rec.Code)
		}
	}
}

// TestPluginMessagesOverrideNothing: the policy editor's catalogue adds
// keys only.
func TestPluginMessagesOverrideNothing(t *testing.T) {
	if len(pluginsOverridden) > 0 {
		t.Errorf("i18n_plugins.go redefines keys: %v", pluginsOverridden)
	}
}

// TestReplacementPatch: the merge patch that replaces a configuration
// removes what the new one lacks, at every depth.
func TestReplacementPatch(t *testing.T) {
	old := decodeConfig(json.RawMessage(`{"a":1,"b":{"c":2,"d":3},"e":[1]}`))
	got, _ := json.Marshal(replacement(old, map[string]any{"b": json.RawMessage(`{"c":5}`), "f": "x"}))
	if want := `{"a":null,"b":{"c":5,"d":null},"e":null,"f":"x"}`; string(got) != want {
		t.Errorf("replacement = %s, want %s", got, want)
	}
}

// httptestRequest is the page request an admin API call is made for.
func httptestRequest(method, path string) *http.Request {
	return httptest.NewRequest(method, path, nil)
}

// compact is a stored configuration without its spacing.
func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// pluginOddPaths, pluginOddFields and pluginOddGets bring the policy
// editor's forms and pages to TestFormsNeverAnswer500 (S: its service).
var (
	pluginOddPaths = []string{"/p/default/services/S/plugins", "/p/default/services/S/plugins/remove", "/p/default/services/S/settings",
		"/p/default/services/nope/plugins", "/p/default/upstreams/nope", "/p/nope/upstreams/nope"}
	pluginOddFields = []string{"scope", "plugin", "cfg_raw", "upstream_id", "cfg.header", "cfg.query", "cfg.count", "cfg.time_window",
		"cfg.allow_origins", "cfg.bodies", "cfg.disable"}
)

func pluginOddGets(sid string) []string {
	page := "/p/default/services/" + sid + "/plugins"
	return []string{page, page + "?scope=&add=key-auth", page + "?scope=%00&add=%00", page + "?scope=&add=nope", "/p/default/services/nope/plugins"}
}

// TestPluginEditorReadOnly: a viewer sees the plugins, the chain and the
// settings but no form that changes them, and the forms refuse them.
func TestPluginEditorReadOnly(t *testing.T) {
	pf := newPluginFixture(t)
	if rec := pf.send("POST", pf.page(), url.Values{"scope": {""}, "plugin": {"key-auth"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("save: %d", rec.Code)
	}
	pf.member(t, "default", pf.mkUser(t, "watcher", "user"), "viewer")
	v := pf.as(t, "watcher")
	rec := v.send("GET", pf.page(), nil, false)
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, "<code>key-auth</code>") || !strings.Contains(body, `id="chain-users"`) {
		t.Fatalf("viewer: %d, plugins or chain missing", rec.Code)
	}
	for _, form := range []string{`id="settings-save"`, `class="add-plugin-go"`, `-confirm-remove"`, `class="primary plugin-save"`} {
		if strings.Contains(body, form) {
			t.Errorf("a viewer is offered %s", form)
		}
	}
	if rec := v.send("POST", pf.page(), url.Values{"scope": {""}, "plugin": {"cors"}}, true); rec.Code != http.StatusForbidden {
		t.Errorf("viewer saving a plugin: %d, want 403", rec.Code)
	}
}

// TestPluginDefaults: a new plugin's form starts from the defaults the
// catalogue gives, and a box whose default is true, cleared, is saved as
// false rather than left to the default.
func TestPluginDefaults(t *testing.T) {
	pf := newPluginFixture(t)
	body := pf.send("GET", pf.page()+"?scope=&add=jwt-auth", nil, false).Body.String()
	form := body[strings.Index(body, `id="plugin-service-jwt-auth"`):]
	form = form[:strings.Index(form, "</form>")]
	if !strings.Contains(form, `id="plugin-service-jwt-auth-require_exp" checked`) || !strings.Contains(form, `value="Authorization"`) {
		t.Errorf("jwt-auth's form does not start from its defaults: %s", form)
	}
	if rec := pf.send("POST", pf.page(), url.Values{"scope": {""}, "plugin": {"jwt-auth"}, "cfg.header": {"Authorization"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", rec.Code, rec.Body)
	}
	if got := compact(pf.service(t).Plugins["jwt-auth"]); got != `{"header":"Authorization","require_exp":false}` {
		t.Errorf("jwt-auth stored as %s", got)
	}
}
