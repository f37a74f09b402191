package adminapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// MonitoringSource answers the figures of services and routes over an
// hour, a day or 30 days: the control plane's gateway figures (live for
// the last 15 minutes, the store's rollups before). Config.Stats
// implements it when the control plane keeps figures; without it the
// metrics endpoints answer no points.
type MonitoringSource interface {
	// ServiceMetrics is a service's (routeID "") or route's points over
	// window ending at now at the window's resolution
	// (svcstats.Resolution), and the window as one point.
	ServiceMetrics(ctx context.Context, tx store.Tx, group, serviceID, routeID string, window time.Duration, now time.Time) ([]svcstats.Point, svcstats.Point, error)
	// ServiceRoutes lists the ids of a service's routes with figures
	// since `since`.
	ServiceRoutes(ctx context.Context, tx store.Tx, group, serviceID string, since time.Time) ([]string, error)
}

// monitoringEndpoints are the rows of service metrics and the monitoring
// overview. GET …/stats is the metrics endpoint's former name, answered
// the same (its answer only gained fields).
func (s *server) monitoringEndpoints() []endpoint {
	const S = "/projects/{p}/services/{s}"
	summary := "Requests, 5xx errors, latency p50/p95/p99 and upstream latency p50/p95/p99 of the service, or of one route (?route=), in a gateway group (default: production group) over window (default 15m): points every 10 s up to 1h, every minute up to 24h, every hour up to 30 days (720h), the newest one still filling; the window as a total; and each route's requests and errors over the window"
	return []endpoint{
		{method: "GET", path: S + "/metrics", tag: "observability", perm: rbac.ServiceRead, summary: summary, resp: metricsResponse{}, query: []string{"group", "window", "route"}, status: http.StatusOK, handle: (*call).serviceMetrics},
		{method: "GET", path: S + "/stats", tag: "observability", perm: rbac.ServiceRead, summary: "The same as …/metrics (its former name)", resp: metricsResponse{}, query: []string{"group", "window", "route"}, status: http.StatusOK, handle: (*call).serviceMetrics},
		{method: "GET", path: "/monitoring/overview", tag: "observability", perm: rbac.ServiceRead, anyProject: true, summary: "Today in a gateway group (default: default), since midnight in the group's time zone: requests and 5xx errors, the top 10 services by requests and by errors — of the projects where the caller holds service:read (a super_admin: every project) — and the group's gateway instances", resp: monitoringOverview{}, query: []string{"group"}, status: http.StatusOK, handle: (*call).monitoringOverview},
	}
}

// metricsResponse is a service's or route's figures over a window.
type metricsResponse struct {
	Group  string `json:"group"`
	Route  string `json:"route,omitempty"` // the route's id; absent: the whole service
	Window string `json:"window"`
	Step   string `json:"step"` // the points' span: 10s, 1m0s or 1h0m0s
	// Points are oldest first; at is each span's start.
	Points []svcstats.Point `json:"points"`
	// Total is the whole window, percentiles of all its answers.
	Total   svcstats.Point `json:"total"`
	Serving bool           `json:"serving"` // whether any answer was counted in the window
	// Routes are the service's routes with figures in the window (of the
	// service's answer only), by requests, most first.
	Routes []routeFigures `json:"routes"`
}

// routeFigures is one route's share of a window.
type routeFigures struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"` // "" when the route no longer exists
	Requests  uint64  `json:"requests"`
	Errors    uint64  `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	P95Ms     float64 `json:"p95_ms"`
}

// maxMetricsRoutes bounds the routes a metrics answer breaks down.
const maxMetricsRoutes = 50

// serviceMetrics answers GET …/services/{s}/metrics?group=&window=&route=.
func (c *call) serviceMetrics() (any, error) {
	q := c.r.URL.Query()
	win := 15 * time.Minute
	if v := q.Get("window"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fieldError("window", "must be a Go duration (15m, 24h, 720h)")
		}
		if _, err := svcstats.Resolution(d); err != nil {
			return nil, fieldError("window", "must be from 10s to 720h (30 days)")
		}
		win = d
	}
	step, _ := svcstats.Resolution(win)
	out := metricsResponse{Group: q.Get("group"), Window: win.String(), Step: step.String(), Points: []svcstats.Point{}, Routes: []routeFigures{}}
	src, _ := c.s.stats.(MonitoringSource)
	now := c.s.now()
	err := c.view(func(tx store.Tx) error {
		svc, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		if out.Group == "" {
			p, err := c.loadProject(tx, svc.ProjectID)
			if err != nil {
				return err
			}
			out.Group = p.ProductionGroup
		}
		if _, err := tx.GetGroup(c.ctx(), out.Group); errors.Is(err, store.ErrNotFound) {
			return fieldError("group", "gateway group %q does not exist", out.Group)
		} else if err != nil {
			return fmt.Errorf("metrics: group %q: %w", out.Group, err)
		}
		routes, err := tx.ListRoutes(c.ctx(), svc.ID)
		if err != nil {
			return fmt.Errorf("metrics: routes of service %s: %w", svc.ID, err)
		}
		names := make(map[string]string, len(routes))
		for _, r := range routes {
			names[r.ID] = r.Name
		}
		if v := q.Get("route"); v != "" {
			r, err := tx.GetRoute(c.ctx(), svc.ID, v)
			if errors.Is(err, store.ErrNotFound) {
				return fieldError("route", "route %q not found in service %q", v, svc.Name)
			} else if err != nil {
				return fmt.Errorf("metrics: route %q: %w", v, err)
			}
			out.Route = r.ID
		}
		if src == nil {
			return nil
		}
		if out.Points, out.Total, err = src.ServiceMetrics(c.ctx(), tx, out.Group, svc.ID, out.Route, win, now); err != nil {
			return err
		}
		if out.Route == "" {
			out.Routes, err = c.routeBreakdown(tx, src, out.Group, svc.ID, win, now, names)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out.Serving = out.Total.Requests > 0
	return out, nil
}

// routeBreakdown is each route's share of the window, most requests
// first, at most maxMetricsRoutes.
func (c *call) routeBreakdown(tx store.Tx, src MonitoringSource, group, serviceID string, win time.Duration, now time.Time, names map[string]string) ([]routeFigures, error) {
	ids, err := src.ServiceRoutes(c.ctx(), tx, group, serviceID, now.Add(-win))
	if err != nil {
		return nil, err
	}
	out := []routeFigures{}
	for _, id := range ids {
		_, total, err := src.ServiceMetrics(c.ctx(), tx, group, serviceID, id, win, now)
		if err != nil {
			return nil, err
		}
		if total.Requests == 0 {
			continue
		}
		out = append(out, routeFigures{ID: id, Name: names[id], Requests: total.Requests, Errors: total.Errors,
			ErrorRate: total.ErrorRate, P95Ms: total.P95Ms})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Requests > out[j].Requests })
	return out[:min(len(out), maxMetricsRoutes)], nil
}

// monitoringOverview is a group's day so far.
type monitoringOverview struct {
	Group    string    `json:"group"`
	TimeZone string    `json:"time_zone"` // the group's (IANA name; UTC when unset)
	Since    time.Time `json:"since"`     // today's local midnight
	// Requests and Errors count the services of the caller's projects
	// deployed in the group; the rollups they come from are up to a
	// minute behind.
	Requests  uint64  `json:"requests"`
	Errors    uint64  `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	// TopByRequests and TopByErrors are the 10 services with the most
	// requests, and with the most errors (those with errors only).
	TopByRequests []apiFigures `json:"top_by_requests"`
	TopByErrors   []apiFigures `json:"top_by_errors"`
	// Instances are the gateway processes serving the group.
	Instances instancesResult `json:"instances"`
}

// apiFigures is one service's day so far.
type apiFigures struct {
	Project   string  `json:"project"`
	ServiceID string  `json:"service_id"`
	Service   string  `json:"service"` // its name
	Requests  uint64  `json:"requests"`
	Errors    uint64  `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
}

// topAPIs is how many services each top list holds.
const topAPIs = 10

// monitoringOverview answers GET /monitoring/overview?group=.
func (c *call) monitoringOverview() (any, error) {
	name := c.r.URL.Query().Get("group")
	if name == "" {
		name = spec.DefaultGroup
	}
	projects, all := c.who.Projects(rbac.ServiceRead)
	readable := make(map[string]bool, len(projects))
	for _, p := range projects {
		readable[p] = true
	}
	var out monitoringOverview
	err := c.view(func(tx store.Tx) error {
		g, err := tx.GetGroup(c.ctx(), name)
		if errors.Is(err, store.ErrNotFound) {
			return fieldError("group", "gateway group %q does not exist", name)
		} else if err != nil {
			return fmt.Errorf("monitoring overview: group %q: %w", name, err)
		}
		now := c.s.now()
		zone := g.ZoneOf()
		local := now.In(zone)
		midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, zone)
		out = monitoringOverview{Group: g.Name, TimeZone: zone.String(), Since: midnight, TopByRequests: []apiFigures{}, TopByErrors: []apiFigures{}}
		deps, err := tx.ListDeploymentsByGroup(c.ctx(), g.Name)
		if err != nil {
			return fmt.Errorf("monitoring overview: deployments of %q: %w", g.Name, err)
		}
		projectOf := make(map[string]string, len(deps))
		for _, d := range deps {
			if all || readable[d.ProjectID] {
				projectOf[d.ServiceID] = d.ProjectID
			}
		}
		// Minute rollups reach back a day: a day of 25 hours (a clock
		// set back) counts its last 24.
		from := midnight
		if reach := now.Add(-svcstats.Retention(svcstats.MinuteSpan)); from.Before(reach) {
			from = reach
		}
		totals, err := tx.MonitoringTotals(c.ctx(), store.MonitoringQuery{Resolution: svcstats.MinuteSpan, Group: g.Name,
			From: from, To: now.Add(svcstats.MinuteSpan)})
		if err != nil {
			return fmt.Errorf("monitoring overview: %w", err)
		}
		var apis []apiFigures
		for _, t := range totals {
			project, ok := projectOf[t.ServiceID]
			if !ok {
				continue
			}
			out.Requests += t.Requests
			out.Errors += t.Errors
			apis = append(apis, apiFigures{Project: project, ServiceID: t.ServiceID, Requests: t.Requests, Errors: t.Errors, ErrorRate: errorShare(t.Errors, t.Requests)})
		}
		out.ErrorRate = errorShare(out.Errors, out.Requests)
		out.TopByRequests = topServicesBy(apis, func(a apiFigures) uint64 { return a.Requests })
		out.TopByErrors = topServicesBy(apis, func(a apiFigures) uint64 { return a.Errors })
		for _, list := range [][]apiFigures{out.TopByRequests, out.TopByErrors} {
			for i := range list {
				svc, err := tx.GetService(c.ctx(), list[i].Project, list[i].ServiceID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("monitoring overview: service %s: %w", list[i].ServiceID, err)
				}
				list[i].Service = svc.Name
			}
		}
		items, j, err := c.instances(tx, g.Name)
		if err != nil {
			return err
		}
		conv := j.converged(items, g.Revision)
		for i := range items {
			items[i].State = j.state(items[i], g.Revision)
		}
		out.Instances = instancesResult{Items: items, Total: len(items), Revision: g.Revision, Applied: conv.Applied, Live: conv.Live}
		if out.Instances.Items == nil {
			out.Instances.Items = []spec.GatewayInstance{}
		}
		return nil
	})
	return out, err
}

// topServicesBy is the topAPIs entries of apis with the highest by, those at 0
// left out; ties by service id.
func topServicesBy(apis []apiFigures, by func(apiFigures) uint64) []apiFigures {
	out := []apiFigures{}
	for _, a := range apis {
		if by(a) > 0 {
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if by(out[i]) != by(out[j]) {
			return by(out[i]) > by(out[j])
		}
		return out[i].ServiceID < out[j].ServiceID
	})
	return out[:min(len(out), topAPIs)]
}

func errorShare(errs, requests uint64) float64 {
	if requests == 0 {
		return 0
	}
	return float64(errs) / float64(requests)
}
