package enginetest

import (
	"net/http"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

var canaryTests = []conformanceTest{
	{name: "CanaryWeightSplit", fn: testCanaryWeightSplit},
	{name: "CanaryHeaderRule", fn: testCanaryHeaderRule},
	{name: "CanaryRetryStaysOnTarget", fn: testCanaryRetryStaysOnTarget},
}

// sideBackend answers which side it is and the Host it was sent.
func sideBackend(t testing.TB, side string) spec.Upstream {
	t.Helper()
	s := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Side", side)
		w.Header().Set("X-Seen-Host", r.Host)
		_, _ = w.Write([]byte(side))
	})
	return UpstreamOf(t, s)
}

// canaryGateway serves route "r" of a service on stable with canary c.
func (s *suite) canaryGateway(t *testing.T, stable spec.Upstream, c spec.CanaryRoute) *Gateway {
	t.Helper()
	snap := &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{
		Group: spec.GatewayGroup{Name: "g"},
		Services: []spec.DeployedService{{
			ProjectID: "shop", Version: "1.0.0",
			Service:  spec.Service{ID: "svc-id", Name: "svc", Routes: []spec.Route{Route("r", "/r"), Route("other", "/other")}},
			Upstream: stable,
			Canary:   &c,
		}},
	}}}
	return s.gateway(t, MustBuild(t, snap))
}

func testCanaryWeightSplit(t *testing.T, s *suite) {
	target := sideBackend(t, "canary")
	target.PassHost, target.UpstreamHost = "rewrite", "canary.internal"
	g := s.canaryGateway(t, sideBackend(t, "stable"), spec.CanaryRoute{ID: "c1", Weight: 50, Routes: []string{"r"}, Target: target})
	const n = 400
	seen := map[string]int{}
	for i := range n {
		resp, body := Get(t, g.URL+"/r")
		if resp.StatusCode != 200 {
			t.Fatalf("GET %d: %d %s", i, resp.StatusCode, body)
		}
		seen[string(body)]++
		if string(body) == "canary" && resp.Header.Get("X-Seen-Host") != "canary.internal" {
			t.Fatalf("the target was sent Host %q, want its own pass_host rewrite", resp.Header.Get("X-Seen-Host"))
		}
		if string(body) == "stable" && resp.Header.Get("X-Seen-Host") == "canary.internal" {
			t.Fatal("the stable side was sent the target's Host")
		}
	}
	if seen["stable"]+seen["canary"] != n || seen["canary"] < n*40/100 || seen["canary"] > n*60/100 {
		t.Errorf("sides seen %v over %d requests, want about half each", seen, n)
	}
	rt := RouteOf(t, g.Table.Load(), http.MethodGet, "/r")
	id, split, ok := rt.Canary()
	if !ok || id != "c1" {
		t.Fatalf("route r: canary %q, %v", id, ok)
	}
	side := func(target bool) uint64 { return split.Side(target, time.Minute, time.Now()).Requests }
	// The figures are recorded after the answer was sent: wait for them.
	if !eventually(func() bool { return side(false)+side(true) == n }) {
		t.Fatalf("route figures: %d + %d requests recorded, want %d", side(false), side(true), n)
	}
	if got := side(true); got != uint64(seen["canary"]) {
		t.Errorf("route figures: %d target requests, the client saw %d", got, seen["canary"])
	}
	// A route outside the canary's routes never goes to the target.
	for range 20 {
		if _, body := Get(t, g.URL+"/other"); string(body) != "stable" {
			t.Fatalf("route other answered by %q, want stable", body)
		}
	}
}

func testCanaryHeaderRule(t *testing.T, s *suite) {
	g := s.canaryGateway(t, sideBackend(t, "stable"), spec.CanaryRoute{Weight: 0, Target: sideBackend(t, "canary"),
		Rules: []spec.CanaryRule{{Kind: "header", Name: "X-Canary", Value: "on"}}})
	for i := range 40 {
		req, _ := http.NewRequest(http.MethodGet, g.URL+"/r", nil)
		want := "stable"
		if i%2 == 0 {
			req.Header.Set("X-Canary", "on")
			want = "canary"
		}
		resp, body := Do(t, req)
		if resp.StatusCode != 200 || string(body) != want {
			t.Fatalf("request %d: %d %q, want %s", i, resp.StatusCode, body, want)
		}
	}
}

// A request sent to the target retries on the target's other node, never
// on the stable side.
func testCanaryRetryStaysOnTarget(t *testing.T, s *suite) {
	target := sideBackend(t, "canary")
	target.Nodes = append(target.Nodes, NodeOf(t, ClosedAddr(t)))
	g := s.canaryGateway(t, sideBackend(t, "stable"), spec.CanaryRoute{Weight: 100, Target: target})
	for i := range 6 {
		resp, body := Get(t, g.URL+"/r")
		if resp.StatusCode != 200 || string(body) != "canary" {
			t.Fatalf("GET %d: %d %q, want 200 from the target", i, resp.StatusCode, body)
		}
	}
}

// eventually polls cond until it holds or WaitLimit passed.
func eventually(cond func() bool) bool {
	for deadline := time.Now().Add(WaitLimit); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
