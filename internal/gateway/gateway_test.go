package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
)

// waitLimit bounds every wait so a broken gateway fails instead of hanging;
// no test asserts on how long anything took.
const waitLimit = 20 * time.Second

// chanSource is a Source driven by the test: each snapshot sent on snaps is
// delivered by one Next call, and every Next call reports its after.
type chanSource struct {
	snaps chan spec.SnapshotUpdate
	polls chan int64
}

func newChanSource() *chanSource {
	return &chanSource{snaps: make(chan spec.SnapshotUpdate), polls: make(chan int64, 1024)}
}

func (s *chanSource) Next(ctx context.Context, _ []string, after int64) (spec.SnapshotUpdate, error) {
	select {
	case s.polls <- after:
	default:
	}
	select {
	case up := <-s.snaps:
		return up, nil
	case <-ctx.Done():
		return spec.SnapshotUpdate{}, ctx.Err()
	}
}

// running is one gateway.Run in the background.
type running struct {
	gw, status string // base URLs
	src        *chanSource
	applied    chan int64
	cancel     context.CancelFunc
	done       chan error
	tls        string // the HTTPS listener's address
}

// engines are the engines every gateway test runs on.
var engines = []string{EngineFast, EngineNetHTTP}

func forEachEngine(t *testing.T, test func(t *testing.T, engine string)) {
	for _, e := range engines {
		t.Run(e, func(t *testing.T) { test(t, e) })
	}
}

func start(t *testing.T, engine string, with ...func(*Options)) *running {
	t.Helper()
	r := &running{src: newChanSource(), applied: make(chan int64, 1024), done: make(chan error, 1)}
	addrs := make(chan Listening, 1)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	opts := Options{
		Addr: "127.0.0.1:0", StatusAddr: "127.0.0.1:0", Groups: []string{"default"},
		Source: r.src, Logger: slog.New(slog.DiscardHandler), DrainTimeout: waitLimit,
		OnListen: func(l Listening) { addrs <- l },
		OnApply:  func(rev int64) { r.applied <- rev },
		Engine:   engine,
	}
	opts.TLSAddr = "127.0.0.1:0"
	for _, f := range with {
		f(&opts)
	}
	go func() { r.done <- Run(ctx, opts) }()
	select {
	case l := <-addrs:
		a := []string{l.Gateway, l.Status, l.TLS}
		r.tls = l.TLS
		for _, addr := range a {
			host, port, err := net.SplitHostPort(addr)
			if err != nil || host != "127.0.0.1" || port == "0" {
				t.Fatalf("OnListen gave %q", addr)
			}
		}
		r.gw, r.status = "http://"+a[0], "http://"+a[1]
	case err := <-r.done:
		t.Fatalf("Run returned before listening: %v", err)
	case <-time.After(waitLimit):
		t.Fatal("OnListen never called")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(waitLimit):
			t.Error("Run did not return after cancel")
		}
	})
	return r
}

// publish hands snap to the gateway and waits until it is swapped in.
func (r *running) publish(t *testing.T, snap *spec.Snapshot) {
	t.Helper()
	r.send(t, snap)
	for {
		select {
		case rev := <-r.applied:
			if rev == snap.Revision {
				return
			}
		case <-time.After(waitLimit):
			t.Fatalf("revision %d never applied", snap.Revision)
		}
	}
}

func (r *running) send(t *testing.T, snap *spec.Snapshot) {
	t.Helper()
	r.hand(t, spec.SnapshotUpdate{Snapshot: snap})
}

func (r *running) hand(t *testing.T, up spec.SnapshotUpdate) {
	t.Helper()
	select {
	case r.src.snaps <- up:
	case <-time.After(waitLimit):
		t.Fatal("the gateway stopped polling its source")
	}
}

// handled waits until the gateway asked for a revision after rev: it has
// finished with rev, applied or refused.
func (r *running) handled(t *testing.T, rev int64) {
	t.Helper()
	for {
		select {
		case after := <-r.src.polls:
			if after >= rev {
				return
			}
		case <-time.After(waitLimit):
			t.Fatalf("revision %d never handled", rev)
		}
	}
}

func fetch(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func backendServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func node(t *testing.T, s *httptest.Server) spec.Node {
	t.Helper()
	host, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return spec.Node{Host: host, Port: p, Weight: 1}
}

// snapshotOf serves routes of service "svc" in group "default" from be.
func snapshotOf(t *testing.T, rev int64, be *httptest.Server, routes ...spec.Route) *spec.Snapshot {
	t.Helper()
	return &spec.Snapshot{Revision: rev, Groups: []spec.GroupSnapshot{{
		Group: spec.GatewayGroup{Name: "default"},
		Services: []spec.DeployedService{{
			ProjectID: "default", Version: "1.0.0",
			Service:  spec.Service{ID: "svc-id", Name: "svc", Routes: routes},
			Upstream: spec.Upstream{Nodes: []spec.Node{node(t, be)}},
		}},
	}}}
}

func named(name string) spec.Route {
	return spec.Route{ID: name, Name: name, Paths: []string{"/" + name}}
}

// metricValue returns the value of the series line that starts with
// series (name and labels as Prometheus prints them), or -1.
func metricValue(t *testing.T, statusURL, series string) float64 {
	t.Helper()
	code, body := fetch(t, statusURL+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics answered %d", code)
	}
	for line := range strings.Lines(body) {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return v
		}
	}
	return -1
}

func TestRunLifecycle(t *testing.T) { forEachEngine(t, testRunLifecycle) }

func testRunLifecycle(t *testing.T, engine string) {
	be := backendServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "from backend") })
	g := start(t, engine)

	if code, body := fetch(t, g.status+"/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("/healthz = %d %s", code, body)
	}
	if code, body := fetch(t, g.status+"/readyz"); code != 503 {
		t.Errorf("/readyz before any snapshot = %d %s, want 503", code, body)
	}
	if code, body := fetch(t, g.gw+"/r"); code != 503 || !strings.Contains(body, `"not_ready"`) {
		t.Errorf("request before any snapshot = %d %s, want 503 not_ready", code, body)
	}

	g.publish(t, snapshotOf(t, 4, be, named("r"), named("other")))

	code, body := fetch(t, g.status+"/readyz")
	var ready struct {
		Status   string
		Revision int64
		Routes   int
	}
	if err := json.Unmarshal([]byte(body), &ready); err != nil || code != 200 || ready.Revision != 4 || ready.Routes != 2 {
		t.Errorf("/readyz = %d %s, want 200 with revision 4 and 2 routes", code, body)
	}
	if code, body := fetch(t, g.gw+"/r"); code != 200 || body != "from backend" {
		t.Errorf("GET /r = %d %q", code, body)
	}
	fetch(t, g.gw+"/nowhere")

	for series, want := range map[string]float64{
		`portico_http_requests_total{group="default",route="r",service="svc",status="200"}`: 1,
		`portico_http_requests_total{group="",route="",service="",status="404"}`:            1,
		`portico_config_revision`:           4,
		`portico_routes`:                    2,
		`portico_config_apply_errors_total`: 0,
	} {
		if got := metricValue(t, g.status, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if code, body := fetch(t, g.status+"/metrics"); code != 200 || !strings.Contains(body, "portico_http_request_duration_seconds_bucket") {
		t.Errorf("/metrics lacks the latency histogram: %d", code)
	}
}

func TestRefusedSnapshotKeepsServing(t *testing.T) { forEachEngine(t, testRefusedSnapshotKeepsServing) }

func testRefusedSnapshotKeepsServing(t *testing.T, engine string) {
	be := backendServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.URL.Path) })
	g := start(t, engine)
	g.publish(t, snapshotOf(t, 1, be, named("r")))

	bad := snapshotOf(t, 2, be, named("r"), named("new"))
	bad.Groups[0].Services[0].Service.Routes[1].Plugins = spec.Plugins{"no-such-plugin": []byte(`{}`)}
	g.send(t, bad)
	g.handled(t, 2)

	if code, body := fetch(t, g.gw+"/r"); code != 200 || body != "/r" {
		t.Errorf("after a refused snapshot GET /r = %d %q", code, body)
	}
	if code, _ := fetch(t, g.gw+"/new"); code != 404 {
		t.Errorf("a route of the refused snapshot answers %d", code)
	}
	if _, body := fetch(t, g.status+"/readyz"); !strings.Contains(body, `"revision":1`) {
		t.Errorf("/readyz = %s, want revision 1", body)
	}
	if got := metricValue(t, g.status, "portico_config_apply_errors_total"); got != 1 {
		t.Errorf("apply errors = %v, want 1", got)
	}
	if got := metricValue(t, g.status, "portico_config_revision"); got != 1 {
		t.Errorf("revision gauge = %v, want 1", got)
	}

	// The next good snapshot applies.
	g.publish(t, snapshotOf(t, 3, be, named("r"), named("new")))
	if code, _ := fetch(t, g.gw+"/new"); code != 200 {
		t.Errorf("after revision 3 GET /new = %d", code)
	}
}

func TestSwapUnderLoad(t *testing.T) { forEachEngine(t, testSwapUnderLoad) }

func testSwapUnderLoad(t *testing.T, engine string) {
	a := backendServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "a") })
	b := backendServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "b") })
	g := start(t, engine)
	g.publish(t, snapshotOf(t, 1, a, named("r")))

	const clients, perClient, swaps, ticksPerSwap = 4, 200, 20, 30
	ticks := make(chan struct{}, clients*perClient)
	type result struct {
		failures []string
		seen     map[string]int
	}
	results := make(chan result, clients)
	for range clients {
		go func() {
			res := result{seen: map[string]int{}}
			cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer cl.CloseIdleConnections()
			for i := range perClient {
				resp, err := cl.Get(g.gw + "/r")
				if err != nil {
					res.failures = append(res.failures, err.Error())
				} else {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						res.failures = append(res.failures, strconv.Itoa(i)+": "+resp.Status+" "+string(body))
					}
					res.seen[string(body)]++
				}
				ticks <- struct{}{}
			}
			results <- res
		}()
	}
	// Swap every ticksPerSwap requests, alternating backends, while the
	// clients run (20×30 = 600 of their 800 requests).
	for i := range swaps {
		for range ticksPerSwap {
			<-ticks
		}
		be := a
		if i%2 == 0 {
			be = b
		}
		g.publish(t, snapshotOf(t, int64(i+2), be, named("r")))
	}
	seen := map[string]int{}
	for range clients {
		res := <-results
		for _, f := range res.failures {
			t.Error(f)
		}
		for k, v := range res.seen {
			seen[k] += v
		}
	}
	if seen["a"] == 0 || seen["b"] == 0 || seen["a"]+seen["b"] != clients*perClient {
		t.Errorf("answers %v, want both backends and %d in all", seen, clients*perClient)
	}
}

func TestCancelDrainsInFlight(t *testing.T) { forEachEngine(t, testCancelDrainsInFlight) }

func testCancelDrainsInFlight(t *testing.T, engine string) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	be := backendServer(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	g := start(t, engine)
	g.publish(t, snapshotOf(t, 1, be, named("slow")))

	type answer struct {
		code int
		body string
		err  error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := http.Get(g.gw + "/slow")
		if err != nil {
			answers <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers <- answer{resp.StatusCode, string(b), err}
	}()
	<-arrived
	g.cancel()

	// Wait (bounded) until the gateway says it is draining, then let the
	// backend answer.
	draining := false
	for range 2000 {
		if code, body := fetch(t, g.status+"/readyz"); code == 503 && strings.Contains(body, "draining") {
			draining = true
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !draining {
		t.Fatal("/readyz never said draining")
	}
	select {
	case <-g.done:
		t.Fatal("Run returned with a request in flight")
	default:
	}
	close(release)

	a := <-answers
	if a.err != nil || a.code != 200 || a.body != "finished" {
		t.Errorf("in-flight request: %d %q %v, want 200 finished", a.code, a.body, a.err)
	}
	select {
	case err := <-g.done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
		g.done <- err // for the cleanup
	case <-time.After(waitLimit):
		t.Fatal("Run did not return after draining")
	}
	if _, err := net.Dial("tcp", strings.TrimPrefix(g.gw, "http://")); err == nil {
		t.Error("the gateway still accepts connections after Run returned")
	}
}

func TestRunErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{name: "no source", opts: Options{Addr: "127.0.0.1:0"}, want: "source"},
		{name: "negative body limit", opts: Options{Addr: "127.0.0.1:0", Source: newChanSource(), Limits: Limits{MaxBodyBytes: -1}}, want: "max body bytes"},
		{name: "unknown engine", opts: Options{Addr: "127.0.0.1:0", Source: newChanSource(), Engine: "turbo"}, want: "engine"},
		{name: "gateway address taken", opts: Options{Addr: taken.Addr().String(), Source: newChanSource()}, want: "gateway address"},
		{name: "status address taken", opts: Options{Addr: "127.0.0.1:0", StatusAddr: taken.Addr().String(), Source: newChanSource()}, want: "status address"},
		{name: "TLS address taken", opts: Options{Addr: "127.0.0.1:0", TLSAddr: taken.Addr().String(), Source: newChanSource()}, want: "TLS address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Logger = slog.New(slog.DiscardHandler)
			err := Run(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run = %v, want an error about %q", err, tc.want)
			}
		})
	}
}

// A source that fails is retried; the gateway keeps its table meanwhile.
type flakySource struct {
	calls chan int
	n     int
	snap  *spec.Snapshot
}

func (s *flakySource) Next(ctx context.Context, _ []string, after int64) (spec.SnapshotUpdate, error) {
	s.n++
	s.calls <- s.n
	if s.n == 1 {
		return spec.SnapshotUpdate{}, errors.New("control plane unreachable")
	}
	if after < s.snap.Revision {
		return spec.SnapshotUpdate{Snapshot: s.snap}, nil
	}
	<-ctx.Done()
	return spec.SnapshotUpdate{}, ctx.Err()
}

func TestSourceErrorIsRetried(t *testing.T) { forEachEngine(t, testSourceErrorIsRetried) }

func testSourceErrorIsRetried(t *testing.T, engine string) {
	be := backendServer(t, func(w http.ResponseWriter, r *http.Request) {})
	src := &flakySource{calls: make(chan int, 16), snap: snapshotOf(t, 9, be, named("r"))}
	applied := make(chan int64, 4)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Addr: "127.0.0.1:0", Source: src, Logger: slog.New(slog.DiscardHandler),
			OnApply: func(rev int64) { applied <- rev }, Engine: engine})
	}()
	select {
	case rev := <-applied:
		if rev != 9 {
			t.Errorf("applied %d, want 9", rev)
		}
	case <-time.After(waitLimit):
		t.Fatal("the snapshot after a source error was never applied")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// TestStatusProfiling: Go's profiles are on the status address only when
// asked for.
func TestStatusProfiling(t *testing.T) {
	var table atomic.Pointer[routing.Table]
	var draining atomic.Bool
	for _, on := range []bool{false, true} {
		srv := httptest.NewServer(statusMux(newMetrics(), &table, &draining, nil, on))
		code, _ := fetch(t, srv.URL+"/debug/pprof/heap?debug=1")
		srv.Close()
		if want := map[bool]int{false: 404, true: 200}[on]; code != want {
			t.Errorf("profiling %v: /debug/pprof/heap = %d, want %d", on, code, want)
		}
	}
}
