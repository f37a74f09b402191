package console

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/webpage"
	"github.com/portico-gw/portico/internal/webpage/webpagetest"
)

// wantPage fails unless rec has status code and every one of wants.
func wantPage(t *testing.T, what string, rec *httptest.ResponseRecorder, code int, wants ...string) string {
	t.Helper()
	body := rec.Body.String()
	if rec.Code != code {
		t.Fatalf("%s: %d, want %d\n%.2500s", what, rec.Code, code, body)
	}
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s: lacks %q\n%.4000s", what, w, body)
		}
	}
	return body
}

func lacks(t *testing.T, what, body string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(body, n) {
			t.Errorf("%s: shows %q, it should not", what, n)
		}
	}
}

// location is where a 303 sends the browser, without its query.
func location(rec *httptest.ResponseRecorder) string {
	return strings.SplitN(rec.Header().Get("Location"), "?", 2)[0]
}

// marketWorld is a project shop with a service running version 1.0.0 in
// the default group, and its people: prov (api_provider), padm
// (project_admin), view (viewer), dev (no membership).
type marketWorld struct {
	admin, prov, padm, view, dev *fixture
	svc                          string // service id
	svcPage                      string // /p/shop/services/{id}
}

// newMarketFixture is newFixture with the admin API's market hooks: the
// webhook queue and a quota counter answering fixed
// figures.
func newMarketFixture(tb testing.TB) *fixture {
	tb.Helper()
	st := webpagetest.NewStore(tb, firstStart)
	usage := func(_ context.Context, group, sub string, _ []spec.Quota, _ *time.Location) ([]adminapi.PeriodUsage, bool) {
		return []adminapi.PeriodUsage{{Period: spec.QuotaMonth, Limit: 7, Used: 3, Remaining: 4, ResetsAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
			{Period: spec.QuotaDay, Used: 2, ResetsAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}}, true
	}
	// What webhook.Enqueue does, short: a delivery when the project has a
	// receiver.
	n := 0
	events := func(ctx context.Context, tx store.Tx, project, event string, data any) error {
		u, _, err := tx.GetProjectWebhook(ctx, project)
		if err != nil || u == "" {
			return err
		}
		n++
		return tx.EnqueueWebhook(ctx, &store.WebhookDelivery{ID: fmt.Sprintf("d%d-%d", time.Now().UnixNano(), n), Project: project, Event: event, Body: "{}"})
	}
	api := adminapi.New(adminapi.Config{Store: st, Version: "test", Events: events, QuotaUsage: usage})
	f := &fixture{api: api, h: New(Config{API: api, Logger: slog.New(slog.NewTextHandler(testWriter{tb}, nil))})}
	return f.loginAs(tb, "admin", "pw")
}

func newMarketWorld(t *testing.T) *marketWorld {
	t.Helper()
	f := newMarketFixture(t)
	f.mkProject(t, "shop")
	for user, role := range map[string]string{"prov": "api_provider", "padm": "project_admin", "view": "viewer"} {
		f.mkUser(t, user, "user")
		f.member(t, "shop", user, role)
	}
	f.mkUser(t, "dev", "user")
	var svc spec.Service
	f.apiCall(t, "POST", "/projects/shop/services", map[string]any{"name": "orders", "protocols": []string{"http"},
		"upstream": map[string]any{"scheme": "http", "nodes": []map[string]any{{"host": "127.0.0.1", "port": 9, "weight": 100}}}}, http.StatusCreated, &svc)
	f.apiCall(t, "POST", "/projects/shop/services/"+svc.ID+"/routes", map[string]any{"name": "list", "paths": []string{"/orders"}, "methods": []string{"GET"}}, http.StatusCreated, nil)
	// Published through the lifecycle (the catalog shows published
	// services only), which lists it for a super admin; unlisted again so
	// that the tests launch it.
	f.apiCall(t, "POST", "/projects/shop/services/"+svc.ID+"/actions/submit", map[string]any{"version": "1.0.0"}, http.StatusOK, nil)
	f.apiCall(t, "POST", "/projects/shop/services/"+svc.ID+"/actions/publish", nil, http.StatusOK, nil)
	f.apiCall(t, "DELETE", "/projects/shop/services/"+svc.ID+"/listing", map[string]string{"comment": "set up"}, http.StatusAccepted, nil)
	return &marketWorld{admin: f, prov: f.as(t, "prov"), padm: f.as(t, "padm"), view: f.as(t, "view"), dev: f.as(t, "dev"),
		svc: svc.ID, svcPage: "/p/shop/services/" + svc.ID}
}

var approvalHref = regexp.MustCompile(`href="/approvals/([^"?]+)"`)

// TestMarketListingFlow: a provider launches a service from its market
// tab, the project admin sees it in the inbox (and the navigation's
// badge), approves it with a comment; the listing, its auto-approve
// switch and the request's history show; delisting is a request again.
func TestMarketListingFlow(t *testing.T) {
	w := newMarketWorld(t)
	market := w.svcPage + "/market"
	body := wantPage(t, "provider's market tab", w.prov.send("GET", market, nil, false), 200, `id="listing-state"`, `id="launch-open"`, "Not in the catalog", `<option value="1.0.0"`)
	lacks(t, "provider's market tab", body, `id="listing-settings"`)

	rec := w.prov.send("POST", market[:len(market)-len("/market")]+"/listing", url.Values{"version": {"1.0.0"}, "comment": {"first launch"}}, true)
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(location(rec), "/approvals/") || !strings.Contains(rec.Header().Get("Location"), "flash=listing_requested") {
		t.Fatalf("launch: %d %s %.500s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	req := location(rec)
	body = wantPage(t, "the request, to its requester", w.prov.send("GET", req, nil, false), 200, "Launch to catalog", `id="detail-version">1.0.0`, `id="cancel"`, "first launch", "prov")
	lacks(t, "the request, to its requester", body, `id="approve"`, `id="reject"`)
	body = wantPage(t, "provider's inbox", w.prov.send("GET", "/approvals", nil, false), 200, `id="approvals"`, "orders", "Pending")
	lacks(t, "provider's inbox", body, `id="box-todo"`)
	// The pending request shows on the service's market tab too.
	wantPage(t, "market tab with a pending request", w.prov.send("GET", market, nil, false), 200, `id="requests"`, req)

	home := wantPage(t, "project admin's dashboard", w.padm.send("GET", "/", nil, false), 200, `id="nav-approvals"`, `id="nav-badge-approvals">1<`)
	_ = home
	wantPage(t, "project admin's inbox", w.padm.send("GET", "/approvals", nil, false), 200, `id="box-todo" href="/approvals?box=todo" aria-current="page"`, "prov", "orders")
	wantPage(t, "the request, to a reviewer", w.padm.send("GET", req, nil, false), 200, `id="approve"`, `id="reject"`)
	rec = w.padm.send("POST", req+"/approve", url.Values{"comment": {"looks good"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("approve: %d %.500s", rec.Code, rec.Body)
	}
	body = wantPage(t, "the approved request", w.padm.send("GET", req, nil, false), 200, `id="approval-history"`, "looks good", "padm", "approved", "Approved")
	lacks(t, "the approved request", body, `id="approve"`)
	// Deciding it again is the admin API's 409, shown on the page.
	wantPage(t, "approving twice", w.padm.send("POST", req+"/approve", url.Values{}, true), http.StatusConflict, `id="error"`)

	body = wantPage(t, "listed, to the provider", w.prov.send("GET", market, nil, false), 200, "Listed in the catalog", `id="listed-version">1.0.0`, `id="delist-open"`)
	lacks(t, "listed, to the provider", body, `id="listing-settings"`, "Not in the catalog")
	if !strings.Contains(body, "List another version") {
		t.Error("a listed service offers no other version to list")
	}
	wantPage(t, "listed, to the project admin", w.padm.send("GET", market, nil, false), 200, `id="listing-settings"`)
	if rec := w.padm.send("POST", w.svcPage+"/listing/settings", url.Values{"auto_approve": {"on"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("auto-approve on: %d %.500s", rec.Code, rec.Body)
	}
	wantPage(t, "auto-approve on", w.prov.send("GET", market, nil, false), 200, `id="listed-auto">Yes`)
	wantPage(t, "a provider may not switch auto-approve", w.prov.send("POST", w.svcPage+"/listing/settings", url.Values{}, true), http.StatusForbidden, `<code id="denied-perm">approval:review</code>`)

	rec = w.prov.send("POST", w.svcPage+"/listing/delete", url.Values{"comment": {"retire"}}, true)
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "flash=delisting_requested") {
		t.Fatalf("delist: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	delist := location(rec)
	// A second request while one is pending: the admin API's 409 beside the form.
	wantPage(t, "delisting twice", w.prov.send("POST", w.svcPage+"/listing/delete", url.Values{}, true), http.StatusConflict, `id="error"`, "pending")
	rec = w.prov.send("POST", delist+"/cancel", url.Values{"comment": {"not yet"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("cancel: %d %.500s", rec.Code, rec.Body)
	}
	wantPage(t, "cancelled", w.prov.send("GET", delist, nil, false), 200, "Cancelled", "not yet")
	wantPage(t, "filters", w.prov.send("GET", "/approvals?box=mine&state=cancelled&kind=delisting", nil, false), 200, delist)
	if body := w.prov.send("GET", "/approvals?box=mine&state=approved", nil, false).Body.String(); strings.Contains(body, delist) {
		t.Error("the approved filter shows a cancelled request")
	}
	wantPage(t, "a bad filter", w.prov.send("GET", "/approvals?state=bogus", nil, false), http.StatusBadRequest, `id="approval-filters"`)

	// Chinese.
	zh := wantPage(t, "Chinese inbox", w.padm.getIn("/approvals?box=mine", "zh-CN"), 200, "审批", "我提交的")
	_ = zh
	wantPage(t, "Chinese market tab", w.prov.getIn(market, "zh-CN"), 200, "已上架", "从 API 市场下架", "订阅自动审批")
	wantPage(t, "Chinese request", w.padm.getIn(req, "zh-CN"), 200, "上架申请", "审批记录", "已通过")
}

// TestMarketPlansAndSubscriptions: plans made, changed (a bad quota shown
// beside the form) and deleted; a developer's subscription shows on the
// service's subscriptions tab with its plan and usage.
func TestMarketPlansAndSubscriptions(t *testing.T) {
	w := newMarketWorld(t)
	plans := w.svcPage + "/plans"
	wantPage(t, "no plans", w.prov.send("GET", plans, nil, false), 200, `id="plans-none"`, `id="plan-new"`)
	rec := w.prov.send("POST", plans, url.Values{"name": {"gold"}, "description": {"for the busy"},
		"quota_count": {"100", "", "5000"}, "quota_period": {"minute", "second", "day"}}, true)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("create plan: %d %.1500s", rec.Code, rec.Body)
	}
	wantPage(t, "a plan", w.prov.send("GET", plans, nil, false), 200, `data-plan="gold"`, "100 / minute, 5000 / day")
	wantPage(t, "a bad quota", w.prov.send("POST", plans, url.Values{"name": {"silver"}, "quota_count": {"lots"}, "quota_period": {"hour"}}, true),
		http.StatusBadRequest, `id="error"`, `value="lots"`, `class="ferr"`)
	wantPage(t, "two quotas of a period", w.prov.send("POST", plans, url.Values{"name": {"silver"}, "quota_count": {"1", "2"}, "quota_period": {"hour", "hour"}}, true),
		http.StatusBadRequest, "has a quota already")
	var pl webpage.List[spec.Plan]
	w.admin.apiCall(t, "GET", "/projects/shop/services/"+w.svc+"/plans", nil, http.StatusOK, &pl)
	if len(pl.Items) != 1 {
		t.Fatalf("plans: %+v", pl.Items)
	}
	gold := pl.Items[0].ID
	if rec := w.prov.send("POST", plans+"/"+gold, url.Values{"name": {"gold"}, "quota_count": {"7"}, "quota_period": {"month"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("change plan: %d %.1500s", rec.Code, rec.Body)
	}
	wantPage(t, "a changed plan", w.prov.send("GET", plans, nil, false), 200, "7 / month")
	wantPage(t, "Chinese plans", w.prov.getIn(plans, "zh-CN"), 200, "套餐", "7 / 月", "新建套餐")
	body := wantPage(t, "plans to a viewer", w.view.send("GET", plans, nil, false), 200, "7 / month")
	lacks(t, "plans to a viewer", body, `id="plan-new"`, "plan-edit")
	wantPage(t, "a viewer's plan", w.view.send("POST", plans, url.Values{"name": {"x"}}, true), http.StatusForbidden, `<code id="denied-perm">service:write</code>`)

	// List it (the project admin's own request is approved at once) and
	// let the developer subscribe with the plan: approved at once with
	// auto-approve.
	w.padm.apiCall(t, "POST", "/projects/shop/services/"+w.svc+"/listing", map[string]any{"version": "1.0.0", "auto_approve": true}, http.StatusAccepted, nil)
	var app spec.Application
	w.dev.apiCall(t, "POST", "/applications", map[string]any{"name": "devapp"}, http.StatusCreated, &app)
	var sub spec.Subscription
	w.dev.apiCall(t, "POST", "/subscriptions", map[string]any{"application": app.ID, "service": w.svc, "plan": "gold"}, http.StatusCreated, &sub)
	subs := w.svcPage + "/subscriptions"
	wantPage(t, "subscriptions", w.view.send("GET", subs, nil, false), 200, `id="subscriptions"`, app.ID, "gold", "Approved", `class="sub-usage"`)
	wantPage(t, "subscriptions filtered", w.view.send("GET", subs+"?state=pending", nil, false), 200, `id="subs-none"`)
	wantPage(t, "usage", w.view.send("GET", subs+"/"+sub.ID, nil, false), 200, `id="usage"`, `id="usage-plan">gold`, `id="usage-periods"`, "<td>month</td><td>7</td><td>3</td><td>4</td>", "<td>day</td><td>unlimited</td><td>2</td><td>—</td>")
	wantPage(t, "Chinese usage", w.view.getIn(subs+"/"+sub.ID, "zh-CN"), 200, "用量", "已用", "剩余")
	wantPage(t, "a subscription of another service", w.view.send("GET", subs+"/nope", nil, false), http.StatusNotFound)
	wantPage(t, "subscriptions to an outsider", w.dev.send("GET", subs, nil, false), http.StatusForbidden, `<code id="denied-perm">subscription:read</code>`)
	// A plan a subscription uses is kept: the refusal shows on the page.
	wantPage(t, "deleting a used plan", w.prov.send("POST", plans+"/"+gold+"/delete", url.Values{}, true), http.StatusConflict, `id="error"`)
	w.dev.apiCall(t, "DELETE", "/subscriptions/"+sub.ID, nil, http.StatusNoContent, nil)
	wantPage(t, "after unsubscribing", w.view.send("GET", subs, nil, false), 200, "Cancelled")
}

// TestMarketSettings: who approves listings (a super admin changes it;
// a project admin sees the refusal), the webhook with a generated secret
// shown once, a group's time zone and public URL.
func TestMarketSettings(t *testing.T) {
	w := newMarketWorld(t)
	settings := "/p/shop/settings"
	wantPage(t, "projects list links settings", w.padm.send("GET", "/projects", nil, false), 200, `href="/p/shop/settings"`)
	body := wantPage(t, "settings, project admin", w.padm.send("GET", settings, nil, false), 200, `id="approver-now">project_admin`, `id="approver-super-only"`, `id="webhook-edit"`, "No secret")
	lacks(t, "settings, project admin", body, `id="approver-save"`)
	wantPage(t, "a project admin's approver change", w.padm.send("POST", settings+"/approver", url.Values{"listing_approver": {"super_admin"}}, true),
		http.StatusForbidden, `id="error"`, "market:manage")
	wantPage(t, "settings, super admin", w.admin.send("GET", settings, nil, false), 200, `id="approver-save"`)
	if rec := w.admin.send("POST", settings+"/approver", url.Values{"listing_approver": {"super_admin"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("approver: %d %.1000s", rec.Code, rec.Body)
	}
	wantPage(t, "approver changed", w.padm.send("GET", settings, nil, false), 200, `id="approver-now">super_admin`)
	// Now a project admin's own launch waits for a super admin.
	rec := w.padm.send("POST", w.svcPage+"/listing", url.Values{"version": {"1.0.0"}}, true)
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), "flash=listing_requested") {
		t.Fatalf("launch under a super admin approver: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	launch := location(rec)
	body = wantPage(t, "a super admin's request, to a project admin", w.padm.send("GET", launch, nil, false), 200, "super_admin", `id="cancel"`)
	lacks(t, "a super admin's request, to a project admin", body, `id="approve"`)
	wantPage(t, "to the super admin", w.admin.send("GET", launch, nil, false), 200, `id="approve"`)

	rec = w.padm.send("POST", settings+"/webhook", url.Values{"url": {"http://127.0.0.1:1/hook"}}, true)
	body = wantPage(t, "webhook with a generated secret", rec, 200, `id="webhook-secret"`, "whsec_", "A secret is set", "http://127.0.0.1:1/hook")
	if body = w.padm.send("GET", settings, nil, false).Body.String(); strings.Contains(body, "whsec_") || !strings.Contains(body, "A secret is set") {
		t.Errorf("the secret shows again, or its state does not:\n%.3000s", body)
	}
	wantPage(t, "a short secret", w.padm.send("POST", settings+"/webhook", url.Values{"url": {"http://127.0.0.1:1/hook"}, "secret": {"short"}}, true), http.StatusBadRequest, `class="ferr"`, "16")
	if rec := w.padm.send("POST", settings+"/webhook", url.Values{"url": {"http://127.0.0.1:1/hook"}, "secret": {"a-secret-of-enough-length"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("webhook with a typed secret: %d %.1000s", rec.Code, rec.Body)
	}
	// A decision is an event for the webhook: a delivery waits.
	if rec := w.admin.send("POST", launch+"/approve", url.Values{"comment": {"ok"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("approve: %d %.500s", rec.Code, rec.Body)
	}
	wantPage(t, "deliveries", w.view.send("GET", settings, nil, false), 200, `id="deliveries"`, "<code>approval.approved</code>")
	body = wantPage(t, "webhook to a viewer", w.view.send("GET", settings, nil, false), 200, `id="webhook-url-now">http://127.0.0.1:1/hook`, "A secret is set")
	lacks(t, "webhook to a viewer", body, `id="webhook-edit"`, `id="webhook-delete"`, "a-secret-of")
	wantPage(t, "a viewer's webhook", w.view.send("POST", settings+"/webhook", url.Values{"url": {"http://x"}}, true), http.StatusForbidden, `<code id="denied-perm">project:update</code>`)
	wantPage(t, "Chinese settings", w.padm.getIn(settings, "zh-CN"), 200, "上架审批人", "已设置密钥", "投递记录")
	if rec := w.padm.send("POST", settings+"/webhook/delete", url.Values{}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("webhook delete: %d", rec.Code)
	}
	wantPage(t, "no webhook", w.padm.send("GET", settings, nil, false), 200, "No secret")
	wantPage(t, "settings to an outsider", w.dev.send("GET", settings, nil, false), http.StatusForbidden, `<code id="denied-project">shop</code>`)

	// A gateway group's time zone and public URL.
	if rec := w.admin.send("POST", "/groups/default/market", url.Values{"time_zone": {"Asia/Shanghai"}, "public_url": {"https://api.example.com"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("group market: %d %.1000s", rec.Code, rec.Body)
	}
	wantPage(t, "group", w.padm.send("GET", "/groups", nil, false), 200, "<code>Asia/Shanghai</code>", "<code>https://api.example.com</code>")
	wantPage(t, "a bad zone", w.admin.send("POST", "/groups/default/market", url.Values{"time_zone": {"Mars/Olympus"}, "public_url": {"ftp://x"}}, true),
		http.StatusBadRequest, `class="ferr"`, `value="Mars/Olympus"`)
	wantPage(t, "Chinese group", w.admin.getIn("/groups", "zh-CN"), 200, "时区", "公网地址")
	wantPage(t, "a project admin's group change", w.padm.send("POST", "/groups/default/market", url.Values{"time_zone": {"UTC"}}, true), http.StatusForbidden, `<code id="denied-perm">group:manage</code>`)

	// A gateway group's trace sampling: set, refused out of range (the
	// form kept), unset again.
	lacks(t, "no ratio yet", wantPage(t, "groups", w.admin.send("GET", "/groups", nil, false), 200, "each gateway&#39;s --trace-sample-ratio"), `id="trace-ratio-default"`)
	if rec := w.admin.send("POST", "/groups/default/tracing", url.Values{"trace_sample_ratio": {"0.25"}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("group tracing: %d %.1000s", rec.Code, rec.Body)
	}
	wantPage(t, "ratio set", w.padm.send("GET", "/groups", nil, false), 200, `<code id="trace-ratio-default">0.25</code>`)
	wantPage(t, "ratio out of range", w.admin.send("POST", "/groups/default/tracing", url.Values{"trace_sample_ratio": {"1.5"}}, true),
		http.StatusBadRequest, `class="ferr"`, `value="1.5"`, "between 0 and 1")
	wantPage(t, "ratio not a number", w.admin.send("POST", "/groups/default/tracing", url.Values{"trace_sample_ratio": {"lots"}}, true),
		http.StatusBadRequest, `value="lots"`, "trace_sample_ratio")
	if rec := w.admin.send("POST", "/groups/default/tracing", url.Values{"trace_sample_ratio": {""}}, true); rec.Code != http.StatusSeeOther {
		t.Fatalf("group tracing unset: %d %.1000s", rec.Code, rec.Body)
	}
	lacks(t, "ratio unset", wantPage(t, "groups", w.admin.send("GET", "/groups", nil, false), 200, "--trace-sample-ratio"), `id="trace-ratio-default"`)
	wantPage(t, "a project admin's tracing change", w.padm.send("POST", "/groups/default/tracing", url.Values{"trace_sample_ratio": {"1"}}, true), http.StatusForbidden, `<code id="denied-perm">group:manage</code>`)
}

// TestMarketPagesRefuseWithoutPermission: each market page names its
// permission on the 403 page, in both languages, before asking the admin
// API anything; and no market form answers a 5xx to odd values.
func TestMarketPagesRefuseWithoutPermission(t *testing.T) {
	w := newMarketWorld(t)
	for _, tc := range []struct {
		f                  *fixture
		method, path, perm string
	}{
		{w.dev, "GET", w.svcPage + "/market", "service:read"},
		{w.dev, "GET", w.svcPage + "/plans", "service:read"},
		{w.view, "POST", w.svcPage + "/listing", "listing:request"},
		{w.view, "POST", w.svcPage + "/listing/delete", "listing:request"},
		{w.prov, "POST", w.svcPage + "/listing/settings", "approval:review"},
		{w.view, "POST", w.svcPage + "/plans/x/delete", "service:write"},
		{w.dev, "GET", "/p/shop/settings", "project:read"},
		{w.prov, "POST", "/p/shop/settings/approver", "project:update"},
		{w.prov, "POST", "/groups/default/market", "group:manage"},
	} {
		rec := tc.f.send(tc.method, tc.path, url.Values{"comment": {"x"}}, true)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `<code id="denied-perm">`+tc.perm+`</code>`) {
			t.Errorf("%s %s: %d, want 403 naming %s\n%.1000s", tc.method, tc.path, rec.Code, tc.perm, rec.Body)
		}
	}
	wantPage(t, "Chinese 403", w.dev.getIn(w.svcPage+"/market", "zh-CN"), http.StatusForbidden, "没有权限", "查看服务")
	wantPage(t, "Chinese 403 of a market permission", w.view.getIn("/p/shop/settings", "zh-CN"), 200)
	// The tabs show only what the user may open.
	body := wantPage(t, "tabs to a developer member", w.admin.send("GET", w.svcPage+"/market", nil, false), 200, `id="tab-market"`, `id="tab-plans"`, `id="tab-subscriptions"`)
	_ = body
	// Everyone has an inbox; a request of another is not theirs.
	wantPage(t, "a user's inbox", w.dev.send("GET", "/approvals", nil, false), 200, `id="approvals-none"`)
	lacks(t, "a user's inbox", w.dev.send("GET", "/approvals", nil, false).Body.String(), `id="box-todo"`)
	wantPage(t, "another's request", w.dev.send("GET", "/approvals/nope", nil, false), http.StatusNotFound)
	wantPage(t, "an unknown decision", w.admin.send("POST", "/approvals/x/bogus", url.Values{}, true), http.StatusNotFound)

	odd := []string{"", " ", "-1", "99999999999999999999", "<script>", "名字", strings.Repeat("a", 3000), "%00"}
	posts := []string{w.svcPage + "/listing", w.svcPage + "/listing/delete", w.svcPage + "/listing/settings", w.svcPage + "/plans",
		w.svcPage + "/plans/nope", w.svcPage + "/plans/nope/delete", "/p/shop/settings/approver", "/p/shop/settings/webhook",
		"/p/shop/settings/webhook/delete", "/groups/default/market", "/groups/nope/market", "/approvals/nope/approve", "/approvals/nope/cancel",
		"/p/nope/services/x/listing"}
	for _, p := range posts {
		if rec := w.admin.send("POST", p, url.Values{"name": {"x"}}, false); rec.Code != http.StatusForbidden {
			t.Errorf("POST %s without CSRF: %d", p, rec.Code)
		}
		for i, v := range odd {
			form := url.Values{"name": {v}, "version": {odd[(i+1)%len(odd)]}, "comment": {v}, "auto_approve": {v}, "quota_count": {v, odd[(i+2)%len(odd)]},
				"quota_period": {v, "day"}, "listing_approver": {v}, "url": {v}, "secret": {v}, "time_zone": {v}, "public_url": {v}}
			if rec := w.admin.send("POST", p, form, true); rec.Code >= 500 {
				t.Errorf("POST %s with %q: %d %.300s", p, v, rec.Code, rec.Body)
			}
		}
	}
	for _, g := range []string{"/approvals?box=zz&page=-1&kind=%00", "/approvals/" + strings.Repeat("x", 300), w.svcPage + "/subscriptions?state=zz",
		w.svcPage + "/subscriptions/%00", "/p/nope/settings", "/p/shop/services/nope/market"} {
		if rec := w.admin.send("GET", g, nil, false); rec.Code >= 500 {
			t.Errorf("GET %s: %d %.300s", g, rec.Code, rec.Body)
		}
	}
}

// TestMarketMessagesOverrideNothing: the market catalogue adds keys only.
func TestMarketMessagesOverrideNothing(t *testing.T) {
	if len(marketOverridden) > 0 {
		t.Errorf("i18n_market.go redefines keys: %v", marketOverridden)
	}
	var keys []string
	for _, st := range spec.ApprovalStates {
		keys = append(keys, "state."+st)
	}
	for _, k := range spec.ApprovalKinds {
		keys = append(keys, "kind."+k)
	}
	for _, a := range []string{"requested", "approved", "rejected", "cancelled"} {
		keys = append(keys, "hist."+a)
	}
	for _, k := range keys {
		if !messages.Has(k) {
			t.Errorf("no message %s", k)
		}
	}
	for _, p := range spec.QuotaPeriods {
		if !messages.Has("period." + p) {
			t.Errorf("no message period.%s", p)
		}
	}
}

// testWriter sends the console's log to the test's.
type testWriter struct{ tb testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
