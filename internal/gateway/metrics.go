package gateway

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/portico-gw/portico/internal/gateway/plugin/limitcount"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/spec"
)

// metrics are the gateway's Prometheus series, in a registry of its own so
// several gateways in one process (tests) do not collide.
type metrics struct {
	registry       *prometheus.Registry
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	upstreamErrors *prometheus.CounterVec
	revision       prometheus.Gauge
	groupRevision  *prometheus.GaugeVec // by group: the revision each group is served at
	lastApplied    prometheus.Gauge
	certExpiry     *prometheus.GaugeVec // by group and certificate name
	applyErrors    prometheus.Counter
	routes         prometheus.Gauge
	rateFallback   *prometheus.CounterVec
	quotaRejected  *prometheus.CounterVec   // by group and service
	cache          atomic.Pointer[sync.Map] // *routing.Route → *routeSeries
	unmatched      *routeSeries
	served         servedSeries       // which series each service made, to delete them with it
	services       *svcstats.Registry // per-service series over time; nil: none
	streams        *streamMetrics     // of the stream listeners (stream.go)
}

// statusLabels avoids formatting a status code per request.
var statusLabels = func() [600]string {
	var s [600]string
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_http_requests_total",
			Help: "Requests answered by the gateway, by group, service, route and status.",
		}, []string{"group", "service", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portico_http_request_duration_seconds",
			Help:    "Time from request to the end of the answer, upstream included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"group", "service", "route"}),
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_upstream_errors_total",
			Help: "Failed upstream calls by kind: connect, tls, timeout, broken, no_node, client_closed.",
		}, []string{"group", "service", "route", "kind"}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portico_config_revision",
			Help: "Config revision the gateway serves.",
		}),
		groupRevision: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portico_group_config_revision",
			Help: "Config revision the gateway serves each of its gateway groups at: compare with the group's revision in the control plane.",
		}, []string{"group"}),
		lastApplied: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portico_config_last_applied_timestamp_seconds",
			Help: "When the gateway last swapped in a new config revision (Unix time).",
		}),
		applyErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portico_config_apply_errors_total",
			Help: "Snapshots the gateway refused to apply (it kept the previous one).",
		}),
		routes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portico_routes",
			Help: "Route paths in the routing table.",
		}),
		certExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portico_certificate_expiry_timestamp_seconds",
			Help: "When each certificate the TLS listener serves expires (Unix time): alert on it minus time() before clients do.",
		}, []string{"group", "certificate"}),
		rateFallback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_ratelimit_redis_fallback_total",
			Help: "Requests of limit-count policy redis, or of a plan with quotas, counted locally: Redis unreachable or not configured (--redis).",
		}, []string{"reason"}),
		quotaRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_quota_rejections_total",
			Help: "Requests refused with 429 quota_exceeded: a quota of the plan of the application's subscription was used up.",
		}, []string{"group", "service"}),
	}
	m.streams = newStreamMetrics()
	m.registry.MustRegister(m.requests, m.latency, m.upstreamErrors, m.revision, m.groupRevision, m.lastApplied, m.applyErrors, m.routes,
		m.rateFallback, m.quotaRejected, m.certExpiry,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(m.streams.collectors()...)
	m.served.init()
	m.forget()
	m.unmatched = m.newSeries(nil)
	return m
}

// routeSeries caches the series of one (group, service, route), so a
// request costs no label hashing and no allocation. Status and error kind
// counters are short copy-on-write lists: a route sees few of each. It is
// shared by every compiled route of those labels (a route recompiled by a
// later revision keeps counting in it), and remembers every label set it
// made, so deleting it deletes exactly those.
type routeSeries struct {
	m                     *metrics
	group, service, route string
	latency               prometheus.Observer
	svc                   *svcstats.Series // nil when unmatched or figures are off
	mu                    sync.Mutex
	codes                 counterList[int]    // by status
	kinds                 counterList[string] // upstream errors by kind
	// owners are the ids of the services whose routes count here
	// (servedSeries); under servedSeries.mu.
	owners map[string]struct{}
}

// counterList is a copy-on-write list of counters by key; reads take no
// lock, additions take the series' lock.
type counterList[K comparable] struct {
	p atomic.Pointer[[]keyedCounter[K]]
}

type keyedCounter[K comparable] struct {
	key   K
	label string
	c     prometheus.Counter
}

func (l *counterList[K]) find(k K) prometheus.Counter {
	if p := l.p.Load(); p != nil {
		for i := range *p {
			if (*p)[i].key == k {
				return (*p)[i].c
			}
		}
	}
	return nil
}

// add appends the counter of k, made by vec with labels; under the
// series' lock.
func (l *counterList[K]) add(k K, label string, vec *prometheus.CounterVec, labels ...string) prometheus.Counter {
	if c := l.find(k); c != nil {
		return c
	}
	var list []keyedCounter[K]
	if p := l.p.Load(); p != nil {
		list = slices.Clone(*p)
	}
	c := vec.WithLabelValues(append(labels, label)...)
	list = append(list, keyedCounter[K]{k, label, c})
	l.p.Store(&list)
	return c
}

func (l *counterList[K]) labels() []string {
	p := l.p.Load()
	if p == nil {
		return nil
	}
	out := make([]string, len(*p))
	for i := range *p {
		out[i] = (*p)[i].label
	}
	return out
}

func (m *metrics) newSeries(rt *routing.Route) *routeSeries {
	if rt == nil {
		return &routeSeries{m: m, latency: m.latency.WithLabelValues("", "", "")}
	}
	g, s, r := rt.Info.Group, rt.Info.ServiceName, rt.Info.RouteName
	return &routeSeries{m: m, group: g, service: s, route: r, latency: m.latency.WithLabelValues(g, s, r),
		svc: m.services.GetRoute(g, rt.Info.ServiceID, rt.Info.RouteID)}
}

// series returns the series of rt. The cache holds the routes of the
// current table only: forget drops it when a new table is swapped in, and
// a route of the new table finds its labels' series in servedSeries.
func (m *metrics) series(rt *routing.Route) *routeSeries {
	if rt == nil {
		return m.unmatched
	}
	cache := m.cache.Load()
	if v, ok := cache.Load(rt); ok {
		return v.(*routeSeries)
	}
	v, _ := cache.LoadOrStore(rt, m.served.of(m, rt))
	return v.(*routeSeries)
}

func (m *metrics) forget() { m.cache.Store(new(sync.Map)) }

func (rs *routeSeries) counter(code int) prometheus.Counter {
	if c := rs.codes.find(code); c != nil {
		return c
	}
	label := "other"
	if code >= 0 && code < len(statusLabels) {
		label = statusLabels[code]
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.codes.add(code, label, rs.m.requests, rs.group, rs.service, rs.route)
}

func (rs *routeSeries) upstreamError(kind string) prometheus.Counter {
	if c := rs.kinds.find(kind); c != nil {
		return c
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.kinds.add(kind, kind, rs.m.upstreamErrors, rs.group, rs.service, rs.route)
}

// delete takes the series' label sets out of the registry; a request
// still holding rs counts in series nobody scrapes.
func (rs *routeSeries) delete() {
	m := rs.m
	m.latency.DeleteLabelValues(rs.group, rs.service, rs.route)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, status := range rs.codes.labels() {
		m.requests.DeleteLabelValues(rs.group, rs.service, rs.route, status)
	}
	for _, kind := range rs.kinds.labels() {
		m.upstreamErrors.DeleteLabelValues(rs.group, rs.service, rs.route, kind)
	}
}

// totals sums the requests series: every answer since start, and those
// with a 5xx status. It walks the registry, so it is for a heartbeat every
// few seconds, not for a request.
func (m *metrics) totals() (requests, errors uint64) {
	families, _ := m.registry.Gather() // on an error, what was gathered is still counted
	for _, f := range families {
		if f.GetName() != "portico_http_requests_total" {
			continue
		}
		for _, metric := range f.GetMetric() {
			n := uint64(metric.GetCounter().GetValue())
			requests += n
			for _, l := range metric.GetLabel() {
				if l.GetName() == "status" && strings.HasPrefix(l.GetValue(), "5") {
					errors += n
				}
			}
		}
	}
	return requests, errors
}

// Observe counts one answered request.
func (m *metrics) Observe(rt *routing.Route, status int, end time.Time, elapsed, upstream time.Duration) {
	rs := m.series(rt)
	rs.counter(status).Inc()
	rs.latency.Observe(elapsed.Seconds())
	if rs.svc != nil {
		rs.svc.RecordCall(status, elapsed, upstream, end)
	}
}

// UpstreamError counts one failed upstream call.
func (m *metrics) UpstreamError(rt *routing.Route, kind string) {
	m.series(rt).upstreamError(kind).Inc()
}

// fallbackCounter returns OnFallback for limit-count: the series are
// resolved once, so a fallback costs one atomic add.
func (m *metrics) fallbackCounter() func(reason string) {
	unreachable := m.rateFallback.WithLabelValues(limitcount.FallbackUnreachable)
	unconfigured := m.rateFallback.WithLabelValues(limitcount.FallbackNotConfigured)
	return func(reason string) {
		if reason == limitcount.FallbackNotConfigured {
			unconfigured.Inc()
			return
		}
		unreachable.Inc()
	}
}

// quotaRejection counts a request a plan quota refused.
func (m *metrics) quotaRejection(group, service string) {
	m.quotaRejected.WithLabelValues(group, service).Inc()
}

// applied records the table t swapped in for up: the revision gauges,
// the certificates' expiry, and the deletion of the series of the routes
// up took away.
func (m *metrics) applied(t *routing.Table, up spec.SnapshotUpdate, now time.Time) {
	m.forget()
	m.revision.Set(float64(t.Revision))
	m.routes.Set(float64(t.Len()))
	m.lastApplied.Set(float64(now.UnixNano()) / 1e9)
	if up.Snapshot != nil { // groups and certificates change in whole snapshots only
		m.groupRevision.Reset()
		m.certExpiry.Reset()
		for _, c := range t.CertificateExpiries() {
			m.certExpiry.WithLabelValues(c.Group, c.Name).Set(float64(c.NotAfter.Unix()))
		}
	}
	for _, g := range m.served.update(m, up) {
		m.groupRevision.WithLabelValues(g).Set(float64(t.Revision))
	}
}
