// Package svcstats keeps per-service and per-route figures over time for
// the console's charts and the monitoring rollups: requests, 5xx errors,
// latencies and upstream latencies in 10-second buckets over the last 15
// minutes (window.Ring), per gateway group, service and route. Its
// histograms are coarser than a canary's (percentiles within 25 %, enough
// for a chart) because every service and route that sees traffic has
// them.
//
// A route's series is a child of its service's: recording an answer in
// it counts it in both, so the gateway makes one call per request and the
// service's series is the sum of its routes' (and of answers no route
// series took: past MaxRouteSeries, or recorded with Record on the
// service's series). Reports carry both, and the control plane keeps
// both, so old gateways, which report services only, still chart.
//
// Memory: a series is one ring with the upstream histogram, about 88 KB
// (window's doc comment); a registry keeps at most MaxRouteSeries route
// series (about 88 MB) besides one per service.
package svcstats

import (
	"sort"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/gateway/window"
)

// The resolution of a series and how far back it reaches.
const (
	BucketSpan = window.BucketSpan
	MaxWindow  = window.MaxWindow
)

// MaxRouteSeries bounds the route series of a registry: past it, a
// route's answers count in its service's series only.
const MaxRouteSeries = 1000

// Series counts one service, or one route of a service, in one gateway
// group.
type Series struct {
	ring *window.Ring
	// parent is the service's series of a route's series (nil for a
	// service's): what the route records, the service counts too.
	parent *Series
}

// NewSeries returns a series without figures.
func NewSeries() *Series { return &Series{ring: window.NewCallRing(HistogramShift)} }

// Record counts one answer (an error when status is 5xx), without an
// upstream latency. It never allocates.
func (s *Series) Record(status int, elapsed time.Duration, now time.Time) {
	s.RecordCall(status, elapsed, 0, now)
}

// RecordCall counts one answer: total is the whole latency, upstream the
// upstream call's (0: no upstream call was made). A route's series counts
// it in its service's series too. It never allocates.
func (s *Series) RecordCall(status int, total, upstream time.Duration, now time.Time) {
	s.ring.RecordCall(status, total, upstream, now)
	if s.parent != nil {
		s.parent.ring.RecordCall(status, total, upstream, now)
	}
}

// Point is one bucket of a series (or several, summed).
type Point struct {
	At            time.Time `json:"at"` // start of the span
	Requests      uint64    `json:"requests"`
	Errors        uint64    `json:"errors"`
	ErrorRate     float64   `json:"error_rate"`
	P50Ms         float64   `json:"p50_ms"`
	P95Ms         float64   `json:"p95_ms"`
	P99Ms         float64   `json:"p99_ms"`
	UpstreamP50Ms float64   `json:"upstream_p50_ms"`
	UpstreamP95Ms float64   `json:"upstream_p95_ms"`
	UpstreamP99Ms float64   `json:"upstream_p99_ms"`
}

// PointOf is the figures of sum as a point starting at at.
func PointOf(at time.Time, sum window.Sum) Point {
	return Point{
		At: at.UTC(), Requests: sum.Requests, Errors: sum.Errors, ErrorRate: sum.ErrorRate(),
		P50Ms: sum.PercentileMs(0.50), P95Ms: sum.PercentileMs(0.95), P99Ms: sum.PercentileMs(0.99),
		UpstreamP50Ms: sum.UpstreamPercentileMs(0.50), UpstreamP95Ms: sum.UpstreamPercentileMs(0.95),
		UpstreamP99Ms: sum.UpstreamPercentileMs(0.99),
	}
}

// Points returns the series over w ending at now, in steps of step
// (rounded to whole buckets), oldest first. Empty spans are zero points.
func (s *Series) Points(w, step time.Duration, now time.Time) []Point {
	return Points([]*Series{s}, w, step, now)
}

// Points returns several series of one service (what the embedded
// gateway counted, what stand-alone gateways reported) added up, as
// Series.Points does for one.
func Points(series []*Series, w, step time.Duration, now time.Time) []Point {
	rings := rings(series)
	w = min(max(w, window.BucketSpan), MaxWindow)
	per := int64(max(step/window.BucketSpan, 1))
	last := window.Epoch(now)
	first := last - int64(w/window.BucketSpan) + 1
	out := make([]Point, 0, (last-first+per)/per)
	for start := first; start <= last; start += per {
		sum := window.SumOf(rings, start, min(start+per-1, last))
		out = append(out, PointOf(time.Unix(0, start*int64(window.BucketSpan)), sum))
	}
	return out
}

// Span sums several series of one service or route over the buckets
// from `from` (inclusive) to `to` (exclusive), both rounded down to
// whole buckets, up to now's (a span still filling counts what it holds
// so far); false when the rings no longer hold all of the span at now
// (it began more than MaxWindow before).
func Span(series []*Series, from, to, now time.Time) (window.Sum, bool) {
	current := window.Epoch(now)
	first, last := window.Epoch(from), min(window.Epoch(to)-1, current)
	if first <= current-int64(MaxWindow/window.BucketSpan) {
		return window.Sum{}, false
	}
	return window.SumOf(rings(series), first, last), true
}

func rings(series []*Series) []*window.Ring {
	out := make([]*window.Ring, len(series))
	for i, s := range series {
		out[i] = s.ring
	}
	return out
}

// Registry holds the series of every (group, service) and (group,
// service, route) that saw traffic.
type Registry struct {
	mu     sync.Mutex
	series map[key]*Series
	routes int // route series held, at most MaxRouteSeries
}

// key names a series; route "" is the service's.
type key struct{ group, service, route string }

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{series: map[key]*Series{}} }

// Get returns the series of service in group, creating it on first use. A
// nil registry answers nil (figures off).
func (r *Registry) Get(group, service string) *Series {
	return r.GetRoute(group, service, "")
}

// GetRoute returns the series of a route of service in group (routeID ""
// : the service's), creating it on first use as a child of the service's
// series; past MaxRouteSeries, the service's series. A nil registry
// answers nil (figures off). The gateway calls it once per route of a
// table, not per request.
func (r *Registry) GetRoute(group, service, routeID string) *Series {
	if r == nil || service == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.getLocked(key{group, service, routeID})
}

// getLocked finds or makes the series of k; the caller holds r.mu.
func (r *Registry) getLocked(k key) *Series {
	if s, ok := r.series[k]; ok {
		return s
	}
	if k.route == "" {
		s := NewSeries()
		r.series[k] = s
		return s
	}
	parent := r.getLocked(key{k.group, k.service, ""})
	if r.routes >= MaxRouteSeries {
		return parent
	}
	s := NewSeries()
	s.parent = parent
	r.series[k] = s
	r.routes++
	return s
}

// Lookup returns the series of service in group if it saw traffic.
func (r *Registry) Lookup(group, service string) (*Series, bool) {
	return r.LookupRoute(group, service, "")
}

// LookupRoute returns the series of a route of service in group (routeID
// "": the service's) if it saw traffic.
func (r *Registry) LookupRoute(group, service, routeID string) (*Series, bool) {
	if r == nil {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.series[key{group, service, routeID}]
	return s, ok
}

// Routes lists the ids of the routes of service in group that have a
// series, sorted.
func (r *Registry) Routes(group, service string) []string {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k := range r.series {
		if k.group == group && k.service == service && k.route != "" {
			out = append(out, k.route)
		}
	}
	sort.Strings(out)
	return out
}
