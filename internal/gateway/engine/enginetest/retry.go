package enginetest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

var retryTests = []conformanceTest{
	{name: "RetryOnAnotherNode", fn: testRetryOnAnotherNode},
	{name: "RetriesZeroDisablesRetry", fn: testRetriesZeroDisablesRetry},
	{name: "AllNodesDown", fn: testAllNodesDown},
	{name: "PostAfterBackendClosedIdle", fn: testPostAfterBackendClosedIdle},
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

// testPostAfterBackendClosedIdle: a backend that answers keep-alive and
// then closes the connection (as backends do after their idle timeout)
// must not make the next POST fail: the gateway notices the closed pooled
// connection and sends the request on a fresh one, exactly once.
func testPostAfterBackendClosedIdle(t *testing.T, s *suite) {
	closed := make(chan struct{}, 8)
	var mu sync.Mutex
	var seen []string
	addr := RawBackend(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(req.Body)
		mu.Lock()
		seen = append(seen, req.Method+" "+string(body))
		mu.Unlock()
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		_ = c.Close()
		closed <- struct{}{}
	})
	g := s.gateway(t, Table(t, "", UpstreamAt(t, addr), Route("r", "/r")))
	if resp, body := Get(t, g.URL+"/r"); resp.StatusCode != 200 {
		t.Fatalf("first GET: %d %s", resp.StatusCode, body)
	}
	waitFor(t, closed, "the backend closing its connection")
	for _, method := range []string{http.MethodPost, http.MethodPatch} {
		req, _ := http.NewRequest(method, g.URL+"/r", strings.NewReader("payload"))
		if resp, body := Do(t, req); resp.StatusCode != 200 {
			t.Fatalf("%s after the backend closed the pooled connection: %d %s", method, resp.StatusCode, body)
		}
		waitFor(t, closed, "the backend closing its connection")
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"GET ", "POST payload", "PATCH payload"}; !slices.Equal(seen, want) {
		t.Errorf("backend saw %q, want %q", seen, want)
	}
}
