package console

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/webpage/webpagetest"
)

func TestCompositeMessagesOverrideNothing(t *testing.T) {
	if len(compositeOverridden) > 0 {
		t.Errorf("compositeMessages redefine %v", compositeOverridden)
	}
}

// testFlow calls two APIs of the project (the second after the first,
// optional) and the service's own upstream.
const testFlow = `{"steps": [
  {"name": "user", "service": "users", "route": "get_user", "params": {"id": "request.params.id"}},
  {"name": "orders", "service": "orders", "route": "list_orders", "after": ["user"], "optional": true, "fallback": []},
  {"name": "audit", "path": "/audit", "method": "POST", "after": ["user"]}],
 "response": {"body": "{\"user\": steps.user.body, \"orders\": steps.orders.body}"}}`

// mkService creates a service with one route through the console's forms
// and answers its id.
func mkService(t *testing.T, f *fixture, name string, route url.Values) string {
	t.Helper()
	rec := f.send("POST", "/p/default/services", url.Values{"name": {name}, "protocols": {"http"}, "node_host": {"127.0.0.1"}, "node_port": {"9"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create service %s: %d %s", name, rec.Code, rec.Body)
	}
	sid := strings.TrimPrefix(location(rec), "/p/default/services/")
	if route != nil {
		if rec := f.send("POST", "/p/default/services/"+sid+"/routes", route, true); rec.Code != http.StatusSeeOther {
			t.Fatalf("add route to %s: %d %.3000s", name, rec.Code, rec.Body)
		}
	}
	return sid
}

// composedServices makes the users and orders services and the profile
// service whose composite route calls them; it answers profile's id.
func composedServices(t *testing.T, f *fixture) string {
	t.Helper()
	mkService(t, f, "users", url.Values{"name": {"get_user"}, "paths": {"/users/{id}"}, "methods": {"GET"}})
	mkService(t, f, "orders", url.Values{"name": {"list_orders"}, "paths": {"/orders"}, "methods": {"GET"}})
	return mkService(t, f, "profile", url.Values{"name": {"profile"}, "paths": {"/profiles/{id}"}, "methods": {"GET"},
		"backend_type": {"composite"}, "composite": {testFlow}})
}

// TestCompositeRouteForm: a provider makes a composite route with its flow
// typed as JSON; the routes table shows its steps (what each calls, what
// it waits for, whether it is optional), in English and Chinese; a flow
// that is not JSON, or that the admin API refuses, comes back beside its
// field with what was typed; a composite route can go back to an
// upstream call.
func TestCompositeRouteForm(t *testing.T) {
	f := newFixture(t)
	sid := composedServices(t, f)
	page := "/p/default/services/" + sid
	body := wantPage(t, "service page", f.send("GET", page, nil, false), http.StatusOK,
		`id="backend-profile"`, `data-step="user"`, "<code>users/get_user</code>", "<code>orders/list_orders</code>",
		"upstream <code>POST /audit</code>", "after user", `<span class="chip">optional</span>`,
		// The edit form shows the flow to change it.
		`<option value="composite" selected>`, `class="rt-flow"`, "&#34;route&#34;: &#34;get_user&#34;")
	lacks(t, "service page", body, `class="ferr rt-backend-err"`)
	zh := zhGet(t, f, page)
	for _, want := range []string{"后端", "可选", "等待", "组合编排（JSON）", "组合（调用其他 API 并合并其响应）"} {
		if !strings.Contains(zh, want) {
			t.Errorf("the service page in Chinese lacks %q", want)
		}
	}

	// The admin API's dependency graph: profile uses users' get_user,
	// which the users service's page shows as used by profile's template.
	wantPage(t, "profile's dependencies", f.send("GET", page, nil, false), http.StatusOK,
		`id="uses"`, `<a href="/p/default/services/users">users</a> / <code>get_user</code>`, "called by profile")
	var users spec.Service
	f.apiJSON(t, "GET", "/projects/default/services/users", nil, &users)
	wantPage(t, "users' dependencies", f.send("GET", "/p/default/services/"+users.ID, nil, false), http.StatusOK,
		`id="used-by"`, fmt.Sprintf(`<a href="/p/default/services/%s">profile</a> / <code>profile</code> → <code>get_user</code>`, sid),
		"service template (not running)")

	var svc spec.Service
	f.apiJSON(t, "GET", "/projects/default/services/"+sid, nil, &svc)
	if len(svc.Routes) != 1 || !svc.Routes[0].IsComposite() || len(svc.Routes[0].Backend.Composite.Steps) != 3 {
		t.Fatalf("the stored route: %+v", svc.Routes)
	}
	rid := svc.Routes[0].ID

	refused := []struct {
		name, flow string
		code       int
		wants      []string
	}{
		{"not JSON", `{"steps": [`, http.StatusBadRequest, []string{"is not valid JSON", "{&#34;steps&#34;: ["}},
		{"empty", ``, http.StatusBadRequest, []string{"is required for a composite backend"}},
		{"bad step name", `{"steps": [{"name": "Bad Name", "path": "/x"}], "response": {"body": "1"}}`, http.StatusBadRequest,
			[]string{"steps[0].name: must be a lower-case identifier", "&#34;Bad Name&#34;"}},
		{"unknown member", `{"steps": [{"name": "a", "path": "/x", "colour": 1}], "response": {"body": "1"}}`, http.StatusBadRequest,
			[]string{"colour", "&#34;colour&#34;: 1"}},
	}
	for _, tt := range refused {
		form := url.Values{"name": {"profile"}, "paths": {"/profiles/{id}"}, "methods": {"GET"}, "backend_type": {"composite"}, "composite": {tt.flow}}
		body := wantPage(t, tt.name, f.send("POST", page+"/routes/"+rid, form, true), tt.code,
			append([]string{`class="ferr rt-backend-err"`, `<option value="composite" selected>`}, tt.wants...)...)
		if !strings.Contains(body, `<details open><summary>Edit</summary>`) {
			t.Errorf("%s: the refused form is not open", tt.name)
		}
	}
	zhForm := httptest.NewRequest("POST", page+"/routes/"+rid, strings.NewReader(url.Values{"csrf": {f.csrf}, "name": {"profile"},
		"backend_type": {"composite"}, "composite": {"nope"}}.Encode()))
	zhForm.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	zhForm.Header.Set("Accept-Language", "zh-CN")
	zhForm.AddCookie(f.cookie)
	zrec := httptest.NewRecorder()
	f.h.ServeHTTP(zrec, zhForm)
	wantPage(t, "not JSON in Chinese", zrec, http.StatusBadRequest, "不是有效的 JSON")

	// Back to an upstream call.
	form := url.Values{"name": {"profile"}, "paths": {"/profiles/{id}"}, "methods": {"GET"}, "backend_type": {"upstream"}, "backend_path": {"/v1/profile"}, "composite": {testFlow}}
	if rec := f.send("POST", page+"/routes/"+rid, form, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("back to upstream: %d %.2000s", rec.Code, rec.Body)
	}
	var after spec.Service // a fresh value: decoding into svc would merge into its backend
	f.apiJSON(t, "GET", "/projects/default/services/"+sid, nil, &after)
	if r := after.Routes[0]; r.IsComposite() || r.Backend == nil || r.Backend.Path != "/v1/profile" {
		t.Errorf("after the change to upstream: %+v", r.Backend)
	}
	body = wantPage(t, "upstream route", f.send("GET", page, nil, false), http.StatusOK, "<code>/v1/profile</code>")
	lacks(t, "upstream route", body, `data-step="user"`, `<option value="composite" selected>`)
}

// withDependencies answers GET …/services/{s}/dependencies with deps for
// every service, and sends everything else to api.
func withDependencies(api http.Handler, deps string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/dependencies") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(deps))
			return
		}
		api.ServeHTTP(w, r)
	})
}

// TestServiceDependencies: the service page lists the APIs its composite
// routes use (with the groups they run in and those they are missing
// from) and the composite routes that use it, each linking to its
// service, in English and Chinese; without any, no section.
func TestServiceDependencies(t *testing.T) {
	st := webpagetest.NewStore(t, firstStart)
	api := withDependencies(adminapi.New(adminapi.Config{Store: st, Version: "test"}),
		`{"uses": [{"service": "users", "route": "get_user", "by": ["profile"], "groups": ["default"], "missing_in": ["prod"]},
		           {"service": "orders", "route": "list_orders", "by": ["profile", "summary"], "groups": ["default", "prod"]}],
		  "used_by": [{"service": "portal", "service_id": "svc-portal-1", "route": "home", "uses_route": "get_profile", "group": "default", "version": "1.2.0"},
		              {"service": "drafts", "service_id": "svc-drafts-1", "route": "try", "uses_route": "get_profile", "template": true}]}`)
	f := (&fixture{api: api, h: New(Config{API: api})}).loginAs(t, "admin", "pw")
	sid := mkService(t, f, "profile", nil)
	page := "/p/default/services/" + sid
	wantPage(t, "service page", f.send("GET", page, nil, false), http.StatusOK,
		`id="deps"`, `id="uses"`, `<a href="/p/default/services/users">users</a> / <code>get_user</code>`,
		`<span class="chip">default</span>`, `not running in prod`,
		`<a href="/p/default/services/orders">orders</a> / <code>list_orders</code>`,
		`called by profile, summary`,
		`id="used-by"`, `<a href="/p/default/services/svc-portal-1">portal</a> / <code>home</code> → <code>get_profile</code>`,
		`<span class="chip">default 1.2.0</span>`, `<a href="/p/default/services/svc-drafts-1">drafts</a>`, "service template (not running)")
	zh := zhGet(t, f, page)
	for _, want := range []string{"组合 API", "调用的 API", "被以下 API 调用", "未运行于 prod", "网关组", "调用方路由", "服务模板（未运行）"} {
		if !strings.Contains(zh, want) {
			t.Errorf("the service page in Chinese lacks %q", want)
		}
	}

	none := withDependencies(adminapi.New(adminapi.Config{Store: webpagetest.NewStore(t, firstStart), Version: "test"}), `{"uses": [], "used_by": []}`)
	g := (&fixture{api: none, h: New(Config{API: none})}).loginAs(t, "admin", "pw")
	sid = mkService(t, g, "plain", nil)
	body := wantPage(t, "a service without dependencies", g.send("GET", "/p/default/services/"+sid, nil, false), http.StatusOK)
	lacks(t, "a service without dependencies", body, `id="deps"`)
}

// TestDebugCompositeSteps: a call the Debug tab sends to a composite
// route shows each step (request, status, outcome, error, timing and its
// bar on the call's time line), read from the call's record by its
// request id; when the record has not arrived the page says so and links
// to the call log; the call's page shows the same steps.
func TestDebugCompositeSteps(t *testing.T) {
	requestID := "req-cmp-1"
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", requestID)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"user": {"id": 7}, "orders": []}`))
	}))
	defer gw.Close()
	st := webpagetest.NewStore(t, firstStart)
	api := adminapi.New(adminapi.Config{Store: st, Version: "test", Gateway: func(string) (string, bool) { return gw.URL, true }})
	f := (&fixture{api: api, h: New(Config{API: api})}).loginAs(t, "admin", "pw")
	sid := composedServices(t, f)

	rec := spec.CallRecord{RequestID: requestID, Group: "default", Project: "default", Service: "profile", ServiceID: sid, Route: "profile",
		Method: "GET", Path: "/profiles/7", Status: 200, LatencyMs: 40,
		Steps: []spec.CallStep{
			{Name: "user", Target: "users/get_user", Method: "GET", Path: "/users/7", Status: 200, Outcome: "ok", Attempts: 1, StartMs: 0.5, LatencyMs: 12},
			{Name: "orders", Target: "orders/list_orders", Method: "GET", Path: "/orders", Status: 503, Outcome: "fallback",
				Error: "upstream_unavailable", Attempts: 2, StartMs: 12.5, LatencyMs: 20},
			{Name: "audit", Target: "upstream", Method: "POST", Path: "/audit", Outcome: "timeout", Error: "deadline", StartMs: 12.5, LatencyMs: 27.5},
		}}
	records := []spec.CallRecord{rec}
	ctx := context.Background()
	if err := st.Tx(ctx, func(tx store.Tx) error { return tx.InsertCallRecords(ctx, records) }); err != nil {
		t.Fatal(err)
	}

	debug := "/p/default/services/" + sid + "/debug"
	form := url.Values{"group": {"default"}, "method": {"GET"}, "path": {"/profiles/7"}}
	body := wantPage(t, "debug", f.send("POST", debug, form, true), http.StatusOK,
		`id="dbg-result"`, `id="dbg-steps"`,
		`data-step="user" data-outcome="ok"`, `<code class="step-req">GET /users/7</code>`, `users/get_user`,
		`data-step="orders" data-outcome="fallback"`, `<code>503</code>`, `attempts: 2`, `upstream_unavailable`,
		`data-step="audit" data-outcome="timeout"`, `<code class="step-req">POST /audit</code>`, `timed out`, "deadline",
		`12.5 ms + 20.0 ms`, `<rect x="31.25" y="0" width="50.00"`)
	lacks(t, "debug", body, `id="dbg-steps-pending"`)
	zh := httptest.NewRequest("POST", debug, strings.NewReader(url.Values{"csrf": {f.csrf}, "group": {"default"}, "method": {"GET"}, "path": {"/profiles/7"}}.Encode()))
	zh.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	zh.Header.Set("Accept-Language", "zh-CN")
	zh.AddCookie(f.cookie)
	zrec := httptest.NewRecorder()
	f.h.ServeHTTP(zrec, zh)
	wantPage(t, "debug in Chinese", zrec, http.StatusOK, "组合步骤", "成功", "降级", "超时", "尝试次数：2", "开始 &#43; 耗时")

	// The record has not arrived: said, with the way to the call log.
	requestID = "req-not-yet"
	saved := stepsWait
	defer func() { stepsWait = saved }()
	stepsWait = 0
	body = wantPage(t, "debug, no record yet", f.send("POST", debug, form, true), http.StatusOK,
		`id="dbg-steps-pending"`, "not recorded yet", `href="/p/default/logs?request_id=req-not-yet"`)
	lacks(t, "debug, no record yet", body, `data-step="user"`)

	// The call's page.
	wantPage(t, "the call's page", f.send("GET", fmt.Sprintf("/p/default/logs/%d", records[0].ID), nil, false), http.StatusOK,
		`id="call-steps"`, `data-step="orders" data-outcome="fallback"`, "upstream_unavailable")
}
