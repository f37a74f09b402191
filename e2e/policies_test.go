package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// upstreamSaw is what echoBackend answers: the request it received.
type upstreamSaw struct {
	Path, Query, Host string
	Header            http.Header
}

// policyBackend is an upstream that answers the request it saw, as JSON,
// and counts its requests.
func policyBackend(t *testing.T, hits *atomic.Int64) int {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Powered-By", "echo")
		w.Header().Set("Access-Control-Allow-Origin", "https://backend.example")
		_ = json.NewEncoder(w).Encode(upstreamSaw{Path: r.URL.Path, Query: r.URL.RawQuery, Host: r.Host, Header: r.Header})
	}), ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// send sends one request to the gateway with extra headers.
func send(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestPolicyPlugins publishes one service whose routes carry every
// traffic plugin and checks each through the real binary's gateway.
func TestPolicyPlugins(t *testing.T) {
	var hits atomic.Int64
	port := policyBackend(t, &hits)
	s := startServer(t, t.TempDir())

	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/default/services", `{"name":"policies","protocols":["http"]}`, 201, &svc)
	routes := "/api/v1/projects/default/services/" + svc.ID + "/routes"

	// A bad configuration is refused when saved, naming plugin and option.
	b := s.do(t, "POST", routes, `{"name":"bad","paths":["/bad"],"plugins":{"limit-req":{"rate":-1}}}`, 400, nil)
	if !strings.Contains(string(b), "plugins.limit-req") || !strings.Contains(string(b), "rate") {
		t.Errorf("bad limit-req answer %s, want the field plugins.limit-req and the option rate", b)
	}

	for _, r := range []string{
		`{"name":"mocked","paths":["/mock"],"plugins":{"mock":{"status":201,"headers":{"X-Mock":"1"},"body":{"id":7,"name":"draft"}}}}`,
		`{"name":"rewritten","paths":["/users/{id}/orders"],"plugins":{"proxy-rewrite":{"regex_uri":["^/users/([0-9]+)/orders$","/v2/orders/by-user/$1"],"host":"orders.internal","headers":{"set":{"X-Env":"e2e"}}}}}`,
		`{"name":"transformed","paths":["/search"],"plugins":{"request-transformer":{"headers":{"add":{"X-Tenant":"t1"},"remove":["X-Debug"]},"query":{"rename":{"q":"search"}}},"response-transformer":{"headers":{"set":{"X-Frame-Options":"DENY"},"remove":["X-Powered-By"]}}}}`,
		`{"name":"browser","paths":["/cors"],"plugins":{"cors":{"allow_origins":["https://app.example"],"max_age":600}}}`,
		`{"name":"leaky","paths":["/leaky"],"plugins":{"limit-req":{"rate":0.01,"burst":2,"key":"remote_addr","nodelay":true}}}`,
		`{"name":"counted","paths":["/counted"],"plugins":{"limit-count":{"count":2,"time_window":3600,"key":"header:X-Tenant"}}}`,
		`{"name":"proxied","paths":["/proxied"],"plugins":{"ip-restriction":{"allow":["203.0.113.0/24"],"trusted_proxies":["127.0.0.1"]}}}`,
		`{"name":"sized","paths":["/sized"],"plugins":{"request-size-limit":{"max_bytes":10}}}`,
	} {
		s.do(t, "POST", routes, r, 201, nil)
	}
	s.do(t, "POST", "/api/v1/projects/default/services/"+svc.ID+"/publish",
		`{"group":"default","version":"1.0.0","upstream":`+nodes(port)+`}`, 201, nil)
	waitFor(t, s.Gateway+"/search", 5*time.Second, func(st int, _ []byte) bool { return st == 200 })
	gw := s.Gateway

	t.Run("mock", func(t *testing.T) {
		before := hits.Load()
		resp, body := send(t, "GET", gw+"/mock", nil)
		if resp.StatusCode != 201 || string(body) != `{"id":7,"name":"draft"}` || resp.Header.Get("X-Mock") != "1" ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("mock: %d %s %v", resp.StatusCode, body, resp.Header)
		}
		if n := hits.Load() - before; n != 0 {
			t.Errorf("a mock route called the upstream %d times", n)
		}
	})
	t.Run("proxy-rewrite", func(t *testing.T) {
		resp, body := send(t, "GET", gw+"/users/42/orders?page=2", nil)
		var e upstreamSaw
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if e.Path != "/v2/orders/by-user/42" || e.Query != "page=2" || e.Host != "orders.internal" || e.Header.Get("X-Env") != "e2e" {
			t.Errorf("backend saw %+v", e)
		}
	})
	t.Run("transformers", func(t *testing.T) {
		resp, body := send(t, "GET", gw+"/search?q=gateway&page=1", map[string]string{"X-Debug": "1"})
		var e upstreamSaw
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		if e.Query != "search=gateway&page=1" || e.Header.Get("X-Tenant") != "t1" || e.Header.Get("X-Debug") != "" {
			t.Errorf("backend saw query %q headers %v", e.Query, e.Header)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Powered-By") != "" {
			t.Errorf("answer headers %v", resp.Header)
		}
	})
	t.Run("cors", func(t *testing.T) {
		before := hits.Load()
		resp, _ := send(t, "OPTIONS", gw+"/cors", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
			resp.Header.Get("Access-Control-Max-Age") != "600" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
		if n := hits.Load() - before; n != 0 {
			t.Errorf("the preflight reached the upstream")
		}
		resp, _ = send(t, "GET", gw+"/cors", map[string]string{"Origin": "https://app.example"})
		if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://app.example" {
			t.Errorf("Access-Control-Allow-Origin %q, want the gateway's only", got)
		}
		resp, _ = send(t, "OPTIONS", gw+"/cors", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
		if resp.StatusCode != 403 {
			t.Errorf("preflight of an unlisted origin: %d, want 403", resp.StatusCode)
		}
	})
	t.Run("limit-req", func(t *testing.T) {
		var got []int
		for range 4 {
			resp, _ := send(t, "GET", gw+"/leaky", nil)
			got = append(got, resp.StatusCode)
			if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
		if fmt.Sprint(got) != "[200 200 200 429]" {
			t.Errorf("statuses %v, want 1 at the rate + 2 of burst, then 429", got)
		}
	})
	t.Run("limit-count", func(t *testing.T) {
		tenant := map[string]string{"X-Tenant": "a"}
		for i := range 2 {
			if resp, _ := send(t, "GET", gw+"/counted", tenant); resp.StatusCode != 200 {
				t.Fatalf("request %d: %d", i+1, resp.StatusCode)
			}
		}
		resp, body := send(t, "GET", gw+"/counted", tenant)
		if resp.StatusCode != 429 || !strings.Contains(string(body), `"rate_limited"`) || !strings.Contains(string(body), `"request_id"`) {
			t.Errorf("third: %d %s", resp.StatusCode, body)
		}
		for _, h := range []string{"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-Request-Id"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("429 without %s", h)
			}
		}
		if resp, _ := send(t, "GET", gw+"/counted", map[string]string{"X-Tenant": "b"}); resp.StatusCode != 200 {
			t.Errorf("another tenant: %d, want its own quota", resp.StatusCode)
		}
	})
	t.Run("ip-restriction", func(t *testing.T) {
		for xff, want := range map[string]int{"203.0.113.9": 200, "203.0.113.9, 198.51.100.1": 403, "": 403} {
			h := map[string]string{}
			if xff != "" {
				h["X-Forwarded-For"] = xff
			}
			if resp, body := send(t, "GET", gw+"/proxied", h); resp.StatusCode != want {
				t.Errorf("X-Forwarded-For %q: %d %s, want %d", xff, resp.StatusCode, body, want)
			}
		}
	})
	t.Run("request-size-limit", func(t *testing.T) {
		req, _ := http.NewRequest("POST", gw+"/sized", strings.NewReader(strings.Repeat("x", 11)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Errorf("11 bytes over a 10-byte limit: %d, want 413", resp.StatusCode)
		}
	})
}
