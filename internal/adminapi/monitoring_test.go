package adminapi

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// fakeMonitoring answers canned figures and records what it was asked.
type fakeMonitoring struct {
	routes []string
	asked  []string // route ids asked for, "" the service
	win    time.Duration
}

func (f *fakeMonitoring) ServicePoints(string, string, time.Duration, time.Duration) ([]svcstats.Point, bool) {
	return nil, false
}

func (f *fakeMonitoring) ServiceMetrics(_ context.Context, _ store.Tx, _, _, routeID string, win time.Duration, now time.Time) ([]svcstats.Point, svcstats.Point, error) {
	f.asked = append(f.asked, routeID)
	f.win = win
	n := uint64(10)
	if routeID != "" {
		n = uint64(len(routeID)) // routes of longer ids have more requests
	}
	p := svcstats.Point{At: now, Requests: n, Errors: 1, ErrorRate: 1 / float64(n), P95Ms: 12}
	return []svcstats.Point{p}, p, nil
}

func (f *fakeMonitoring) ServiceRoutes(context.Context, store.Tx, string, string, time.Time) ([]string, error) {
	return f.routes, nil
}

// TestServiceMetrics: the window picks the points' span and is refused
// outside 10s–720h, naming the field; a route is picked by name or id
// (an unknown one refused, naming route); the service's answer breaks
// its window down by route, most requests first, with the routes' names;
// …/stats answers the same.
func TestServiceMetrics(t *testing.T) {
	fake := &fakeMonitoring{}
	a := newTestAPI(t, func(c *Config) { c.Stats = fake })
	var svc spec.Service
	a.mustJSON("POST", "/projects/default/services", map[string]any{"name": "orders", "protocols": []string{"http"},
		"routes": []map[string]any{{"name": "list", "paths": []string{"/orders"}}, {"name": "create", "paths": []string{"/orders/new"}}}},
		http.StatusCreated, &svc)
	var list struct{ Items []spec.Route }
	a.mustJSON("GET", "/projects/default/services/orders/routes", nil, http.StatusOK, &list)
	routes := list.Items
	if len(routes) != 2 {
		t.Fatalf("routes: %+v", routes)
	}
	fake.routes = []string{routes[0].ID, routes[1].ID + "-longer", "gone"}
	base := "/projects/default/services/orders"
	for _, tt := range []struct{ query, field string }{
		{"window=zz", "window"}, {"window=5s", "window"}, {"window=721h", "window"},
		{"route=nope", "route"}, {"group=nope", "group"},
	} {
		r := a.do("GET", base+"/metrics?"+tt.query, nil)
		wantCode(t, tt.query, r, http.StatusBadRequest)
		if f := r.fields(t); len(f) != 1 || f[0] != tt.field {
			t.Errorf("%s: fields %v, want [%s]", tt.query, f, tt.field)
		}
	}
	for _, tt := range []struct{ window, step string }{{"", "10s"}, {"1h", "10s"}, {"24h", "1m0s"}, {"720h", "1h0m0s"}} {
		var m metricsResponse
		a.mustJSON("GET", base+"/metrics?window="+tt.window, nil, http.StatusOK, &m)
		if m.Step != tt.step || m.Group != spec.DefaultGroup || !m.Serving || len(m.Points) != 1 || m.Total.Requests != 10 {
			t.Errorf("window %q: %+v, want step %s", tt.window, m, tt.step)
		}
	}
	var m metricsResponse
	a.mustJSON("GET", base+"/stats?window=24h", nil, http.StatusOK, &m)
	if len(m.Routes) != 3 || m.Routes[0].ID != routes[1].ID+"-longer" || m.Routes[0].Requests != uint64(len(routes[1].ID)+7) ||
		m.Routes[1].Name != routes[0].Name || m.Routes[2].Name != "" {
		t.Errorf("routes of the window: %+v", m.Routes)
	}
	if fake.win != 24*time.Hour {
		t.Errorf("the source was asked for %v", fake.win)
	}
	fake.asked = nil
	a.mustJSON("GET", base+"/metrics?route=create&window=1h", nil, http.StatusOK, &m)
	if m.Route != routes[1].ID || len(fake.asked) != 1 || fake.asked[0] != routes[1].ID || len(m.Routes) != 0 {
		t.Errorf("a route's metrics: %+v, source asked for %v", m, fake.asked)
	}
}

// TestMonitoringOverview: today's requests and errors of a group count
// the rollups since local midnight in the group's time zone, of the
// services deployed there; the top lists rank them; a user sees only
// the projects where they may read services; a missing group is refused
// naming group.
func TestMonitoringOverview(t *testing.T) {
	a := newTestAPI(t)
	now := time.Now()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	local := now.In(tokyo)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, tokyo)
	a.newProject(t, "other")
	ctx := context.Background()
	deploy := func(project, name string) spec.Service {
		t.Helper()
		var s spec.Service
		a.mustJSON("POST", "/projects/"+project+"/services", map[string]any{"name": name, "protocols": []string{"http"}, "upstream": testUpstream,
			"routes": []map[string]any{{"name": "r", "paths": []string{"/" + project + "/" + name}}}}, http.StatusCreated, &s)
		if project == "other" {
			a.mustJSON("PATCH", "/projects/other", map[string]any{"test_group": spec.DefaultGroup, "production_group": spec.DefaultGroup}, http.StatusOK, nil)
		}
		a.mustJSON("POST", "/projects/"+project+"/services/"+name+"/actions/submit", nil, http.StatusOK, nil)
		return s
	}
	s1, s2, s3 := deploy("default", "a"), deploy("default", "b"), deploy("other", "c")
	if err := a.store.Tx(ctx, func(tx store.Tx) error {
		return tx.AddMonitoringRows(ctx, []store.MonitoringRow{
			{Resolution: time.Minute, Group: spec.DefaultGroup, ServiceID: s1.ID, Start: midnight, Requests: 100, Errors: 1},
			{Resolution: time.Minute, Group: spec.DefaultGroup, ServiceID: s2.ID, Start: now.Truncate(time.Minute), Requests: 50, Errors: 20},
			{Resolution: time.Minute, Group: spec.DefaultGroup, ServiceID: s3.ID, Start: now.Truncate(time.Minute), Requests: 7},
			// Yesterday in Tokyo, and in UTC the same day for some hours.
			{Resolution: time.Minute, Group: spec.DefaultGroup, ServiceID: s1.ID, Start: midnight.Add(-time.Minute), Requests: 1000, Errors: 1000},
			// Another resolution.
			{Resolution: time.Hour, Group: spec.DefaultGroup, ServiceID: s1.ID, Start: now.Truncate(time.Hour), Requests: 3},
			// A route's row is not the service's again.
			{Resolution: time.Minute, Group: spec.DefaultGroup, ServiceID: s1.ID, RouteID: "r", Start: now.Truncate(time.Minute), Requests: 100},
		})
	}); err != nil {
		t.Fatal(err)
	}
	a.mustJSON("PATCH", "/gateway-groups/"+spec.DefaultGroup, map[string]any{"time_zone": "Asia/Tokyo"}, http.StatusOK, nil)

	var o monitoringOverview
	a.mustJSON("GET", "/monitoring/overview", nil, http.StatusOK, &o)
	if o.Group != spec.DefaultGroup || o.TimeZone != "Asia/Tokyo" || !o.Since.Equal(midnight) {
		t.Errorf("overview of %s in %s since %v", o.Group, o.TimeZone, o.Since)
	}
	if o.Requests != 157 || o.Errors != 21 {
		t.Errorf("today: %d requests, %d errors; want 157, 21", o.Requests, o.Errors)
	}
	names := func(list []apiFigures) (out []string) {
		for _, x := range list {
			out = append(out, x.Project+"/"+x.Service)
		}
		return out
	}
	if got := names(o.TopByRequests); len(got) != 3 || got[0] != "default/a" || got[1] != "default/b" || got[2] != "other/c" {
		t.Errorf("top by requests: %v", got)
	}
	if got := names(o.TopByErrors); len(got) != 2 || got[0] != "default/b" || got[1] != "default/a" {
		t.Errorf("top by errors: %v", got)
	}
	if o.Instances.Items == nil {
		t.Error("instances are null")
	}

	dev := a.personIn(t, "devon", "other", rbac.Developer)
	a.decode(a.doToken(dev, "GET", "/monitoring/overview?group="+url.QueryEscape(spec.DefaultGroup), nil), &o)
	if got := names(o.TopByRequests); o.Requests != 7 || len(got) != 1 || got[0] != "other/c" {
		t.Errorf("a member of other sees %d requests, top %v; want 7 of other/c", o.Requests, got)
	}
	r := a.do("GET", "/monitoring/overview?group=nope", nil)
	wantCode(t, "a missing group", r, http.StatusBadRequest)
	if f := r.fields(t); len(f) != 1 || f[0] != "group" {
		t.Errorf("fields %v, want [group]", f)
	}
}
