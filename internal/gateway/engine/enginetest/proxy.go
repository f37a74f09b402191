package enginetest

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/requestid"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
)

var proxyTests = []conformanceTest{
	{name: "ProxyGet", fn: testProxyGet},
	{name: "NilObserver", fn: testNilObserver},
	{name: "RequestID", fn: testRequestID},
	{name: "ForwardedAndHopByHopHeaders", fn: testForwardedAndHopByHopHeaders},
	{name: "UpstreamPath", fn: testUpstreamPath},
	{name: "PassHost", fn: testPassHost},
	{name: "FiltersEditRequestAndResponse", fn: testFiltersEditRequestAndResponse},
	{name: "ObserverSeesStatuses", fn: testObserverSeesStatuses},
}

func testProxyGet(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "yes")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("hello from " + r.URL.Path))
	})
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("hello", "/hello")))
	resp, body := Get(t, g.URL+"/hello")
	if resp.StatusCode != http.StatusCreated || string(body) != "hello from /hello" {
		t.Fatalf("got %d %q, want 201 %q", resp.StatusCode, body, "hello from /hello")
	}
	if resp.Header.Get("X-Backend") != "yes" {
		t.Errorf("backend header lost: %v", resp.Header)
	}
	if ob := g.Obs.Next(t); ob != (Observed{Route: "hello", Status: 201}) {
		t.Errorf("observer saw %+v", ob)
	}
}

func testRequestID(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		// A backend's own id must not reach the client beside the gateway's.
		w.Header().Set("X-Request-Id", "from-backend")
		EchoHandler(w, r)
	})
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("r", "/r")))
	tests := []struct {
		name string
		sent []string // X-Request-Id values the client sends
		keep bool
	}{
		{name: "generated when absent"},
		{name: "kept when valid", sent: []string{"client-id-123"}, keep: true},
		{name: "replaced when it has a space", sent: []string{"bad id"}},
		{name: "replaced when too long", sent: []string{strings.Repeat("x", requestid.MaxLen+1)}},
		{name: "first of two kept", sent: []string{"first-id", "second-id"}, keep: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/r", "/missing"} {
				req, _ := http.NewRequest(http.MethodGet, g.URL+path, nil)
				for _, v := range tc.sent {
					req.Header.Add("X-Request-Id", v)
				}
				resp, body := Do(t, req)
				ids := resp.Header.Values("X-Request-Id")
				if len(ids) != 1 || !requestid.Valid(ids[0]) {
					t.Fatalf("%s: X-Request-Id %q, want one valid id", path, ids)
				}
				if tc.keep && ids[0] != tc.sent[0] {
					t.Errorf("%s: id %q, want the client's %q", path, ids[0], tc.sent[0])
				}
				if !tc.keep && len(tc.sent) > 0 && ids[0] == tc.sent[0] {
					t.Errorf("%s: kept invalid id %q", path, ids[0])
				}
				if path == "/missing" {
					WantError(t, resp, body, http.StatusNotFound)
					continue
				}
				e := DecodeEcho(t, resp, body)
				if got := e.Header.Values("X-Request-Id"); len(got) != 1 || got[0] != ids[0] {
					t.Errorf("backend got X-Request-Id %q, client got %q", got, ids[0])
				}
			}
		})
	}
	// Two requests never share a generated id.
	r1, _ := Get(t, g.URL+"/r")
	r2, _ := Get(t, g.URL+"/r")
	if a, b := r1.Header.Get("X-Request-Id"), r2.Header.Get("X-Request-Id"); a == b {
		t.Errorf("two requests got the same id %q", a)
	}
}

func testForwardedAndHopByHopHeaders(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-Backend-Hop")
		w.Header().Set("X-Backend-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-Backend-End", "1")
		EchoHandler(w, r)
	})
	g := s.gateway(t, Table(t, "", UpstreamOf(t, be), Route("r", "/r")))
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/r?a=1&b=two", nil)
	req.Host = "api.example.com"
	req.Header.Set("Connection", "X-Client-Hop")
	req.Header.Set("X-Client-Hop", "1")
	req.Header.Set("Proxy-Authorization", "Basic Zm9vOmJhcg==")
	req.Header.Set("Te", "gzip")
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("X-End-To-End", "kept")
	resp, body := Do(t, req)
	e := DecodeEcho(t, resp, body)

	got := map[string]string{}
	for _, h := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-End-To-End",
		"X-Client-Hop", "Proxy-Authorization", "Te"} {
		got[h] = strings.Join(e.Header.Values(h), "|")
	}
	want := map[string]string{
		// A gateway behind a load balancer keeps the chain and adds its peer.
		"X-Forwarded-For":     "203.0.113.9, 127.0.0.1",
		"X-Forwarded-Host":    "api.example.com",
		"X-Forwarded-Proto":   "http",
		"X-End-To-End":        "kept",
		"X-Client-Hop":        "",
		"Proxy-Authorization": "",
		"Te":                  "",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers at the backend (-want +got):\n%s", diff)
	}
	if e.Host != "api.example.com" || e.Query != "a=1&b=two" {
		t.Errorf("backend got Host %q query %q", e.Host, e.Query)
	}
	for _, h := range []string{"X-Backend-Hop", "Keep-Alive"} {
		if v := resp.Header.Get(h); v != "" {
			t.Errorf("hop-by-hop response header %s: %q reached the client", h, v)
		}
	}
	if resp.Header.Get("X-Backend-End") != "1" {
		t.Error("end-to-end response header lost")
	}
}

func testUpstreamPath(t *testing.T, s *suite) {
	be := Backend(t, EchoHandler)
	up := UpstreamOf(t, be)
	tbl := Table(t, "/{project}", up,
		Route("pet", "/pets/{id}"),
		Route("files", "/files/*"),
		Route("named"),
		spec.Route{ID: "rw", Name: "rw", Paths: []string{"/v1/users/{id}/*"}, Backend: &spec.Backend{Path: "/internal/{id}/{*}"}},
		spec.Route{ID: "m", Name: "m", Paths: []string{"/as-post"}, Backend: &spec.Backend{Method: "POST"}},
	)
	g := s.gateway(t, tbl)
	tests := []struct {
		name, method, path     string
		wantMethod, wantPath   string
		wantRawPath, wantQuery string
	}{
		{name: "group prefix stripped", path: "/shop/pets/7?x=1", wantPath: "/pets/7", wantQuery: "x=1"},
		{name: "route without paths", path: "/shop/named", wantPath: "/named"},
		{name: "escapes kept through the strip", path: "/shop/files/a%20b%3Fc", wantPath: "/files/a b?c"},
		{name: "dot segments removed before the strip", path: "/shop/files/x/../y", wantPath: "/files/y"},
		{name: "backend path template", path: "/shop/v1/users/42/x/y?q=z", wantPath: "/internal/42/x/y", wantQuery: "q=z"},
		{name: "backend method", path: "/shop/as-post", wantMethod: "POST", wantPath: "/as-post"},
		{name: "method passes", method: "DELETE", path: "/shop/pets/1", wantMethod: "DELETE", wantPath: "/pets/1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req, _ := http.NewRequest(method, g.URL+tc.path, nil)
			resp, body := Do(t, req)
			e := DecodeEcho(t, resp, body)
			wantMethod := tc.wantMethod
			if wantMethod == "" {
				wantMethod = method
			}
			got := []string{e.Method, e.Path, e.RawPath, e.Query}
			want := []string{wantMethod, tc.wantPath, tc.wantRawPath, tc.wantQuery}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("backend saw [method path raw query] (-want +got):\n%s", diff)
			}
		})
	}
}

func testPassHost(t *testing.T, s *suite) {
	be := Backend(t, EchoHandler)
	nodeAddr := be.Listener.Addr().String()
	tests := []struct {
		passHost, upstreamHost string
		want                   string
	}{
		{"", "", "client.example"},
		{"pass", "", "client.example"},
		{"node", "", nodeAddr},
		{"rewrite", "internal.example", "internal.example"},
	}
	for _, tc := range tests {
		t.Run("pass_host="+tc.passHost, func(t *testing.T) {
			up := UpstreamOf(t, be)
			up.PassHost, up.UpstreamHost = tc.passHost, tc.upstreamHost
			g := s.gateway(t, Table(t, "", up, Route("r", "/r")))
			req, _ := http.NewRequest(http.MethodGet, g.URL+"/r", nil)
			req.Host = "client.example"
			resp, body := Do(t, req)
			if e := DecodeEcho(t, resp, body); e.Host != tc.want {
				t.Errorf("backend saw Host %q, want %q", e.Host, tc.want)
			}
		})
	}
}

// respFilter is a test-only response plugin.
type respFilter struct{}

func (respFilter) OnResponse(ex *plugin.Exchange) {
	ex.SetResponseHeader("X-Filter", "saw "+strconv.Itoa(ex.ResponseStatus())+" "+ex.ResponseHeader("X-Backend"))
	ex.DelResponseHeader("X-Secret")
}

// headerFilter is a test-only request plugin that edits the upstream request.
type headerFilter struct{}

func (headerFilter) OnRequest(ex *plugin.Exchange) bool {
	ex.SetUpstreamHeader("X-Added", "by "+ex.Route().RouteName+" for "+ex.PathParam("id"))
	ex.DelUpstreamHeader("X-Remove-Me")
	// Set on the answer before the backend answered (as rate limits and
	// CORS do): it must reach the client beside the backend's headers.
	ex.SetResponseHeader("X-Early", "set before the backend")
	return false
}

func testFiltersEditRequestAndResponse(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "b1")
		w.Header().Set("X-Secret", "s")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(r.Header.Get("X-Added") + "|" + r.Header.Get("X-Remove-Me")))
	})
	tbl := Table(t, "", UpstreamOf(t, be), Route("item", "/items/{id}"))
	route := RouteOf(t, tbl, "GET", "/items/1")
	route.AddRequestFilter(headerFilter{})
	route.AddResponseFilter(respFilter{})
	g := s.gateway(t, tbl)
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/items/9", nil)
	req.Header.Set("X-Remove-Me", "x")
	resp, body := Do(t, req)
	if resp.StatusCode != http.StatusAccepted || string(body) != "by item for 9|" {
		t.Errorf("got %d %q, want 202 %q", resp.StatusCode, body, "by item for 9|")
	}
	if got := resp.Header.Get("X-Filter"); got != "saw 202 b1" {
		t.Errorf("X-Filter = %q, want %q", got, "saw 202 b1")
	}
	if resp.Header.Get("X-Secret") != "" {
		t.Error("response filter could not remove a backend header")
	}
	if got := resp.Header.Get("X-Early"); got != "set before the backend" {
		t.Errorf("X-Early = %q: a header a request filter set on the answer was lost", got)
	}
}

func testObserverSeesStatuses(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		w.WriteHeader(code)
	})
	up := UpstreamOf(t, be)
	tbl := Table(t, "", up, Route("ok", "/ok"), spec.Route{ID: "p", Name: "post_only", Paths: []string{"/p"}, Methods: []string{"POST"}})
	g := s.gateway(t, tbl)
	for _, p := range []string{"/ok?code=200", "/ok?code=503", "/ok?code=302", "/nope", "/p"} {
		Get(t, g.URL+p)
		g.Obs.Next(t)
	}
	want := []Observed{{"ok", 200}, {"ok", 503}, {"ok", 302}, {"", 404}, {"", 405}}
	if diff := cmp.Diff(want, g.Obs.Statuses()); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}

// testNilObserver: an engine configured without an observer serves,
// answers its own errors and never panics.
func testNilObserver(t *testing.T, s *suite) {
	var tp atomic.Pointer[routing.Table]
	tp.Store(Table(t, "", UpstreamOf(t, Backend(t, EchoHandler)), Route("r", "/r")))
	url := s.Start(t, Config{Table: &tp})
	if resp, body := Get(t, url+"/r"); resp.StatusCode != 200 {
		t.Errorf("GET /r: %d %s", resp.StatusCode, body)
	}
	if resp, body := Get(t, url+"/missing"); resp.StatusCode != 404 {
		t.Errorf("GET /missing: %d %s", resp.StatusCode, body)
	}
	if status, _ := RawGet(t, strings.TrimPrefix(url, "http://"), "/r/%zz", ""); status != 400 {
		t.Errorf("a bad path: %d, want 400", status)
	}
}
