package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/webpage/webpagetest"
)

// fakeFigures answers two points, the window apart (at most two days),
// for a service and its routes.
type fakeFigures struct{ routes []string }

func (f *fakeFigures) ServicePoints(string, string, time.Duration, time.Duration) ([]svcstats.Point, bool) {
	return nil, false
}

func (f *fakeFigures) ServiceMetrics(_ context.Context, _ store.Tx, _, _, _ string, win time.Duration, _ time.Time) ([]svcstats.Point, svcstats.Point, error) {
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.Local)
	apart := min(win, 48*time.Hour)
	pts := []svcstats.Point{
		{At: at, Requests: 40, Errors: 2, ErrorRate: 0.05, P50Ms: 3, P95Ms: 9, P99Ms: 20, UpstreamP50Ms: 2, UpstreamP95Ms: 7, UpstreamP99Ms: 15},
		{At: at.Add(apart), Requests: 2, P50Ms: 4, P95Ms: 5, P99Ms: 6},
	}
	return pts, svcstats.Point{At: at, Requests: 42, Errors: 2, ErrorRate: 2.0 / 42, P95Ms: 9, UpstreamP95Ms: 7}, nil
}

func (f *fakeFigures) ServiceRoutes(context.Context, store.Tx, string, string, time.Time) ([]string, error) {
	return f.routes, nil
}

// monitoringFixture is a console over an admin API whose figures are
// fake, with the admin logged in, and its store.
func monitoringFixture(t *testing.T, figs *fakeFigures) (*fixture, store.Store) {
	t.Helper()
	st := webpagetest.NewStore(t, firstStart)
	api := adminapi.New(adminapi.Config{Store: st, Version: "test", Stats: figs})
	f := &fixture{api: api, h: New(Config{API: api})}
	rec := f.login(t, url.Values{"username": {"admin"}, "password": {"pw"}})
	for _, c := range rec.Result().Cookies() {
		if c.Name == adminapi.SessionCookie {
			f.cookie = c
		}
	}
	if f.cookie == nil {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	f.csrf = adminapi.CSRFToken(f.cookie.Value)
	return f, st
}

// TestMonitoringDashboard: the dashboard shows the group's requests and
// errors today, the top APIs linking to their metrics, and the
// instances; in Chinese too; the navigation leads there.
func TestMonitoringDashboard(t *testing.T) {
	f, st := monitoringFixture(t, &fakeFigures{})
	var svc spec.Service
	f.apiCall(t, "POST", "/projects/default/services", map[string]any{"name": "orders", "protocols": []string{"http"},
		"upstream": map[string]any{"scheme": "http", "nodes": []map[string]any{{"host": "127.0.0.1", "port": 8080, "weight": 1}}},
		"routes":   []map[string]any{{"name": "list", "paths": []string{"/orders"}}}}, http.StatusCreated, &svc)
	f.apiCall(t, "POST", "/projects/default/services/orders/actions/submit", nil, http.StatusOK, nil)
	ctx := context.Background()
	if err := st.Tx(ctx, func(tx store.Tx) error {
		return tx.AddMonitoringRows(ctx, []store.MonitoringRow{{Resolution: time.Minute, Group: spec.DefaultGroup, ServiceID: svc.ID,
			Start: time.Now().Truncate(time.Minute), Requests: 1234, Errors: 56}})
	}); err != nil {
		t.Fatal(err)
	}
	rec := f.send("GET", "/monitoring", nil, false)
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("dashboard: %d %s", rec.Code, body)
	}
	for _, want := range []string{`id="mon-requests">1234<`, `id="mon-errors">56<`, `href="/p/default/services/` + svc.ID + `/metrics?group=default">orders</a>`,
		`id="mon-top-errors"`, "Gateway instances"} {
		if !strings.Contains(body, want) {
			t.Errorf("the dashboard lacks %s", want)
		}
	}
	if nav := navOf(body); nav["monitoring"] != "/monitoring" {
		t.Errorf("navigation: %v", nav)
	}
	r := httptest.NewRequest("GET", "/monitoring", nil)
	r.AddCookie(f.cookie)
	r.Header.Set("Accept-Language", "zh-CN")
	zh := httptest.NewRecorder()
	f.h.ServeHTTP(zh, r)
	if !strings.Contains(zh.Body.String(), "调用量 Top API") || !strings.Contains(zh.Body.String(), "今日请求数") {
		t.Error("the Chinese dashboard lacks its headings")
	}
	if rec := f.send("GET", "/monitoring?group=nope", nil, false); rec.Code != http.StatusBadRequest {
		t.Errorf("a missing group: %d, want 400", rec.Code)
	}
}

// TestServiceMetricsPage: a service's metrics page draws its charts with
// a time axis (in days before the newest point over 30 days), offers the windows and routes, and
// breaks the window down by route, naming deleted ones; a bad window is
// a 400 page, not a 5xx.
func TestServiceMetricsPage(t *testing.T) {
	figs := &fakeFigures{}
	f, _ := monitoringFixture(t, figs)
	var svc spec.Service
	f.apiCall(t, "POST", "/projects/default/services", map[string]any{"name": "orders", "protocols": []string{"http"},
		"routes": []map[string]any{{"name": "list-orders", "paths": []string{"/orders"}}}}, http.StatusCreated, &svc)
	var rl struct{ Items []spec.Route }
	f.apiCall(t, "GET", "/projects/default/services/orders/routes", nil, http.StatusOK, &rl)
	figs.routes = []string{rl.Items[0].ID, "deleted-route-id"}
	rec := f.send("GET", "/p/default/services/"+svc.ID+"/metrics?window=720h", nil, false)
	body := rec.Body.String()
	if rec.Code != 200 {
		t.Fatalf("metrics page: %d %s", rec.Code, body)
	}
	// The axis: the newest point in UTC, the others how long before it.
	newest := time.Date(2026, 11, 22, 9, 0, 0, 0, time.Local).UTC().Format("01-02 15:04 UTC")
	for _, want := range []string{"<svg", `text-anchor="start">-2 d</text>`, `text-anchor="end">` + newest + `</text>`,
		`stroke-dasharray`, `>p95</text>`, `id="metrics-requests">42<`, `value="720h" selected`, `>list-orders</option>`,
		`id="metrics-routes"`, "(deleted route)", "route=" + rl.Items[0].ID, "Upstream latency", `id="tab-metrics" href="/p/default/services/` + svc.ID + `/metrics" aria-current="page"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the metrics page lacks %s; its ticks: %q", want, regexp.MustCompile(`anchor="[a-z]+">[^<]*`).FindAllString(body, -1))
		}
	}
	rec = f.send("GET", "/p/default/services/"+svc.ID+"/metrics?window=1h", nil, false)
	if !strings.Contains(rec.Body.String(), `text-anchor="start">-60 min</text>`) {
		t.Error("a chart of an hour does not label its ticks in minutes before the newest")
	}
	if rec := f.send("GET", "/p/default/services/"+svc.ID+"/metrics?window=zz", nil, false); rec.Code != http.StatusBadRequest {
		t.Errorf("a bad window: %d, want 400", rec.Code)
	}
}

func TestMonitoringMessagesOverrideNothing(t *testing.T) {
	if len(monitoringOverridden) > 0 {
		t.Errorf("i18n_monitoring.go redefines keys: %v", monitoringOverridden)
	}
}
