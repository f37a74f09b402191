package enginetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
)

// Backend is an httptest upstream on 127.0.0.1, closed at cleanup. Its
// handlers must bound their own waits: Close waits for them.
func Backend(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// NodeOf is an upstream node at addr (host:port) with weight 1.
func NodeOf(t testing.TB, addr string) spec.Node {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return spec.Node{Host: host, Port: p, Weight: 1}
}

// UpstreamOf is an upstream with the given backends as equal nodes.
func UpstreamOf(t testing.TB, servers ...*httptest.Server) spec.Upstream {
	t.Helper()
	u := spec.Upstream{}
	for _, s := range servers {
		u.Nodes = append(u.Nodes, NodeOf(t, s.Listener.Addr().String()))
	}
	return u
}

// UpstreamAt is an upstream with one node at addr.
func UpstreamAt(t testing.TB, addr string) spec.Upstream {
	t.Helper()
	return spec.Upstream{Nodes: []spec.Node{NodeOf(t, addr)}}
}

// Table compiles one service of project "shop" in group "g" with the
// given path prefix.
func Table(t testing.TB, prefix string, up spec.Upstream, routes ...spec.Route) *routing.Table {
	t.Helper()
	snap := &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{
		Group: spec.GatewayGroup{Name: "g", PathPrefix: prefix},
		Services: []spec.DeployedService{{
			ProjectID: "shop", Version: "1.0.0",
			Service:  spec.Service{ID: "svc-id", Name: "svc", Routes: routes},
			Upstream: up,
		}},
	}}}
	return MustBuild(t, snap)
}

// MustBuild compiles snap or fails the test.
func MustBuild(t testing.TB, snap *spec.Snapshot) *routing.Table {
	t.Helper()
	tbl, err := routing.Build(snap, routing.Deps{})
	if err != nil {
		t.Fatalf("routing.Build: %v", err)
	}
	return tbl
}

// Route is a route named name (also its id) on paths.
func Route(name string, paths ...string) spec.Route {
	return spec.Route{ID: name, Name: name, Paths: paths}
}

// RouteOf finds the compiled route serving path, to add test-only filters.
func RouteOf(t testing.TB, tbl *routing.Table, method, path string) *routing.Route {
	t.Helper()
	var ps match.Params
	r, _, ok := tbl.Lookup("", method, path, &ps)
	if !ok {
		t.Fatalf("no route for %s %s", method, path)
	}
	return r
}

// Client is the suite's HTTP client: a whole exchange, body included, is
// bounded by WaitLimit.
var Client = &http.Client{Timeout: WaitLimit}

// Do sends req with Client and returns the response with its body read.
func Do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := Client.Do(req)
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

// Get is Do of a GET.
func Get(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return Do(t, req)
}

// GatewayError is the JSON body of every error the gateway answers itself
// .
type GatewayError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	RequestID string `json:"request_id"`
}

// WantError checks status and the gateway's error shape, and returns the
// error code.
func WantError(t testing.TB, resp *http.Response, body []byte, status int) string {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	return wantErrorShape(t, resp.Header, body)
}

func wantErrorShape(t testing.TB, h http.Header, body []byte) string {
	t.Helper()
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e GatewayError
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Errorf("error body %s lacks code or message", body)
	}
	if id := h.Get("X-Request-Id"); id == "" || e.RequestID != id {
		t.Errorf("request_id %q, X-Request-Id header %q: want equal and set", e.RequestID, id)
	}
	return e.Error.Code
}

// Echo is what EchoHandler answers: the request the backend received.
type Echo struct {
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	RawPath    string      `json:"raw_path"`
	Query      string      `json:"query"`
	Host       string      `json:"host"`
	Header     http.Header `json:"header"`
	BodyLength int64       `json:"body_length"`
	Body       string      `json:"body,omitempty"` // the first 1 KiB
}

// EchoHandler answers what the backend received, as JSON.
func EchoHandler(w http.ResponseWriter, r *http.Request) {
	var head bytes.Buffer
	n, _ := io.Copy(&head, io.LimitReader(r.Body, 1<<10))
	rest, _ := io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(Echo{
		Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, Query: r.URL.RawQuery,
		Host: r.Host, Header: r.Header, BodyLength: n + rest, Body: head.String(),
	})
}

// DecodeEcho checks a 200 and decodes the EchoHandler answer.
func DecodeEcho(t testing.TB, resp *http.Response, body []byte) Echo {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", resp.StatusCode, body)
	}
	var e Echo
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("backend answer %s: %v", body, err)
	}
	return e
}
