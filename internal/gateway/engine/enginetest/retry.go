package enginetest

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

var retryTests = []conformanceTest{
	{name: "RetryOnAnotherNode", fn: testRetryOnAnotherNode},
	{name: "RetriesZeroDisablesRetry", fn: testRetriesZeroDisablesRetry},
	{name: "AllNodesDown", fn: testAllNodesDown},
}

func testRetryOnAnotherNode(t *testing.T, s *suite) {
	var posts atomic.Int32
	alive := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		EchoHandler(w, r)
	})
	up := spec.Upstream{Nodes: []spec.Node{NodeOf(t, alive.Listener.Addr().String()), NodeOf(t, ClosedAddr(t))}}
	g := s.gateway(t, Table(t, "", up, Route("r", "/r")))

	// The nodes alternate, so of two requests at least one meets the dead
	// node first; every GET must still succeed.
	for i := range 4 {
		resp, body := Get(t, g.URL+"/r")
		if resp.StatusCode != 200 {
			t.Fatalf("GET %d: %d %s", i, resp.StatusCode, body)
		}
	}
	connectErrors := 0
	for _, k := range g.Obs.UpstreamErrors() {
		if k == "connect" {
			connectErrors++
		}
	}
	if connectErrors < 2 {
		t.Errorf("%d connect errors over 4 GETs, want ≥ 2: the dead node was never tried", connectErrors)
	}

	// A POST with a body is never sent twice: one of two consecutive POSTs
	// meets the dead node and answers 502, and the live node gets one.
	statuses := map[int]int{}
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, g.URL+"/r", strings.NewReader("payload"))
		resp, _ := Do(t, req)
		statuses[resp.StatusCode]++
	}
	if statuses[200] != 1 || statuses[502] != 1 {
		t.Errorf("two POSTs answered %v, want one 200 and one 502", statuses)
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("backend got %d POSTs, want 1", n)
	}
}

func testRetriesZeroDisablesRetry(t *testing.T, s *suite) {
	alive := Backend(t, EchoHandler)
	zero := 0
	up := spec.Upstream{Retries: &zero, Nodes: []spec.Node{NodeOf(t, alive.Listener.Addr().String()), NodeOf(t, ClosedAddr(t))}}
	g := s.gateway(t, Table(t, "", up, Route("r", "/r")))
	statuses := map[int]int{}
	for range 2 {
		resp, _ := Get(t, g.URL+"/r")
		statuses[resp.StatusCode]++
	}
	if statuses[200] != 1 || statuses[502] != 1 {
		t.Errorf("two GETs answered %v, want one 200 and one 502", statuses)
	}
}

func testAllNodesDown(t *testing.T, s *suite) {
	up := spec.Upstream{Nodes: []spec.Node{NodeOf(t, ClosedAddr(t)), NodeOf(t, ClosedAddr(t)), NodeOf(t, ClosedAddr(t))}}
	retries := 5
	up.Retries = &retries
	g := s.gateway(t, Table(t, "", up, Route("r", "/r")))
	resp, body := Get(t, g.URL+"/r")
	WantError(t, resp, body, http.StatusBadGateway)
	// Bounded by the node count: each node tried once.
	if n := len(g.Obs.UpstreamErrors()); n != 3 {
		t.Errorf("%d upstream errors, want 3 (one per node): %v", n, g.Obs.UpstreamErrors())
	}
}
