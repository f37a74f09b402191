package gateway

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

// seriesOf is every series of a registry: family name → the label sets of
// its series, each printed as name=value pairs sorted, and each family's
// type and help.
type gathered struct {
	series map[string][]string
	types  map[string]string
	help   map[string]string
}

func gather(t *testing.T, m *metrics) gathered {
	t.Helper()
	fams, err := m.registry.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	g := gathered{series: map[string][]string{}, types: map[string]string{}, help: map[string]string{}}
	for _, f := range fams {
		g.types[f.GetName()] = f.GetType().String()
		g.help[f.GetName()] = f.GetHelp()
		for _, metric := range f.GetMetric() {
			var pairs []string
			for _, l := range metric.GetLabel() {
				pairs = append(pairs, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(pairs)
			g.series[f.GetName()] = append(g.series[f.GetName()], strings.Join(pairs, ","))
		}
	}
	return g
}

// with reports whether family name has a series whose labels include
// every pair of want ("route=a").
func (g gathered) with(name string, want ...string) bool {
	for _, s := range g.series[name] {
		pairs := strings.Split(s, ",")
		if !slices.ContainsFunc(want, func(w string) bool { return !slices.Contains(pairs, w) }) {
			return true
		}
	}
	return false
}

// metricsFixture is a gateway's metrics without the gateway: a table
// compiled as follow compiles it, applied as follow applies it.
type metricsFixture struct {
	m      *metrics
	deps   routing.Deps
	health *upstream.Health
	table  *routing.Table
}

func newMetricsFixture(t *testing.T) *metricsFixture {
	t.Helper()
	f := &metricsFixture{m: newMetrics(), health: upstream.NewHealth()}
	t.Cleanup(f.health.Close)
	// The health of nodes is kept by weak pointers from the compiled
	// table's pools: a test that reads /metrics after its last use of f
	// must not let a garbage collection take the table (and the node
	// series with it) in between.
	t.Cleanup(func() { runtime.KeepAlive(f) })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f.deps = routing.Deps{Logger: slog.New(slog.DiscardHandler), Health: f.health}
	f.m.registry.MustRegister(upstreamCollector{&upstreamState{health: f.health, disc: newDiscoverer(ctx, f.deps.Logger)}})
	return f
}

func (f *metricsFixture) apply(t *testing.T, up spec.SnapshotUpdate) {
	t.Helper()
	tbl, err := compile(f.table, up, f.deps)
	if err != nil {
		t.Fatalf("compile revision %d: %v", up.Revision(), err)
	}
	f.table = tbl
	f.m.applied(tbl, up, time.Unix(1_700_000_000, 0))
}

// serve counts a request of each route's path, answered status, an
// upstream error and a quota refusal.
func (f *metricsFixture) serve(t *testing.T, status int, paths ...string) {
	t.Helper()
	for _, p := range paths {
		var ps match.Params
		rt, _, ok := f.table.Lookup("example.com", "GET", p, &ps)
		if !ok {
			t.Fatalf("no route at %s", p)
		}
		f.m.Observe(rt, status, time.Now(), 3*time.Millisecond, 0)
		f.m.UpstreamError(rt, "connect")
		f.m.quotaRejection(rt.Info.Group, rt.Info.ServiceName)
	}
}

// metricsService is service name (id name+"-id") of group "g" with a
// route at /NAME/ROUTE for each route; its node is checked passively.
func metricsService(name string, routes ...string) spec.DeployedService {
	svc := spec.Service{ID: name + "-id", Name: name}
	for _, r := range routes {
		svc.Routes = append(svc.Routes, spec.Route{ID: name + "-" + r, Name: r, Paths: []string{"/" + name + "/" + r}})
	}
	return spec.DeployedService{ProjectID: "default", Version: "1.0.0", Service: svc,
		Upstream: spec.Upstream{Nodes: []spec.Node{{Host: "127.0.0.1", Port: 9, Weight: 1}},
			Checks: &spec.HealthChecks{Passive: &spec.PassiveCheck{}}}}
}

func metricsSnapshot(rev int64, services ...spec.DeployedService) spec.SnapshotUpdate {
	return spec.SnapshotUpdate{Snapshot: &spec.Snapshot{Revision: rev, Groups: []spec.GroupSnapshot{{
		Group: spec.GatewayGroup{Name: "g"}, Services: services}}}}
}

// TestMetricNamingRules holds the registry to Prometheus's naming rules
// with every family it can have made (promtool checks the same and more
// when it is installed): help on every family, _total on counters and
// on counters alone, durations in seconds, snake_case names and labels,
// no label carrying one request's identity.
func TestMetricNamingRules(t *testing.T) {
	f := newMetricsFixture(t)
	f.apply(t, metricsSnapshot(1, metricsService("svc", "a", "b")))
	f.serve(t, 200, "/svc/a", "/svc/b")
	f.m.Observe(nil, 404, time.Now(), time.Millisecond, 0)
	f.m.fallbackCounter()("unreachable")
	f.m.streams.Refused("redis", nil, "no_route")
	g := gather(t, f.m)

	snake := func(s string) bool {
		return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == "" && !strings.Contains(s, "__")
	}
	for name, typ := range g.types {
		if g.help[name] == "" {
			t.Errorf("%s has no help", name)
		}
		if !snake(name) {
			t.Errorf("%s is not snake_case", name)
		}
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue // the client library's own
		}
		if !strings.HasPrefix(name, "portico_") {
			t.Errorf("%s lacks the portico_ prefix", name)
		}
		if counter := typ == "COUNTER"; counter != strings.HasSuffix(name, "_total") {
			t.Errorf("%s is a %s: counters, and counters alone, end in _total", name, typ)
		}
		for _, unit := range []string{"_milliseconds", "_ms", "_microseconds", "_minutes", "_hours", "_days", "_kilobytes", "_megabytes", "_timestamp"} {
			if strings.HasSuffix(strings.TrimSuffix(name, "_total"), unit) {
				t.Errorf("%s is not in a base unit (seconds, bytes; timestamps in _timestamp_seconds)", name)
			}
		}
		if typ == "HISTOGRAM" && (strings.Contains(name, "duration") || strings.Contains(name, "latency")) && !strings.HasSuffix(name, "_seconds") {
			t.Errorf("%s is a histogram of time not in seconds", name)
		}
		for _, s := range g.series[name] {
			for pair := range strings.SplitSeq(s, ",") {
				label, _, _ := strings.Cut(pair, "=")
				if s != "" && !snake(label) {
					t.Errorf("%s: label %q is not snake_case", name, label)
				}
				if slices.Contains([]string{"request_id", "trace_id", "span_id", "consumer", "client_ip", "path", "url", "user"}, label) {
					t.Errorf("%s: label %q has a value per request or client", name, label)
				}
			}
		}
	}
	for _, want := range []string{"portico_http_requests_total", "portico_http_request_duration_seconds", "portico_upstream_errors_total",
		"portico_quota_rejections_total", "portico_upstream_node_healthy", "portico_group_config_revision",
		"portico_config_last_applied_timestamp_seconds", "portico_stream_connections_total", "go_goroutines"} {
		if len(g.series[want]) == 0 {
			t.Errorf("the workload made no series of %s: the rules were not checked on it", want)
		}
	}
}

// TestRemovedRoutesSeriesDeleted: when a revision takes a route away, its
// series go from the registry; the other routes' stay and go on counting.
func TestRemovedRoutesSeriesDeleted(t *testing.T) {
	offline := false
	renamed := metricsService("svc", "a", "b")
	renamed.Service.Name = "svc2"
	withOffline := metricsService("svc", "a", "b")
	withOffline.Service.Routes[1].Online = &offline
	other := metricsService("other", "x")
	tests := []struct {
		name string
		next spec.SnapshotUpdate
		gone []string // label pairs of series that must be gone
		kept []string // … that must stay
	}{
		{name: "snapshot without a route", next: metricsSnapshot(2, metricsService("svc", "a"), other),
			gone: []string{"route=b"}, kept: []string{"route=a", "route=x"}},
		{name: "snapshot without a service", next: metricsSnapshot(2, other),
			gone: []string{"service=svc"}, kept: []string{"route=x"}},
		{name: "route taken offline", next: metricsSnapshot(2, withOffline, other),
			gone: []string{"route=b"}, kept: []string{"route=a", "route=x"}},
		{name: "delta changing a service", next: spec.SnapshotUpdate{Delta: &spec.SnapshotDelta{Base: 1, Revision: 2,
			Groups: []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "g"}, Services: []spec.DeployedService{metricsService("svc", "a", "c")}}}}},
			gone: []string{"route=b"}, kept: []string{"route=a", "route=x"}},
		{name: "delta renaming a service", next: spec.SnapshotUpdate{Delta: &spec.SnapshotDelta{Base: 1, Revision: 2,
			Groups: []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "g"}, Services: []spec.DeployedService{renamed}}}}},
			gone: []string{"service=svc"}, kept: []string{"route=x"}},
		{name: "delta removing a service", next: spec.SnapshotUpdate{Delta: &spec.SnapshotDelta{Base: 1, Revision: 2,
			Groups: []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "g"}, Removed: []string{"svc-id"}}}}},
			gone: []string{"service=svc"}, kept: []string{"route=x"}},
		{name: "delta leaving the service alone", next: spec.SnapshotUpdate{Delta: &spec.SnapshotDelta{Base: 1, Revision: 2,
			Groups: []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "g"}, Services: []spec.DeployedService{metricsService("other", "x", "y")}}}}},
			kept: []string{"route=a", "route=b", "route=x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newMetricsFixture(t)
			f.apply(t, metricsSnapshot(1, metricsService("svc", "a", "b"), other))
			f.serve(t, 200, "/svc/a", "/svc/b", "/other/x")
			f.serve(t, 502, "/svc/b")
			f.m.Observe(nil, 404, time.Now(), time.Millisecond, 0)
			f.apply(t, tc.next)
			g := gather(t, f.m)
			for _, family := range []string{"portico_http_requests_total", "portico_http_request_duration_seconds", "portico_upstream_errors_total"} {
				for _, pair := range tc.gone {
					if g.with(family, pair) {
						t.Errorf("%s still has series of %s: %v", family, pair, g.series[family])
					}
				}
				for _, pair := range tc.kept {
					if !g.with(family, pair) {
						t.Errorf("%s lost the series of %s: %v", family, pair, g.series[family])
					}
				}
			}
			if slices.Contains(tc.gone, "service=svc") == g.with("portico_quota_rejections_total", "service=svc") {
				t.Errorf("quota refusals after the service went (%v): %v", slices.Contains(tc.gone, "service=svc"), g.series["portico_quota_rejections_total"])
			}
			if !g.with("portico_http_requests_total", "route=", "status=404") {
				t.Errorf("the unmatched requests' series went: %v", g.series["portico_http_requests_total"])
			}
			// A route that is served again counts from zero.
			f.serve(t, 200, "/other/x")
			if got := gather(t, f.m); !got.with("portico_http_requests_total", "route=x", "status=200") {
				t.Errorf("route x no longer counts: %v", got.series["portico_http_requests_total"])
			}
		})
	}
}

// A stream route's series go with it, except its gauge of open
// connections while one is open.
func TestRemovedStreamRouteSeriesDeleted(t *testing.T) {
	f := newMetricsFixture(t)
	stream := spec.DeployedService{ProjectID: "default", Version: "1.0.0",
		Service:  spec.Service{ID: "db-id", Name: "db", Type: spec.ServiceStream, StreamRoutes: []spec.StreamRoute{{Name: "all", Listener: "redis"}}},
		Upstream: spec.Upstream{Scheme: "tcp", Nodes: []spec.Node{{Host: "127.0.0.1", Port: 9, Weight: 1}}}}
	f.apply(t, metricsSnapshot(1, stream, metricsService("svc", "a")))
	rt := f.table.Stream("redis", "")
	if rt == nil {
		t.Fatal("no stream route on listener redis")
	}
	f.m.streams.Opened(rt)
	f.m.streams.Closed(rt, 10, 20)
	if g := gather(t, f.m); !g.with("portico_stream_bytes_total", "route=all") || !g.with("portico_stream_active_connections", "route=all") {
		t.Fatalf("no stream series: %v", g.series)
	}
	f.apply(t, spec.SnapshotUpdate{Delta: &spec.SnapshotDelta{Base: 1, Revision: 2,
		Groups: []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "g"}, Removed: []string{"db-id"}}}}})
	g := gather(t, f.m)
	for _, family := range []string{"portico_stream_connections_total", "portico_stream_bytes_total", "portico_stream_active_connections"} {
		if g.with(family, "route=all") {
			t.Errorf("%s keeps the removed stream route: %v", family, g.series[family])
		}
	}
}

// TestConfigRevisionGauges: the revision served, per group too, and when
// it was applied.
func TestConfigRevisionGauges(t *testing.T) {
	f := newMetricsFixture(t)
	up := metricsSnapshot(7, metricsService("svc", "a"))
	up.Snapshot.Groups = append(up.Snapshot.Groups, spec.GroupSnapshot{Group: spec.GatewayGroup{Name: "h"}})
	f.apply(t, up)
	f.apply(t, spec.SnapshotUpdate{Delta: &spec.SnapshotDelta{Base: 7, Revision: 8,
		Groups: []spec.GroupDelta{{Group: spec.GatewayGroup{Name: "g"}, Services: []spec.DeployedService{metricsService("svc", "a", "b")}}}}})
	fams, err := f.m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, fam := range fams {
		for _, metric := range fam.GetMetric() {
			key := fam.GetName()
			for _, l := range metric.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			got[key] = metric.GetGauge().GetValue()
		}
	}
	for key, want := range map[string]float64{
		"portico_config_revision":                       8,
		"portico_group_config_revision,group=g":         8,
		"portico_group_config_revision,group=h":         8,
		"portico_config_last_applied_timestamp_seconds": 1_700_000_000,
		"portico_routes":                                2,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	// A snapshot without group h drops its gauge.
	f.apply(t, metricsSnapshot(9, metricsService("svc", "a")))
	if g := gather(t, f.m); g.with("portico_group_config_revision", "group=h") || !g.with("portico_group_config_revision", "group=g") {
		t.Errorf("group revisions after h left: %v", g.series["portico_group_config_revision"])
	}
}

// TestNodeHealthGauges: a checked node is 1 while healthy; its state is a
// set of series, one at 1.
func TestNodeHealthGauges(t *testing.T) {
	f := newMetricsFixture(t)
	f.apply(t, metricsSnapshot(1, metricsService("svc", "a")))
	g := gather(t, f.m)
	node := []string{"group=g", "service=svc", "upstream=", "node=127.0.0.1:9"}
	if !g.with("portico_upstream_node_healthy", node...) {
		t.Fatalf("no health of the checked node: %v", g.series)
	}
	if n := len(g.series["portico_upstream_node_state"]); n != len(nodeStates) {
		t.Errorf("%d state series, want one per state (%d)", n, len(nodeStates))
	}
	fams, _ := f.m.registry.Gather()
	for _, fam := range fams {
		for _, metric := range fam.GetMetric() {
			state := ""
			for _, l := range metric.GetLabel() {
				if l.GetName() == "state" {
					state = l.GetValue()
				}
			}
			switch v := metric.GetGauge().GetValue(); {
			case fam.GetName() == "portico_upstream_node_healthy" && v != 1:
				t.Errorf("healthy node: portico_upstream_node_healthy = %v", v)
			case fam.GetName() == "portico_upstream_node_state" && (v == 1) != (state == spec.NodeHealthy):
				t.Errorf("healthy node: portico_upstream_node_state{state=%q} = %v", state, v)
			}
		}
	}
}

// mergeNodes makes one series of the healths of one node that the health
// package keeps apart (different checks, schemes): its worst state, the
// figures summed.
func TestMergeNodes(t *testing.T) {
	n := func(node, state string, probes uint64) spec.NodeHealth {
		return spec.NodeHealth{Group: "g", Service: "s", Node: node, State: state, Probes: probes, Active: probes > 0}
	}
	tests := []struct {
		name string
		in   []spec.NodeHealth
		want []spec.NodeHealth
	}{
		{"distinct nodes", []spec.NodeHealth{n("a:1", "healthy", 1), n("b:1", "ejected", 0)},
			[]spec.NodeHealth{n("a:1", "healthy", 1), n("b:1", "ejected", 0)}},
		{"one node twice, worst state", []spec.NodeHealth{n("a:1", "healthy", 2), n("a:1", "unhealthy", 3)},
			[]spec.NodeHealth{n("a:1", "unhealthy", 5)}},
		{"half open under ejected", []spec.NodeHealth{n("a:1", "ejected", 0), n("a:1", "half_open", 0)},
			[]spec.NodeHealth{n("a:1", "ejected", 0)}},
		{"shared upstream apart", []spec.NodeHealth{n("a:1", "healthy", 0), {Group: "g", Service: "s", Upstream: "u", Node: "a:1", State: "ejected"}},
			[]spec.NodeHealth{n("a:1", "healthy", 0), {Group: "g", Service: "s", Upstream: "u", Node: "a:1", State: "ejected"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mergeNodes(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("mergeNodes = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Counting a request of a route seen before, and an upstream error of a
// kind seen before, allocates nothing.
func TestObserveAllocatesNothing(t *testing.T) {
	f := newMetricsFixture(t)
	f.apply(t, metricsSnapshot(1, metricsService("svc", "a")))
	var ps match.Params
	rt, _, _ := f.table.Lookup("example.com", "GET", "/svc/a", &ps)
	f.m.Observe(rt, 200, time.Now(), time.Millisecond, 0)
	f.m.UpstreamError(rt, "timeout")
	if n := testing.AllocsPerRun(100, func() {
		f.m.Observe(rt, 200, time.Now(), time.Millisecond, 0)
		f.m.UpstreamError(rt, "timeout")
	}); n != 0 {
		t.Errorf("Observe and UpstreamError allocate %v times", n)
	}
}
