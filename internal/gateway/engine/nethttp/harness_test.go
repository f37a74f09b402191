package nethttp

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
)

// waitLimit bounds every wait of these tests so a broken engine fails
// instead of hanging; no test asserts on how long anything took.
const waitLimit = 20 * time.Second

// observed is one Observe call.
type observed struct {
	route  string // "" when no route matched
	status int
}

// recObserver records what the engine reports to metrics.
type recObserver struct {
	mu       sync.Mutex
	seen     []observed
	upErrors []string
	observed chan observed // every Observe, for tests that wait for one
}

func newRecObserver() *recObserver { return &recObserver{observed: make(chan observed, 4096)} }

func (o *recObserver) Observe(rt *routing.Route, status int, _ time.Duration) {
	ob := observed{status: status}
	if rt != nil {
		ob.route = rt.Info.RouteName
	}
	o.mu.Lock()
	o.seen = append(o.seen, ob)
	o.mu.Unlock()
	select {
	case o.observed <- ob:
	default:
	}
}

func (o *recObserver) UpstreamError(_ *routing.Route, kind string) {
	o.mu.Lock()
	o.upErrors = append(o.upErrors, kind)
	o.mu.Unlock()
}

func (o *recObserver) upstreamErrors() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.upErrors...)
}

func (o *recObserver) statuses() []observed {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]observed(nil), o.seen...)
}

// next waits for the next Observe call.
func (o *recObserver) next(t *testing.T) observed {
	t.Helper()
	select {
	case ob := <-o.observed:
		return ob
	case <-time.After(waitLimit):
		t.Fatal("the engine never reported the request to its observer")
		return observed{}
	}
}

// gateway is the engine behind a loopback test server.
type gateway struct {
	table atomic.Pointer[routing.Table]
	obs   *recObserver
	h     *Handler
	srv   *httptest.Server
	URL   string
}

func newGateway(t testing.TB, tbl *routing.Table) *gateway {
	t.Helper()
	g := &gateway{obs: newRecObserver()}
	if tbl != nil {
		g.table.Store(tbl)
	}
	g.h = New(&g.table, g.obs, slog.New(slog.DiscardHandler))
	g.srv = httptest.NewServer(g.h)
	g.URL = g.srv.URL
	t.Cleanup(func() {
		g.srv.Close()
		g.h.CloseIdle()
	})
	return g
}

// backend is an httptest upstream on 127.0.0.1.
func backend(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func nodeOf(t testing.TB, addr string) spec.Node {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return spec.Node{Host: host, Port: p, Weight: 1}
}

// upstreamOf is an upstream with the given backends as equal nodes.
func upstreamOf(t testing.TB, servers ...*httptest.Server) spec.Upstream {
	t.Helper()
	u := spec.Upstream{}
	for _, s := range servers {
		u.Nodes = append(u.Nodes, nodeOf(t, s.Listener.Addr().String()))
	}
	return u
}

// closedAddr is a 127.0.0.1 port nothing listens on.
func closedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// table compiles one service of project "shop" in group "g" with the
// given path prefix.
func table(t testing.TB, prefix string, up spec.Upstream, routes ...spec.Route) *routing.Table {
	t.Helper()
	snap := &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{
		Group: spec.GatewayGroup{Name: "g", PathPrefix: prefix},
		Services: []spec.DeployedService{{
			ProjectID: "shop", Version: "1.0.0",
			Service:  spec.Service{ID: "svc-id", Name: "svc", Routes: routes},
			Upstream: up,
		}},
	}}}
	return mustBuild(t, snap)
}

func mustBuild(t testing.TB, snap *spec.Snapshot) *routing.Table {
	t.Helper()
	tbl, err := routing.Build(snap, routing.Deps{})
	if err != nil {
		t.Fatalf("routing.Build: %v", err)
	}
	return tbl
}

func rt(name string, paths ...string) spec.Route {
	return spec.Route{ID: name, Name: name, Paths: paths}
}

// routeOf finds the compiled route serving path, to add test-only filters.
func routeOf(t testing.TB, tbl *routing.Table, method, path string) *routing.Route {
	t.Helper()
	var ps match.Params
	r, _, ok := tbl.Lookup("", method, path, &ps)
	if !ok {
		t.Fatalf("no route for %s %s", method, path)
	}
	return r
}

// do sends req and returns the response with its body read.
func do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", req.Method, req.URL, err)
	}
	return resp, body
}

func get(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// gatewayError is the JSON body of every error the gateway answers itself.
type gatewayError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

// wantError checks status and the PRODUCT.md §5 error shape, and returns
// the error code.
func wantError(t testing.TB, resp *http.Response, body []byte, status int) string {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e gatewayError
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Errorf("error body %s lacks code or message", body)
	}
	if id := resp.Header.Get("X-Request-Id"); id == "" || e.RequestID != id {
		t.Errorf("request_id %q, X-Request-Id header %q: want equal and set", e.RequestID, id)
	}
	return e.Error.Code
}

// echo answers what the backend received, as JSON.
type echo struct {
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	RawPath    string      `json:"raw_path"`
	Query      string      `json:"query"`
	Host       string      `json:"host"`
	Header     http.Header `json:"header"`
	BodyLength int64       `json:"body_length"`
}

func echoHandler(w http.ResponseWriter, r *http.Request) {
	n, _ := io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(echo{
		Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, Query: r.URL.RawQuery,
		Host: r.Host, Header: r.Header, BodyLength: n,
	})
}

func decodeEcho(t testing.TB, resp *http.Response, body []byte) echo {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", resp.StatusCode, body)
	}
	var e echo
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("backend answer %s: %v", body, err)
	}
	return e
}
