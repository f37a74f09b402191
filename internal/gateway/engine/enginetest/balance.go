package enginetest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

var balanceTests = []conformanceTest{
	{name: "ConsistentHashByHeader", fn: testConsistentHash},
	{name: "LeastConnPrefersTheFastNode", fn: testLeastConn},
	{name: "EWMAPrefersTheFastNode", fn: testEWMA},
}

// namedBackend answers its name after delay.
func namedBackend(t *testing.T, name string, delay time.Duration) spec.Node {
	t.Helper()
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			time.Sleep(delay) // the slow node of least_conn's test, not synchronisation
		}
		_, _ = io.WriteString(w, name)
	}))
	t.Cleanup(be.Close)
	host, port, _ := net.SplitHostPort(be.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return spec.Node{Host: host, Port: p, Weight: 1}
}

func balancedGateway(t *testing.T, s *suite, lb, hashOn string, nodes ...spec.Node) string {
	t.Helper()
	up := spec.Upstream{LoadBalancer: lb, HashOn: hashOn, Nodes: nodes}
	snap := &spec.Snapshot{Revision: 1, Groups: []spec.GroupSnapshot{{
		Group: spec.GatewayGroup{Name: "g"},
		Services: []spec.DeployedService{{ProjectID: "shop", Version: "1.0.0",
			Service: spec.Service{ID: "svc-id", Name: "svc", Routes: []spec.Route{Route("r", "/r")}}, Upstream: up}},
	}}}
	return s.gateway(t, MustBuild(t, snap)).URL + "/r"
}

// testConsistentHash: chash by a header keeps each key on one node and
// spreads the keys over the nodes.
func testConsistentHash(t *testing.T, s *suite) {
	url := balancedGateway(t, s, "chash", "header:X-User",
		namedBackend(t, "a", 0), namedBackend(t, "b", 0), namedBackend(t, "c", 0))
	nodes := map[string]bool{}
	for i := range 30 {
		key := fmt.Sprintf("user-%d", i)
		var first string
		for range 3 {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("X-User", key)
			resp, body := Do(t, req)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", key, resp.StatusCode, body)
			}
			if first == "" {
				first = string(body)
			} else if string(body) != first {
				t.Fatalf("%s went to %s, then %s", key, first, body)
			}
		}
		nodes[first] = true
	}
	if len(nodes) != 3 {
		t.Errorf("30 keys went to %d node(s), want all 3", len(nodes))
	}
}

// testLeastConn: with requests in flight, a node that answers at once
// gets more of them than one that takes 50 ms.
func testLeastConn(t *testing.T, s *suite) {
	url := balancedGateway(t, s, "least_conn", "", namedBackend(t, "fast", 0), namedBackend(t, "slow", 50*time.Millisecond))
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				resp, body := Get(t, url)
				if resp.StatusCode != 200 {
					t.Errorf("%d %s", resp.StatusCode, body)
					return
				}
				mu.Lock()
				got[string(body)]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got["fast"] <= 2*got["slow"] {
		t.Errorf("fast node %d requests, slow node %d: least_conn should favour the fast one", got["fast"], got["slow"])
	}
}

// testEWMA: one request at a time (so least_conn could not tell the nodes
// apart), ewma learns which node answers faster and sends it the rest.
func testEWMA(t *testing.T, s *suite) {
	url := balancedGateway(t, s, "ewma", "", namedBackend(t, "fast", 0), namedBackend(t, "slow", 30*time.Millisecond))
	got := map[string]int{}
	for range 30 {
		resp, body := Get(t, url)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		got[string(body)]++
	}
	if got["slow"] > 3 {
		t.Errorf("fast node %d requests, slow node %d of 30 one at a time: ewma should learn the fast one", got["fast"], got["slow"])
	}
}
