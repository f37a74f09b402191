package gateway

import (
	"bytes"
	"encoding/json"
	"github.com/portico-gw/portico/internal/gateway/accesslog"
	"github.com/portico-gw/portico/internal/gateway/tracing"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/certtest"
	"github.com/portico-gw/portico/internal/gateway/plugin/limitcount"
	"github.com/portico-gw/portico/internal/spec"
)

// mixedWorkload runs a gateway (fast engine) through answers of every
// kind — 200s, a 404, a 405, a 502 from a dead upstream, a 429 of
// limit-count, a canary's split, a stream connection — and returns it
// with its /metrics as scraped then.
func mixedWorkload(t *testing.T) (*running, string) {
	t.Helper()
	be := backendServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadNode := spec.Node{Host: "127.0.0.1", Port: dead.Addr().(*net.TCPAddr).Port, Weight: 1}
	dead.Close() // nothing listens there any more: connections are refused
	echo := echoServer(t)

	streams := make(chan map[string]string, 1)
	calls := accesslog.FuncSink("control-plane", func([][]byte) error { return nil })
	g := start(t, EngineFast, func(o *Options) {
		// The access log, the calls kept for the log search (one a
		// second: the budget drops some) and tracing, every request
		// sampled, to a collector that is not there.
		o.Telemetry = Telemetry{AccessLog: []accesslog.SinkConfig{accesslog.WriterSink("discard", io.Discard)},
			Calls: &calls, CallsPerSecond: 1, TraceSampleRatio: 1,
			OTLP: &tracing.ExporterConfig{Endpoint: "http://" + dead.Addr().String(), Timeout: time.Second}}
		o.StreamAddrs = map[string]string{"echo": "127.0.0.1:0"}
		announce := o.OnListen
		o.OnListen = func(l Listening) { streams <- l.Streams; announce(l) }
	})
	streamAddr := (<-streams)["echo"]

	limited := named("limited")
	limited.Plugins = spec.Plugins{"limit-count": json.RawMessage(`{"count":1,"time_window":3600,"key":"route","policy":"redis"}`)}
	postOnly := named("post")
	postOnly.Methods = []string{"POST"}
	snap := snapshotOf(t, 1, be, named("ok"), limited, postOnly)
	snap.Groups[0].Certificates = []spec.Certificate{certtest.NewCA(t).Issue(t, "api.example.com").GroupCertificate(t, "api", false)}
	services := &snap.Groups[0].Services
	*services = append(*services,
		spec.DeployedService{ProjectID: "default", Version: "1.0.0",
			Service:  spec.Service{ID: "dead-id", Name: "dead", Routes: []spec.Route{named("down")}},
			Upstream: spec.Upstream{Nodes: []spec.Node{deadNode}, Checks: &spec.HealthChecks{Passive: &spec.PassiveCheck{}}}},
		spec.DeployedService{ProjectID: "default", Version: "1.0.0",
			Service:  spec.Service{ID: "canary-id", Name: "canaried", Routes: []spec.Route{named("split")}},
			Upstream: spec.Upstream{Nodes: []spec.Node{node(t, be)}},
			Canary:   &spec.CanaryRoute{ID: "canary-1", Weight: 50, Target: spec.Upstream{Nodes: []spec.Node{node(t, be)}}}},
		spec.DeployedService{ProjectID: "default", Version: "1.0.0",
			Service:  spec.Service{ID: "echo-id", Name: "echo", Type: spec.ServiceStream, StreamRoutes: []spec.StreamRoute{{Name: "all", Listener: "echo"}}},
			Upstream: spec.Upstream{Scheme: "tcp", Nodes: []spec.Node{echo}}})
	g.publish(t, snap)

	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/ok", 200}, {"GET", "/ok", 200}, {"GET", "/nowhere", 404}, {"GET", "/post", 405},
		{"GET", "/down", 502}, {"GET", "/limited", 200}, {"GET", "/limited", 429},
		{"GET", "/split", 200}, {"GET", "/split", 200}, {"GET", "/split", 200}, {"GET", "/split", 200},
	} {
		req, _ := http.NewRequest(c.method, g.gw+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("%s %s = %d, want %d", c.method, c.path, resp.StatusCode, c.want)
		}
	}
	streamRoundTrip(t, streamAddr)
	// The stream connection's series are made when it ends, after the
	// client saw its close: wait for them.
	deadline := time.Now().Add(waitLimit)
	for metricValue(t, g.status, `portico_stream_bytes_total{direction="sent",group="default",listener="echo",route="all",service="echo"}`) != 4 {
		if time.Now().After(deadline) {
			t.Fatal("the stream connection was never counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	code, body := fetch(t, g.status+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics answered %d", code)
	}
	return g, body
}

// echoServer answers each TCP connection with what it sends.
func echoServer(t *testing.T) spec.Node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return spec.Node{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Weight: 1}
}

func streamRoundTrip(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatalf("dial the stream listener: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(waitLimit))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
		t.Fatalf("through the stream route: %q %v", got, err)
	}
}

// TestMetricsPassPromtool: what /metrics serves after a mixed workload
// passes Prometheus's own linter, without a word. Without promtool the
// test is skipped, unless PORTICO_REQUIRE_PROMTOOL=1 (CI).
func TestMetricsPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("PORTICO_REQUIRE_PROMTOOL") == "1" {
			t.Fatal("promtool is not installed (apt-get install prometheus) and PORTICO_REQUIRE_PROMTOOL=1")
		}
		t.Skip("promtool is not installed (apt-get install prometheus)")
	}
	g, exposition := mixedWorkload(t)
	for _, want := range []string{`status="429"`, `status="405"`, `status="502"`, `route="split"`, `portico_upstream_node_healthy{`,
		`portico_stream_connections_total{`, `kind="connect"`, `portico_ratelimit_redis_fallback_total{reason=`,
		`portico_certificate_expiry_timestamp_seconds{`, `portico_access_log_lines_total{`, `portico_call_log_budget_dropped_total `} {
		if !strings.Contains(exposition, want) {
			t.Errorf("the workload made no %s: promtool would not see it", want)
		}
	}
	lint := func(what, exposition string) {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(exposition)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil || out.Len() > 0 {
			t.Errorf("promtool check metrics of %s: %v\n%s", what, err, out.String())
		}
	}
	lint("the mixed workload", exposition)

	// A revision without the canaried service: its series go, and what
	// is left still passes.
	next := snapshotOf(t, 2, backendServer(t, func(http.ResponseWriter, *http.Request) {}), named("ok"))
	g.publish(t, next)
	_, after := fetch(t, g.status+"/metrics")
	if strings.Contains(after, `service="canaried"`) || strings.Contains(after, `route="limited"`) {
		t.Errorf("series of routes the revision took away stay:\n%s", grepLines(after, `service="canaried"`, `route="limited"`))
	}
	if !strings.Contains(after, `route="ok"`) {
		t.Error("the series of the route kept went")
	}
	lint("the next revision", after)
}

func grepLines(text string, subs ...string) string {
	var out []string
	for line := range strings.Lines(text) {
		if slices.ContainsFunc(subs, func(s string) bool { return strings.Contains(line, s) }) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// dashboardMetric is a series named in a PromQL expression: Portico's,
// and the Go client's of the process.
var dashboardMetric = regexp.MustCompile(`\b(portico|process|go)_[a-z_]+`)

// TestGrafanaDashboardUsesRealMetrics: every series the Grafana dashboard
// queries is one a gateway serves — after a workload that gives every
// vector series — so a renamed series cannot leave a panel silently empty.
func TestGrafanaDashboardUsesRealMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana/portico-gateway.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Inputs []struct {
			Name string `json:"name"`
		} `json:"__inputs"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	if len(dash.Inputs) != 1 || dash.Inputs[0].Name != "DS_PROMETHEUS" {
		t.Errorf("the dashboard's inputs are %+v, want the data source DS_PROMETHEUS alone", dash.Inputs)
	}
	var exprs []string
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			exprs = append(exprs, target.Expr)
		}
	}
	vars := map[string]bool{}
	for _, v := range dash.Templating.List {
		vars[v.Name] = true
		exprs = append(exprs, string(v.Query))
	}
	for _, name := range []string{"DS_PROMETHEUS", "group", "service"} {
		if !vars[name] {
			t.Errorf("the dashboard has no template variable %s", name)
		}
	}

	f := newMetricsFixture(t)
	up := metricsSnapshot(1, metricsService("svc", "a"), spec.DeployedService{ProjectID: "default", Version: "1.0.0",
		Service:  spec.Service{ID: "db-id", Name: "db", Type: spec.ServiceStream, StreamRoutes: []spec.StreamRoute{{Name: "all", Listener: "redis"}}},
		Upstream: spec.Upstream{Scheme: "tcp", Nodes: []spec.Node{{Host: "127.0.0.1", Port: 9, Weight: 1}}}})
	up.Snapshot.Groups[0].Certificates = []spec.Certificate{certtest.NewCA(t).Issue(t, "api.example.com").GroupCertificate(t, "api", false)}
	f.apply(t, up)
	f.serve(t, 502, "/svc/a")
	f.m.fallbackCounter()(limitcount.FallbackNotConfigured)
	f.m.streams.Opened(f.table.Stream("redis", ""))
	f.m.applyErrors.Inc()
	served := map[string]bool{}
	for name, typ := range gather(t, f.m).types {
		served[name] = true
		if typ == "HISTOGRAM" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				served[name+suffix] = true
			}
		}
	}
	// Families that have no series until something happens (a line
	// dropped), so a quiet fixture cannot show them.
	notYet := map[string]bool{"portico_access_log_dropped_total": true}
	used := map[string]bool{}
	for _, e := range exprs {
		for _, name := range dashboardMetric.FindAllString(e, -1) {
			used[name] = true
		}
	}
	if len(used) < 15 {
		t.Fatalf("the dashboard queries only %d series: %v", len(used), used)
	}
	for name := range used {
		if !served[name] && !notYet[name] {
			t.Errorf("the dashboard queries %s, which the gateway does not serve", name)
		}
	}
}
