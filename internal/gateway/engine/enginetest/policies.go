package enginetest

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// policyTests drive the traffic plugins through the engine: what a plugin
// asks of the Exchange (answer itself, rewrite the path, Host or query,
// set answer headers before the backend answered) must work the same on
// every engine.
var policyTests = []conformanceTest{
	{name: "PluginMockAnswersWithoutBackend", fn: testPluginMock},
	{name: "PluginProxyRewrite", fn: testPluginProxyRewrite},
	{name: "PluginTransformers", fn: testPluginTransformers},
	{name: "PluginCORS", fn: testPluginCORS},
	{name: "PluginRateLimits", fn: testPluginRateLimits},
	{name: "PluginHeadersOnEveryAnswer", fn: testPluginHeadersOnEveryAnswer},
	{name: "PluginIPRestrictionTrustedProxy", fn: testPluginTrustedProxy},
}

// withPlugins is a route with plugin configurations (name → JSON).
func withPlugins(r spec.Route, plugins map[string]string) spec.Route {
	r.Plugins = spec.Plugins{}
	for name, cfg := range plugins {
		r.Plugins[name] = []byte(cfg)
	}
	return r
}

// countingBackend counts the requests that reached it.
func countingBackend(t testing.TB, n *atomic.Int64, h http.HandlerFunc) spec.Upstream {
	return UpstreamOf(t, Backend(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
}

func testPluginMock(t *testing.T, s *suite) {
	var hits atomic.Int64
	up := countingBackend(t, &hits, EchoHandler)
	g := s.gateway(t, Table(t, "", up,
		withPlugins(Route("mocked", "/mocked"), map[string]string{
			"mock": `{"status": 201, "headers": {"X-Mock": "yes"}, "body": {"id": 7}}`}),
		withPlugins(Route("empty", "/empty"), map[string]string{"mock": `{"status": 204}`})))

	resp, body := Get(t, g.URL+"/mocked")
	if resp.StatusCode != 201 || string(body) != `{"id": 7}` {
		t.Errorf("mock answered %d %q, want 201 {\"id\": 7}", resp.StatusCode, body)
	}
	for k, want := range map[string]string{"X-Mock": "yes", "Content-Type": "application/json"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("a mock answer lacks X-Request-Id")
	}
	req, _ := http.NewRequest(http.MethodHead, g.URL+"/mocked", nil)
	if resp, body := Do(t, req); resp.StatusCode != 201 || len(body) != 0 {
		t.Errorf("HEAD: %d with %d body bytes, want 201 and none", resp.StatusCode, len(body))
	}
	resp, body = Get(t, g.URL+"/empty")
	if resp.StatusCode != 204 || len(body) != 0 || resp.Header.Get("Content-Type") != "" {
		t.Errorf("204 mock: %d %q Content-Type %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the backend was called %d times behind a mock", n)
	}
	if got := g.Obs.Next(t); got.Status != 201 && got.Status != 204 {
		t.Errorf("observed status %d, want the mock's", got.Status)
	}
}

func testPluginProxyRewrite(t *testing.T, s *suite) {
	be := Backend(t, EchoHandler)
	g := s.gateway(t, Table(t, "/gw", UpstreamOf(t, be),
		withPlugins(Route("regex", "/users/{id}/orders"), map[string]string{
			"proxy-rewrite": `{"regex_uri": ["^/users/([0-9]+)/orders$", "/v2/orders/by-user/$1"], "host": "orders.internal",
				"headers": {"set": {"X-Env": "prod"}, "remove": ["Cookie"]}}`}),
		withPlugins(Route("fixed", "/old"), map[string]string{"proxy-rewrite": `{"uri": "/new path"}`})))

	req, _ := http.NewRequest(http.MethodGet, g.URL+"/gw/users/42/orders?page=2", nil)
	req.Header.Set("Cookie", "session=1")
	resp, body := Do(t, req)
	e := DecodeEcho(t, resp, body)
	if e.Path != "/v2/orders/by-user/42" || e.Query != "page=2" {
		t.Errorf("backend got %s?%s, want /v2/orders/by-user/42?page=2 (group prefix stripped before the regex)", e.Path, e.Query)
	}
	if e.Host != "orders.internal" {
		t.Errorf("backend Host %q, want orders.internal", e.Host)
	}
	if e.Header.Get("X-Env") != "prod" || e.Header.Get("Cookie") != "" {
		t.Errorf("backend headers X-Env %q Cookie %q", e.Header.Get("X-Env"), e.Header.Get("Cookie"))
	}
	resp, body = Get(t, g.URL+"/gw/old?x=1")
	e = DecodeEcho(t, resp, body)
	if e.Path != "/new path" || e.RawPath != "" && e.RawPath != "/new%20path" || e.Query != "x=1" {
		t.Errorf("fixed uri: backend got path %q raw %q query %q", e.Path, e.RawPath, e.Query)
	}
}

func testPluginTransformers(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Powered-By", "php")
		w.Header().Set("Server", "backend")
		EchoHandler(w, r)
	})
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be),
		withPlugins(Route("t", "/t"), map[string]string{
			"request-transformer":  `{"headers": {"add": {"X-Tenant": "default"}, "remove": ["X-Debug"]}, "query": {"rename": {"q": "search"}, "remove": ["debug"]}}`,
			"response-transformer": `{"headers": {"set": {"Server": "portico"}, "remove": ["X-Powered-By"], "add": {"X-Frame-Options": "DENY"}}}`,
		})))
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/t?q=go+lang&debug=1&page=2", nil)
	req.Header.Set("X-Debug", "1")
	resp, body := Do(t, req)
	e := DecodeEcho(t, resp, body)
	if e.Query != "search=go+lang&page=2" {
		t.Errorf("backend query %q, want search=go+lang&page=2", e.Query)
	}
	if e.Header.Get("X-Tenant") != "default" || e.Header.Get("X-Debug") != "" {
		t.Errorf("backend headers X-Tenant %q X-Debug %q", e.Header.Get("X-Tenant"), e.Header.Get("X-Debug"))
	}
	for k, want := range map[string]string{"Server": "portico", "X-Powered-By": "", "X-Frame-Options": "DENY"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("answer %s = %q, want %q", k, got, want)
		}
	}
}

func testPluginCORS(t *testing.T, s *suite) {
	var hits atomic.Int64
	up := countingBackend(t, &hits, func(w http.ResponseWriter, r *http.Request) {
		// A backend with its own CORS idea: the gateway's must win.
		w.Header().Set("Access-Control-Allow-Origin", "https://backend.example")
		w.Header().Set("Vary", "Accept-Encoding")
		w.WriteHeader(http.StatusOK)
	})
	g := s.gateway(t, Table(t, "", up,
		withPlugins(Route("c", "/c"), map[string]string{
			"cors":        `{"allow_origins": ["https://app.example"], "allow_credentials": true, "expose_headers": ["X-Total"]}`,
			"limit-count": `{"count": 1000, "time_window": 60, "key": "route"}`,
		})))

	pre, _ := http.NewRequest(http.MethodOptions, g.URL+"/c", nil)
	pre.Header.Set("Origin", "https://app.example")
	pre.Header.Set("Access-Control-Request-Method", "PUT")
	pre.Header.Set("Access-Control-Request-Headers", "authorization")
	resp, body := Do(t, pre)
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		t.Fatalf("preflight: %d %q, want 204", resp.StatusCode, body)
	}
	for k, want := range map[string]string{"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Headers": "authorization", "Access-Control-Max-Age": "5"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("preflight %s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") {
		t.Errorf("preflight Allow-Methods %q", resp.Header.Get("Access-Control-Allow-Methods"))
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the preflight reached the backend (%d)", n)
	}

	req, _ := http.NewRequest(http.MethodGet, g.URL+"/c", nil)
	req.Header.Set("Origin", "https://app.example")
	resp, _ = Do(t, req)
	if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://app.example" {
		t.Errorf("Access-Control-Allow-Origin %q, want only the gateway's", got)
	}
	if got := resp.Header.Get("Vary"); got != "Accept-Encoding, Origin" {
		t.Errorf("Vary %q, want the backend's plus Origin", got)
	}
	if got := resp.Header.Get("Access-Control-Expose-Headers"); got != "X-Total" {
		t.Errorf("Expose-Headers %q", got)
	}
	if resp.Header.Get("X-RateLimit-Limit") != "1000" {
		t.Errorf("X-RateLimit-Limit %q beside CORS headers", resp.Header.Get("X-RateLimit-Limit"))
	}
}

func testPluginRateLimits(t *testing.T, s *suite) {
	be := Backend(t, EchoHandler)
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be),
		withPlugins(Route("count", "/count"), map[string]string{"limit-count": `{"count": 2, "time_window": 3600, "key": "route"}`}),
		withPlugins(Route("req", "/req"), map[string]string{"limit-req": `{"rate": 0.01, "burst": 1, "key": "remote_addr", "nodelay": true}`})))
	for _, path := range []string{"/count", "/req"} {
		t.Run(path, func(t *testing.T) {
			for i := range 2 {
				resp, body := Get(t, g.URL+path)
				if resp.StatusCode != 200 {
					t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, body)
				}
				if path == "/count" && resp.Header.Get("X-RateLimit-Remaining") != []string{"1", "0"}[i] {
					t.Errorf("request %d: X-RateLimit-Remaining %q", i+1, resp.Header.Get("X-RateLimit-Remaining"))
				}
			}
			resp, body := Get(t, g.URL+path)
			if code := WantError(t, resp, body, http.StatusTooManyRequests); code != "rate_limited" {
				t.Errorf("code %q", code)
			}
			for _, h := range []string{"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("429 without %s", h)
				}
			}
		})
	}
}

// testPluginHeadersOnEveryAnswer: the headers a plugin set before the
// backend answered are on the answer, whoever makes it — the backend, or
// the gateway when the backend cannot be reached — and a count of several
// digits is written whole each time.
func testPluginHeadersOnEveryAnswer(t *testing.T, s *suite) {
	limit := map[string]string{"limit-count": `{"count": 100000, "time_window": 3600, "key": "route"}`}
	up := s.gateway(t, Table(t, "", UpstreamOf(t, Backend(t, EchoHandler)), withPlugins(Route("up", "/up"), limit)))
	down := s.gateway(t, Table(t, "", UpstreamAt(t, ClosedAddr(t)), withPlugins(Route("down", "/down"), limit)))
	for i, want := range []string{"99999", "99998"} {
		resp, body := Get(t, up.URL+"/up")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, body)
		}
		if got := resp.Header.Get("X-RateLimit-Remaining"); got != want {
			t.Errorf("request %d: X-RateLimit-Remaining %q, want %q", i+1, got, want)
		}
		if got := resp.Header.Get("X-RateLimit-Limit"); got != "100000" {
			t.Errorf("request %d: X-RateLimit-Limit %q", i+1, got)
		}
	}
	resp, body := Get(t, down.URL+"/down")
	if code := WantError(t, resp, body, http.StatusBadGateway); code != "upstream_unavailable" {
		t.Errorf("code %q", code)
	}
	if got := resp.Header.Get("X-RateLimit-Remaining"); got != "99999" {
		t.Errorf("502: X-RateLimit-Remaining %q, want 99999", got)
	}
}

func testPluginTrustedProxy(t *testing.T, s *suite) {
	be := Backend(t, EchoHandler)
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be),
		withPlugins(Route("behind", "/behind"), map[string]string{
			"ip-restriction": `{"allow": ["203.0.113.0/24"], "trusted_proxies": ["127.0.0.0/8"]}`}),
		withPlugins(Route("direct", "/direct"), map[string]string{
			"ip-restriction": `{"allow": ["203.0.113.0/24"]}`})))
	tests := []struct {
		path string
		xff  []string
		want int
	}{
		{"/behind", []string{"203.0.113.5"}, 200},
		{"/behind", []string{"203.0.113.5, 198.51.100.1"}, 403}, // the proxy saw 198.51.100.1
		{"/behind", []string{"203.0.113.5", "198.51.100.1"}, 403},
		{"/behind", nil, 403},                     // the proxy itself is not allowed
		{"/direct", []string{"203.0.113.5"}, 403}, // no trusted proxy: the header means nothing
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(http.MethodGet, g.URL+tc.path, nil)
		for _, v := range tc.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		resp, body := Do(t, req)
		if resp.StatusCode != tc.want {
			t.Errorf("%s with X-Forwarded-For %q: %d %s, want %d", tc.path, tc.xff, resp.StatusCode, body, tc.want)
		}
	}
}
