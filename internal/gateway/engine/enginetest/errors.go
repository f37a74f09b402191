package enginetest

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

var errorTests = []conformanceTest{
	{name: "GatewayErrors", fn: testGatewayErrors},
	{name: "NoTableAnswers503", fn: testNoTableAnswers503},
	{name: "PanickingFilterAnswers500", fn: testPanickingFilterAnswers500},
}

func testGatewayErrors(t *testing.T, s *suite) {
	be := Backend(t, EchoHandler)
	slow := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		select { // answers only once the gateway gave up
		case <-r.Context().Done():
		case <-time.After(WaitLimit):
		}
	})
	up := UpstreamOf(t, be)
	slowUp := UpstreamOf(t, slow)
	slowUp.Timeout = &spec.Timeout{Read: 0.05}
	dead := spec.Upstream{Nodes: []spec.Node{NodeOf(t, ClosedAddr(t))}}
	drained := spec.Upstream{Nodes: []spec.Node{{Host: "127.0.0.1", Port: 1, Weight: 0}}}

	snap := &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{
		Group: spec.GatewayGroup{Name: "g"},
		Services: []spec.DeployedService{
			{ProjectID: "p", Service: spec.Service{Name: "ok", Routes: []spec.Route{
				{Name: "get", Paths: []string{"/ok"}, Methods: []string{"GET", "HEAD"}},
				{Name: "put", Paths: []string{"/ok"}, Methods: []string{"PUT"}},
				{Name: "limited", Paths: []string{"/limited"}, Plugins: spec.Plugins{"request-size-limit": []byte(`{"max_bytes": 100}`)}},
				{Name: "denied", Paths: []string{"/denied"}, Plugins: spec.Plugins{"ip-restriction": []byte(`{"deny": ["127.0.0.0/8"]}`)}},
				{Name: "allowed", Paths: []string{"/allowed"}, Plugins: spec.Plugins{"ip-restriction": []byte(`{"allow": ["127.0.0.1"]}`)}},
			}}, Upstream: up},
			{ProjectID: "p", Service: spec.Service{Name: "slow", Routes: []spec.Route{{Name: "slow", Paths: []string{"/slow"}}}}, Upstream: slowUp},
			{ProjectID: "p", Service: spec.Service{Name: "dead", Routes: []spec.Route{{Name: "dead", Paths: []string{"/dead"}}}}, Upstream: dead},
			{ProjectID: "p", Service: spec.Service{Name: "empty", Routes: []spec.Route{{Name: "empty", Paths: []string{"/empty"}}}}, Upstream: drained},
		},
	}}}
	g := s.gateway(t, MustBuild(t, snap))

	tests := []struct {
		name       string
		method     string
		path       string
		body       io.Reader
		length     int64 // -1: chunked
		want       int
		wantCode   string
		wantAllow  string
		wantUpKind string // what UpstreamError must have been told
	}{
		{name: "404", method: "GET", path: "/nowhere", want: 404, wantCode: "route_not_found"},
		{name: "405 with Allow", method: "POST", path: "/ok", want: 405, wantCode: "method_not_allowed", wantAllow: "GET, PUT, HEAD"},
		{name: "502 unreachable node", method: "GET", path: "/dead", want: 502, wantCode: "upstream_unavailable", wantUpKind: "connect"},
		{name: "503 no node", method: "GET", path: "/empty", want: 503, wantCode: "no_upstream", wantUpKind: "no_node"},
		{name: "504 read timeout", method: "GET", path: "/slow", want: 504, wantCode: "upstream_timeout", wantUpKind: "timeout"},
		{name: "413 by Content-Length", method: "POST", path: "/limited", body: strings.NewReader(strings.Repeat("x", 101)), length: 101, want: 413},
		{name: "413 chunked", method: "POST", path: "/limited", body: strings.NewReader(strings.Repeat("x", 5000)), length: -1, want: 413},
		{name: "under the limit passes", method: "POST", path: "/limited", body: strings.NewReader(strings.Repeat("x", 100)), length: -1, want: 200},
		{name: "403 ip-restriction", method: "GET", path: "/denied", want: 403, wantCode: "ip_forbidden"},
		{name: "allow list admits", method: "GET", path: "/allowed", want: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(g.Obs.UpstreamErrors())
			req, _ := http.NewRequest(tc.method, g.URL+tc.path, tc.body)
			if tc.body != nil {
				req.ContentLength = tc.length
				if tc.length < 0 {
					req.Body = io.NopCloser(tc.body) // hides the length: chunked
				}
			}
			resp, body := Do(t, req)
			if tc.want == 200 {
				e := DecodeEcho(t, resp, body)
				if tc.body != nil && e.BodyLength != 100 {
					t.Errorf("backend got %d body bytes, want 100", e.BodyLength)
				}
				return
			}
			code := WantError(t, resp, body, tc.want)
			if tc.wantCode != "" && code != tc.wantCode {
				t.Errorf("code %q, want %q", code, tc.wantCode)
			}
			if got := resp.Header.Get("Allow"); got != tc.wantAllow {
				t.Errorf("Allow %q, want %q", got, tc.wantAllow)
			}
			if tc.wantUpKind != "" && !slices.Contains(g.Obs.UpstreamErrors()[before:], tc.wantUpKind) {
				t.Errorf("upstream errors %v, want %q among them", g.Obs.UpstreamErrors()[before:], tc.wantUpKind)
			}
		})
	}

	t.Run("HEAD error has no body", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodHead, g.URL+"/nowhere", nil)
		resp, body := Do(t, req)
		if resp.StatusCode != 404 || len(body) != 0 || resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("HEAD 404: %d, %d body bytes, id %q", resp.StatusCode, len(body), resp.Header.Get("X-Request-Id"))
		}
	})
}

func testNoTableAnswers503(t *testing.T, s *suite) {
	g := s.gateway(t, nil)
	resp, body := Get(t, g.URL+"/anything")
	if code := WantError(t, resp, body, http.StatusServiceUnavailable); code != "not_ready" {
		t.Errorf("code %q, want not_ready", code)
	}
	if ob := g.Obs.Next(t); ob.Status != 503 {
		t.Errorf("observer saw %+v", ob)
	}
	// The same handler serves as soon as a table arrives.
	be := Backend(t, EchoHandler)
	g.Table.Store(Table(t, "", UpstreamOf(t, be), Route("r", "/anything")))
	resp, body = Get(t, g.URL+"/anything")
	DecodeEcho(t, resp, body)
}

// panicky is a test-only filter that panics.
type panicky struct{}

func (panicky) OnRequest(*plugin.Exchange) bool { panic("filter bug") }
func (panicky) OnResponse(*plugin.Exchange)     { panic("response filter bug") }

type respOnly struct{ panicky }

func (r respOnly) OnResponse(ex *plugin.Exchange) { r.panicky.OnResponse(ex) }

func testPanickingFilterAnswers500(t *testing.T, s *suite) {
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("b"), 10))
	})
	tbl := Table(t, "", UpstreamOf(t, be), Route("req", "/req"), Route("resp", "/resp"), Route("fine", "/fine"))
	req := RouteOf(t, tbl, "GET", "/req")
	req.AddRequestFilter(panicky{})
	resp := RouteOf(t, tbl, "GET", "/resp")
	resp.AddResponseFilter(respOnly{})
	g := s.gateway(t, tbl)

	for _, path := range []string{"/req", "/resp", "/req"} {
		r, body := Get(t, g.URL+path)
		if code := WantError(t, r, body, http.StatusInternalServerError); code != "internal_error" {
			t.Errorf("%s: code %q", path, code)
		}
		if ob := g.Obs.Next(t); ob.Status != 500 {
			t.Errorf("%s: observer saw %+v, want 500", path, ob)
		}
	}
	// The server survived and its pooled request state is clean.
	for range 3 {
		r, body := Get(t, g.URL+"/fine")
		if r.StatusCode != 200 || string(body) != "bbbbbbbbbb" {
			t.Fatalf("after panics: %d %q", r.StatusCode, body)
		}
	}
}
