package console

import (
	"fmt"
	"net/url"
	"time"

	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
)

// monitoringRoutes are the monitoring dashboard (a gateway group's day:
// requests and errors, the top APIs, the instances) and a service's
// metrics over an hour, a day or 30 days, drawn by the server like every
// chart of the console.
func monitoringRoutes() []pageRoute {
	return []pageRoute{
		// The admin API narrows the overview to the projects where the
		// user may read services.
		{pattern: "GET /monitoring", perm: rbac.ServiceRead, scope: scopeAny, handle: func(q *req) error { return monitoringView(q, q.page(q.t("nav.monitoring"), "monitoring"), 200) }},
		{pattern: "GET /p/{p}/services/{s}/metrics", perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error { return metricsView(q, q.page("", "services"), 200) }},
	}
}

// overviewData is GET /monitoring/overview's answer as the page reads it.
type overviewData struct {
	Group         string    `json:"group"`
	TimeZone      string    `json:"time_zone"`
	Since         time.Time `json:"since"`
	Requests      uint64    `json:"requests"`
	Errors        uint64    `json:"errors"`
	ErrorRate     float64   `json:"error_rate"`
	TopByRequests []topAPI  `json:"top_by_requests"`
	TopByErrors   []topAPI  `json:"top_by_errors"`
	Instances     struct {
		Items    []spec.GatewayInstance `json:"items"`
		Revision int64                  `json:"revision"`
		Applied  int                    `json:"applied"`
		Live     int                    `json:"live"`
	} `json:"instances"`
	// Filled by the page.
	Groups  []groupRow `json:"-"`
	Today   string     `json:"-"`
	Applied string     `json:"-"`
}

type topAPI struct {
	Project   string  `json:"project"`
	ServiceID string  `json:"service_id"`
	Service   string  `json:"service"`
	Requests  uint64  `json:"requests"`
	Errors    uint64  `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
}

func monitoringView(q *req, p *page, status int) error {
	groups, err := q.groups(false)
	if err != nil {
		return err
	}
	v := url.Values{}
	if g := q.r.URL.Query().Get("group"); g != "" {
		v.Set("group", g)
	}
	var d overviewData
	if err := q.call("GET", "/monitoring/overview?"+v.Encode(), nil, &d); err != nil {
		return err
	}
	d.Groups = groups
	d.Today = fmt.Sprintf(q.t("mon.today"), d.Since.In(zoneNamed(d.TimeZone)).Format("2006-01-02 15:04"), d.TimeZone)
	d.Applied = fmt.Sprintf(q.t("mon.applied"), d.Instances.Applied, d.Instances.Live, d.Instances.Revision)
	p.Data = &d
	q.render(status, "monitoring", p)
	return nil
}

// zoneNamed is the time zone of an IANA name, UTC when unknown here.
func zoneNamed(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// metricsWindows are the windows the metrics page offers: value, label.
var metricsWindows = [][2]string{{"1h", "mon.window_1h"}, {"24h", "mon.window_24h"}, {"720h", "mon.window_30d"}}

// metricsData is a service's metrics page.
type metricsData struct {
	Group, Window, Route, Step string
	Windows                    [][2]string
	Total                      svcstats.Point
	Serving                    bool
	Charts                     []chart
	Routes                     []routeShare
	AllRoutes                  []spec.Route // the service's routes, for the picker
}

type routeShare struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Requests  uint64  `json:"requests"`
	Errors    uint64  `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	P95Ms     float64 `json:"p95_ms"`
}

func metricsView(q *req, p *page, status int) error {
	d, err := q.loadService(p, "metrics")
	if err != nil {
		return err
	}
	in := q.r.URL.Query()
	v := url.Values{"window": {"1h"}}
	for _, k := range []string{"group", "window", "route"} {
		if x := in.Get(k); x != "" {
			v.Set(k, x)
		}
	}
	var out struct {
		Group   string           `json:"group"`
		Route   string           `json:"route"`
		Window  string           `json:"window"`
		Step    string           `json:"step"`
		Points  []svcstats.Point `json:"points"`
		Total   svcstats.Point   `json:"total"`
		Serving bool             `json:"serving"`
		Routes  []routeShare     `json:"routes"`
	}
	if err := q.call("GET", q.svcPath()+"/metrics?"+v.Encode(), nil, &out); err != nil {
		return err
	}
	var routes []spec.Route
	var rl struct{ Items []spec.Route }
	if err := q.call("GET", q.svcPath()+"/routes", nil, &rl); err != nil {
		return err
	}
	routes = rl.Items
	for i := range out.Routes {
		if out.Routes[i].Name == "" {
			out.Routes[i].Name = q.t("mon.deleted_route")
		}
	}
	d.Extra = metricsData{Group: out.Group, Window: v.Get("window"), Route: out.Route, Step: fmt.Sprintf(q.t("mon.step"), out.Step),
		Windows: metricsWindows, Total: out.Total, Serving: out.Serving, Charts: metricsCharts(q, out.Points), Routes: out.Routes, AllRoutes: routes}
	p.Data = d
	q.render(status, "metrics", p)
	return nil
}

// metricsCharts are a window's charts: requests, error rate, latency and
// upstream latency (p50, p95, p99 each) under a time axis.
func metricsCharts(q *req, pts []svcstats.Point) []chart {
	at := make([]time.Time, len(pts))
	for i, p := range pts {
		at[i] = p.At
	}
	get := func(f func(svcstats.Point) float64) []float64 {
		out := make([]float64, len(pts))
		for i, p := range pts {
			out[i] = f(p)
		}
		return out
	}
	percentiles := func(p50, p95, p99 func(svcstats.Point) float64) []chartLine {
		return []chartLine{{Name: "p50", Vals: get(p50)}, {Name: "p95", Vals: get(p95)}, {Name: "p99", Vals: get(p99)}}
	}
	return []chart{
		{q.t("stats.requests"), timeSVG(q.lang, q.t("stats.requests"), "", at, []chartLine{{Vals: get(func(p svcstats.Point) float64 { return float64(p.Requests) })}})},
		{q.t("stats.error_rate"), timeSVG(q.lang, q.t("stats.error_rate"), "%", at, []chartLine{{Vals: get(func(p svcstats.Point) float64 { return p.ErrorRate * 100 })}})},
		{q.t("mon.latency"), timeSVG(q.lang, q.t("mon.latency"), "ms", at, percentiles(
			func(p svcstats.Point) float64 { return p.P50Ms }, func(p svcstats.Point) float64 { return p.P95Ms },
			func(p svcstats.Point) float64 { return p.P99Ms }))},
		{q.t("mon.upstream_latency"), timeSVG(q.lang, q.t("mon.upstream_latency"), "ms", at, percentiles(
			func(p svcstats.Point) float64 { return p.UpstreamP50Ms }, func(p svcstats.Point) float64 { return p.UpstreamP95Ms },
			func(p svcstats.Point) float64 { return p.UpstreamP99Ms }))},
	}
}
