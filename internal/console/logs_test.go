package console

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/webpage/webpagetest"
)

// TestLogsPages: the Logs page lists a project's recent calls, finds one
// by request id whatever its age, refuses a bad filter beside its field,
// and links to the call's page, which shows every field (upstream, error,
// canary side, trace id, bodies), in English and Chinese; a call of
// another project is not found there, and a developer (no log:read)
// sees no Logs entry and is refused the page.
func TestLogsPages(t *testing.T) {
	st := webpagetest.NewStore(t, firstStart)
	api := adminapi.New(adminapi.Config{Store: st, Version: "test"})
	admin := (&fixture{api: api, h: New(Config{API: api})}).loginAs(t, "admin", "pw")
	admin.mkProject(t, "shop")
	admin.mkUser(t, "dev", "user")
	admin.member(t, "default", "dev", "developer")

	now := time.Now().UTC()
	recs := []spec.CallRecord{
		{Time: now.Add(-time.Minute), RequestID: "req-recent", Group: "default", Project: "default", Service: "orders", ServiceID: "svc-1",
			Route: "list", Consumer: "app-1", Method: "GET", Path: "/orders", Status: 200, LatencyMs: 4.5},
		{Time: now.Add(-3 * time.Hour), RequestID: "req-old-failure", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", Group: "default",
			Project: "default", Service: "orders", ServiceID: "svc-1", Route: "create", Method: "POST", Path: "/orders", Query: "token=***",
			Status: 502, Upstream: "10.0.0.7:8080", UpstreamStatus: 0, Error: "upstream_unavailable", ErrorDetail: "connect",
			Side: spec.SideCanary, RequestBody: `{"item":"book"}`, ResponseBody: `{"error":"bad gateway"}`, LatencyMs: 31, Instance: "gw-a"},
		{Time: now.Add(-2 * time.Minute), RequestID: "req-shop", Group: "default", Project: "shop", Service: "cart", Method: "GET", Path: "/cart", Status: 200},
	}
	ctx := context.Background()
	if err := st.Tx(ctx, func(tx store.Tx) error { return tx.InsertCallRecords(ctx, recs) }); err != nil {
		t.Fatal(err)
	}

	// The last hour by default: the recent call, not the old one nor
	// shop's.
	body := wantPage(t, "search", admin.send("GET", "/p/default/logs", nil, false), http.StatusOK,
		`id="nav-logs"`, `id="log-filters"`, "req-recent", `<option value="1h" selected>`)
	lacks(t, "search", body, "req-old-failure", "req-shop")

	// By request id, three hours back, with the link to the call.
	body = wantPage(t, "by request id", admin.send("GET", "/p/default/logs?request_id=req-old-failure&range=15m", nil, false), http.StatusOK,
		"req-old-failure", fmt.Sprintf(`href="/p/default/logs/%d"`, recs[1].ID), `data-status="502"`, `value="req-old-failure"`)
	lacks(t, "by request id", body, "req-recent")
	wantPage(t, "24h, 5xx", admin.send("GET", "/p/default/logs?range=24h&status=5xx", nil, false), http.StatusOK, "req-old-failure")
	wantPage(t, "a bad status", admin.send("GET", "/p/default/logs?status=7xx", nil, false), http.StatusBadRequest,
		`value="7xx"`, `class="ferr"`)
	body = wantPage(t, "custom range", admin.send("GET", "/p/default/logs?range=custom&since="+url.QueryEscape(now.Add(-4*time.Hour).Local().Format("2006-01-02T15:04"))+
		"&until="+url.QueryEscape(now.Add(-2*time.Hour).Local().Format("2006-01-02T15:04")), nil, false), http.StatusOK, "req-old-failure")
	lacks(t, "custom range", body, "req-recent")

	// One call, every field.
	callPath := fmt.Sprintf("/p/default/logs/%d", recs[1].ID)
	wantPage(t, "a call", admin.send("GET", callPath, nil, false), http.StatusOK,
		`id="call-request-id">req-old-failure<`, "10.0.0.7:8080", "no answer", "upstream_unavailable", `id="call-error-detail"><code>connect</code>`,
		`id="call-side">canary<`, "4bf92f3577b34da6a3ce929d0e0e4736", "token=***", "gw-a",
		`id="call-request-body">{&#34;item&#34;:&#34;book&#34;}`, `id="call-response-body">`)
	zh := zhGet(t, admin, callPath)
	for _, want := range []string{"上游节点", "无响应", "灰度", "请求体"} {
		if !strings.Contains(zh, want) {
			t.Errorf("the call's page in Chinese lacks %q", want)
		}
	}
	if zh := zhGet(t, admin, "/p/default/logs"); !strings.Contains(zh, "调用日志") || !strings.Contains(zh, "最近 1 小时") {
		t.Error("the Logs page in Chinese lacks its title or its ranges")
	}

	// Shop's call is not default's.
	wantPage(t, "shop's call under default", admin.send("GET", fmt.Sprintf("/p/default/logs/%d", recs[2].ID), nil, false), http.StatusNotFound)

	dev := admin.as(t, "dev")
	body = wantPage(t, "developer's services", dev.send("GET", "/p/default/services", nil, false), http.StatusOK)
	lacks(t, "developer's navigation", body, `id="nav-logs"`)
	wantPage(t, "developer's logs", dev.send("GET", "/p/default/logs", nil, false), http.StatusForbidden, "log:read")
}

// zhGet answers a page as the fixture's user with a Chinese browser.
func zhGet(t *testing.T, f *fixture, path string) string {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	r.AddCookie(f.cookie)
	r.Header.Set("Accept-Language", "zh-CN,zh;q=0.9")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s in Chinese: %d", path, rec.Code)
	}
	return rec.Body.String()
}

// TestLogMessagesOverrideNothing: i18n_logs.go adds keys only.
func TestLogMessagesOverrideNothing(t *testing.T) {
	if len(logsOverridden) > 0 {
		t.Errorf("i18n_logs.go redefines keys: %v", logsOverridden)
	}
}
