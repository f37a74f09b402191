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
)

// metrics are the gateway's Prometheus series, in a registry of its own so
// several gateways in one process (tests) do not collide.
type metrics struct {
	registry       *prometheus.Registry
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	upstreamErrors *prometheus.CounterVec
	revision       prometheus.Gauge
	certExpiry     *prometheus.GaugeVec // by group and certificate name
	applyErrors    prometheus.Counter
	routes         prometheus.Gauge
	rateFallback   *prometheus.CounterVec
	quotaRejected  *prometheus.CounterVec   // by group and service
	cache          atomic.Pointer[sync.Map] // *routing.Route → *routeSeries
	unmatched      *routeSeries
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
	m.registry.MustRegister(m.requests, m.latency, m.upstreamErrors, m.revision, m.applyErrors, m.routes, m.rateFallback, m.quotaRejected, m.certExpiry,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(m.streams.collectors()...)
	m.forget()
	m.unmatched = m.newSeries(nil)
	return m
}

func labels(rt *routing.Route) (group, service, route string) {
	if rt == nil {
		return "", "", ""
	}
	return rt.Info.Group, rt.Info.ServiceName, rt.Info.RouteName
}

// routeSeries caches one route's series, so a request costs no label
// hashing and no allocation. Status counters are a short copy-on-write list:
// a route sees few distinct statuses.
type routeSeries struct {
	m                     *metrics
	group, service, route string
	latency               prometheus.Observer
	svc                   *svcstats.Series // nil when unmatched or figures are off
	mu                    sync.Mutex
	codes                 atomic.Pointer[[]codeCounter]
}

type codeCounter struct {
	code int
	c    prometheus.Counter
}

func (m *metrics) newSeries(rt *routing.Route) *routeSeries {
	g, s, r := labels(rt)
	rs := &routeSeries{m: m, group: g, service: s, route: r, latency: m.latency.WithLabelValues(g, s, r)}
	if rt != nil {
		rs.svc = m.services.Get(g, rt.Info.ServiceID)
	}
	return rs
}

// series returns the cached series of rt. The cache holds the routes of the
// current table only: forget drops it when a new table is swapped in.
func (m *metrics) series(rt *routing.Route) *routeSeries {
	if rt == nil {
		return m.unmatched
	}
	cache := m.cache.Load()
	if v, ok := cache.Load(rt); ok {
		return v.(*routeSeries)
	}
	v, _ := cache.LoadOrStore(rt, m.newSeries(rt))
	return v.(*routeSeries)
}

func (m *metrics) forget() { m.cache.Store(new(sync.Map)) }

func (rs *routeSeries) counter(code int) prometheus.Counter {
	if p := rs.codes.Load(); p != nil {
		for _, cc := range *p {
			if cc.code == code {
				return cc.c
			}
		}
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var list []codeCounter
	if p := rs.codes.Load(); p != nil {
		for _, cc := range *p {
			if cc.code == code {
				return cc.c
			}
		}
		list = slices.Clone(*p)
	}
	label := "other"
	if code >= 0 && code < len(statusLabels) {
		label = statusLabels[code]
	}
	c := rs.m.requests.WithLabelValues(rs.group, rs.service, rs.route, label)
	list = append(list, codeCounter{code, c})
	rs.codes.Store(&list)
	return c
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
func (m *metrics) Observe(rt *routing.Route, status int, elapsed time.Duration) {
	rs := m.series(rt)
	rs.counter(status).Inc()
	rs.latency.Observe(elapsed.Seconds())
	if rs.svc != nil {
		rs.svc.Record(status, elapsed, time.Now())
	}
}

// UpstreamError counts one failed upstream call.
func (m *metrics) UpstreamError(rt *routing.Route, kind string) {
	g, s, r := labels(rt)
	m.upstreamErrors.WithLabelValues(g, s, r, kind).Inc()
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
