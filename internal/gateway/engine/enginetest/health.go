package enginetest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

var healthTests = []conformanceTest{
	{name: "PassiveCheckEjectsFailingNode", fn: testPassiveCheckEjectsFailingNode},
	{name: "NoHealthyNodeAnswers503AtOnce", fn: testNoHealthyNodeAnswers503AtOnce},
	{name: "ActiveCheckTakesNodeOut", fn: testActiveCheckTakesNodeOut},
	{name: "RetryOnStatus", fn: testRetryOnStatus},
	{name: "RetryPerTryTimeout", fn: testRetryPerTryTimeout},
	{name: "RetryTotalTimeout", fn: testRetryTotalTimeout},
	{name: "RetryNonIdempotentOnlyWhenAllowed", fn: testRetryNonIdempotent},
	{name: "RetryConnectionBrokenBeforeAnswer", fn: testRetryBroken},
	{name: "UpgradeFeedsPassiveCheck", fn: testUpgradeFeedsPassiveCheck},
}

// An upgrade (WebSocket) whose node cannot be reached counts for the
// node's passive check like any request: the node is ejected.
func testUpgradeFeedsPassiveCheck(t *testing.T, s *suite) {
	up := spec.Upstream{Nodes: []spec.Node{NodeOf(t, ClosedAddr(t))},
		Checks: &spec.HealthChecks{Passive: &spec.PassiveCheck{Failures: 1, Eject: 3600}}}
	tbl, h := healthTable(t, up, Route("ws", "/ws"))
	g := s.gateway(t, tbl)
	conn, err := net.Dial("tcp", g.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(WaitLimit)) // a hang fails, nothing is timed
	if _, err := io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("upgrade to an unreachable node: %d, want 502", resp.StatusCode)
	}
	if ns := h.Nodes(); len(ns) != 1 || ns[0].State != spec.NodeEjected {
		t.Errorf("node health after a failed upgrade: %+v, want ejected", ns)
	}
}

// A node whose connection breaks after the request went out and before
// any answer (its process died) is as good as unreachable for an
// idempotent request without a body: it goes to another node. A POST is
// not sent twice.
func testRetryBroken(t *testing.T, s *suite) {
	var broke atomic.Int32
	dying := RawBackend(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err == nil {
			broke.Add(1)
		}
		_ = c.Close()
	})
	alive := Backend(t, EchoHandler)
	up := spec.Upstream{Nodes: []spec.Node{NodeOf(t, dying), NodeOf(t, alive.Listener.Addr().String())}}
	g := s.gateway(t, Table(t, "", up, Route("r", "/r")))
	for i := range 4 {
		if resp, body := Get(t, g.URL+"/r"); resp.StatusCode != 200 {
			t.Fatalf("GET %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if broke.Load() == 0 {
		t.Fatal("the dying node never got a request")
	}
	statuses := map[int]int{}
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, g.URL+"/r", strings.NewReader("x"))
		resp, _ := Do(t, req)
		statuses[resp.StatusCode]++
	}
	if statuses[502] != 1 || statuses[200] != 1 {
		t.Errorf("two POSTs answered %v, want one 502 (not resent) and one 200", statuses)
	}
}

// healthTable compiles routes over up with a health registry, as a
// gateway does (checks need one to run).
func healthTable(t *testing.T, up spec.Upstream, routes ...spec.Route) (*routing.Table, *upstream.Health) {
	t.Helper()
	h := upstream.NewHealth()
	t.Cleanup(h.Close)
	snap := &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{
		Group: spec.GatewayGroup{Name: "g"},
		Services: []spec.DeployedService{{ProjectID: "shop", Version: "1.0.0",
			Service: spec.Service{ID: "svc-id", Name: "svc", Routes: routes}, Upstream: up}},
	}}}
	tbl, err := routing.Build(snap, routing.Deps{Health: h})
	if err != nil {
		t.Fatalf("routing.Build: %v", err)
	}
	return tbl, h
}

// counting is a backend answering status, counting its requests.
func counting(t *testing.T, status *atomic.Int32, hits *atomic.Int32) spec.Node {
	srv := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(int(status.Load()))
		_, _ = w.Write([]byte("from backend"))
	})
	return NodeOf(t, srv.Listener.Addr().String())
}

// A node whose answers fail (503) is ejected after the passive check's
// failures, and the requests it failed are retried on the other node:
// every GET succeeds, and the failing node stops getting requests.
func testPassiveCheckEjectsFailingNode(t *testing.T, s *suite) {
	var badStatus, goodStatus, badHits, goodHits atomic.Int32
	badStatus.Store(503)
	goodStatus.Store(200)
	up := spec.Upstream{
		Nodes:       []spec.Node{counting(t, &badStatus, &badHits), counting(t, &goodStatus, &goodHits)},
		Checks:      &spec.HealthChecks{Passive: &spec.PassiveCheck{Failures: 2, Eject: 3600}},
		RetryPolicy: &spec.RetryPolicy{On: []string{"connect", "status"}},
	}
	tbl, h := healthTable(t, up, Route("r", "/r"))
	g := s.gateway(t, tbl)
	for i := range 20 {
		if resp, body := Get(t, g.URL+"/r"); resp.StatusCode != 200 {
			t.Fatalf("GET %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if n := badHits.Load(); n != 2 {
		t.Errorf("the failing node got %d requests, want 2 (then ejected)", n)
	}
	var states []string
	for _, n := range h.Nodes() {
		states = append(states, n.State)
	}
	if strings.Join(states, ",") != "ejected,healthy" && strings.Join(states, ",") != "healthy,ejected" {
		t.Errorf("node states %v, want one ejected and one healthy", states)
	}
}

// With every node out, a request is answered 503 at once, naming why,
// without waiting on any node.
func testNoHealthyNodeAnswers503AtOnce(t *testing.T, s *suite) {
	var status, hits atomic.Int32
	status.Store(500)
	up := spec.Upstream{
		Nodes:  []spec.Node{counting(t, &status, &hits), counting(t, &status, &hits)},
		Checks: &spec.HealthChecks{Passive: &spec.PassiveCheck{Failures: 1, Eject: 3600}},
	}
	tbl, _ := healthTable(t, up, Route("r", "/r"))
	g := s.gateway(t, tbl)
	for range 2 {
		if resp, _ := Get(t, g.URL+"/r"); resp.StatusCode != 500 {
			t.Fatalf("a 500 of the backend answered %d", resp.StatusCode)
		}
	}
	resp, body := Get(t, g.URL+"/r")
	if code := WantError(t, resp, body, http.StatusServiceUnavailable); code != "no_healthy_upstream" {
		t.Errorf("error code %q, want no_healthy_upstream", code)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("backends got %d requests, want 2", n)
	}
}

// An active check that finds a 500 on a node's health path takes it out
// of rotation; the other node serves everything.
func testActiveCheckTakesNodeOut(t *testing.T, s *suite) {
	var sick, sickHits atomic.Int32
	sick.Store(500)
	sickNode := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.WriteHeader(int(sick.Load()))
			return
		}
		sickHits.Add(1)
	})
	well := Backend(t, EchoHandler)
	// A probe's timeout is at most its interval: 0.2 s, and two misses in
	// a row to take a node out, so a busy machine (the race detector, CI)
	// does not take the well node out with one slow probe.
	up := spec.Upstream{
		Nodes: []spec.Node{NodeOf(t, sickNode.Listener.Addr().String()), NodeOf(t, well.Listener.Addr().String())},
		Checks: &spec.HealthChecks{Active: &spec.ActiveCheck{Path: "/healthz", Interval: 0.2,
			HealthyThreshold: 1, UnhealthyThreshold: 2}},
	}
	tbl, h := healthTable(t, up, Route("r", "/r"))
	g := s.gateway(t, tbl)
	sickAddr := sickNode.Listener.Addr().String()
	waitNodes(t, h, func(ns []spec.NodeHealth) bool {
		return len(ns) == 2 && !slices.ContainsFunc(ns, func(n spec.NodeHealth) bool {
			return (n.Node == sickAddr) != (n.State == spec.NodeUnhealthy)
		})
	})
	for i := range 10 {
		if resp, body := Get(t, g.URL+"/r"); resp.StatusCode != 200 {
			t.Fatalf("GET %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if n := sickHits.Load(); n != 0 {
		t.Errorf("the node failing its health check got %d requests", n)
	}
}

func waitNodes(t *testing.T, h *upstream.Health, ok func([]spec.NodeHealth) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok(h.Nodes()) {
		if time.Now().After(deadline) {
			t.Fatalf("node health never as wanted: %+v", h.Nodes())
		}
		time.Sleep(10 * time.Millisecond) // the checker's probes, polled
	}
}

// A status the retry policy lists goes to another node; one it does not
// is answered as it came.
func testRetryOnStatus(t *testing.T, s *suite) {
	var s503, s200, hits503, hits200 atomic.Int32
	s503.Store(503)
	s200.Store(200)
	up := spec.Upstream{Nodes: []spec.Node{counting(t, &s503, &hits503), counting(t, &s200, &hits200)},
		RetryPolicy: &spec.RetryPolicy{On: []string{"status"}, Statuses: []int{503}}}
	g := s.gateway(t, Table(t, "", up, Route("r", "/r")))
	for i := range 6 {
		if resp, body := Get(t, g.URL+"/r"); resp.StatusCode != 200 {
			t.Fatalf("GET %d: %d %s", i, resp.StatusCode, body)
		}
	}
	if hits503.Load() == 0 || hits200.Load() != 6 {
		t.Errorf("hits 503 node %d, 200 node %d; want the 503s retried", hits503.Load(), hits200.Load())
	}
	// Without "status" in the policy, the 503 is the answer.
	plain := spec.Upstream{Nodes: up.Nodes}
	g2 := s.gateway(t, Table(t, "", plain, Route("r", "/r")))
	seen := map[int]int{}
	for range 4 {
		resp, _ := Get(t, g2.URL+"/r")
		seen[resp.StatusCode]++
	}
	if seen[503] == 0 {
		t.Errorf("answers %v: a 503 was retried without a policy", seen)
	}
}

// An attempt that has no answer within the per-try timeout goes to
// another node; the slow node's answer is not waited for.
func testRetryPerTryTimeout(t *testing.T, s *suite) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slow := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	fast := Backend(t, EchoHandler)
	up := spec.Upstream{Nodes: []spec.Node{NodeOf(t, slow.Listener.Addr().String()), NodeOf(t, fast.Listener.Addr().String())},
		RetryPolicy: &spec.RetryPolicy{On: []string{"timeout"}, PerTryTimeout: 0.2}}
	g := s.gateway(t, Table(t, "", up, Route("r", "/r")))
	for i := range 4 {
		if resp, body := Get(t, g.URL+"/r"); resp.StatusCode != 200 {
			t.Fatalf("GET %d: %d %s", i, resp.StatusCode, body)
		}
	}
	timeouts := 0
	for _, k := range g.Obs.UpstreamErrors() {
		if k == "timeout" {
			timeouts++
		}
	}
	if timeouts < 2 {
		t.Errorf("%d timeouts retried over 4 GETs, want ≥ 2: %v", timeouts, g.Obs.UpstreamErrors())
	}
	// A POST is not sent again: its attempt's timeout is the answer.
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, g.URL+"/r", nil)
		if resp, body := Do(t, req); resp.StatusCode == http.StatusGatewayTimeout {
			WantError(t, resp, body, http.StatusGatewayTimeout)
			return
		}
	}
	t.Error("a POST meeting the slow node was not answered 504")
}

// The total timeout bounds every attempt together.
func testRetryTotalTimeout(t *testing.T, s *suite) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	a, b := Backend(t, slow), Backend(t, slow)
	retries := 1
	up := spec.Upstream{Nodes: []spec.Node{NodeOf(t, a.Listener.Addr().String()), NodeOf(t, b.Listener.Addr().String())},
		Retries: &retries, RetryPolicy: &spec.RetryPolicy{On: []string{"timeout"}, PerTryTimeout: 0.3, Timeout: 0.4}}
	g := s.gateway(t, Table(t, "", up, Route("r", "/r")))
	start := time.Now()
	resp, body := Get(t, g.URL+"/r")
	WantError(t, resp, body, http.StatusGatewayTimeout)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("answered after %v: the total timeout was not kept", d)
	}
}

// A POST without a body is retried only when its route allows it.
func testRetryNonIdempotent(t *testing.T, s *suite) {
	var s503, s200, hits503, hits200 atomic.Int32
	s503.Store(503)
	s200.Store(200)
	up := spec.Upstream{Nodes: []spec.Node{counting(t, &s503, &hits503), counting(t, &s200, &hits200)},
		RetryPolicy: &spec.RetryPolicy{On: []string{"status"}}}
	allowed := Route("allowed", "/allowed")
	allowed.Backend = &spec.Backend{RetryNonIdempotent: true}
	g := s.gateway(t, Table(t, "", up, Route("r", "/r"), allowed))
	post := func(path string) map[int]int {
		seen := map[int]int{}
		for range 4 {
			req, _ := http.NewRequest(http.MethodPost, g.URL+path, nil)
			resp, _ := Do(t, req)
			seen[resp.StatusCode]++
		}
		return seen
	}
	if seen := post("/r"); seen[503] == 0 {
		t.Errorf("POSTs answered %v: a POST was retried without the route's leave", seen)
	}
	if seen := post("/allowed"); seen[200] != 4 {
		t.Errorf("POSTs answered %v: want every one retried to 200", seen)
	}
}
