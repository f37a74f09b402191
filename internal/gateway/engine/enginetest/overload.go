package enginetest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

var overloadTests = []conformanceTest{
	{name: "NodeMaxRequestsShedsTheExcess", fn: testNodeMaxRequests},
	{name: "UpstreamIdleTimeoutClosesKeptConnections", fn: testUpstreamIdleTimeout},
}

// A kept-alive connection to a node is closed once it has been unused for
// the upstream's connections.idle_timeout.
func testUpstreamIdleTimeout(t *testing.T, s *suite) {
	closed := make(chan struct{}, 16)
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	be.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- struct{}{}
		}
	}
	be.Start()
	t.Cleanup(be.Close)
	up := UpstreamOf(t, be)
	up.Connections = &spec.UpstreamConnections{IdleTimeout: 0.2}
	g := s.gateway(t, Table(t, "", up, Route("r", "/r")))
	resp, err := http.Get(g.URL + "/r")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	select { // the default (60 s) would keep it past WaitLimit
	case <-closed:
	case <-time.After(WaitLimit):
		t.Fatal("the gateway kept its idle connection to the node past connections.idle_timeout")
	}
}

// A node takes at most the upstream's connections.max_requests requests
// at once from a gateway: one more is answered 503 upstream_overloaded
// at once, never sent; once one is done, the next is served again.
func testNodeMaxRequests(t *testing.T, s *suite) {
	const most = 2
	release := make(chan struct{})
	arrived := make(chan struct{}, 8)
	var mu sync.Mutex
	inFlight, highest := 0, 0
	be := Backend(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		highest = max(highest, inFlight)
		mu.Unlock()
		arrived <- struct{}{}
		if r.URL.Query().Get("hold") != "" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	})
	up := UpstreamOf(t, be)
	up.Connections = &spec.UpstreamConnections{MaxRequests: most}
	g := s.gateway(t, Table(t, "", up, Route("r", "/r")))

	held := make(chan int, most)
	for range most {
		go func() {
			resp, err := http.Get(g.URL + "/r?hold=1")
			if err != nil {
				held <- 0
				return
			}
			resp.Body.Close()
			held <- resp.StatusCode
		}()
		<-arrived
	}
	resp, err := http.Get(g.URL + "/r")
	if err != nil {
		t.Fatal(err)
	}
	var e GatewayError
	_ = json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != "upstream_overloaded" {
		t.Errorf("request past the node's limit: %d %q, want 503 upstream_overloaded", resp.StatusCode, e.Error.Code)
	}
	close(release)
	for range most {
		if code := <-held; code != http.StatusOK {
			t.Errorf("a held request ended %d, want 200", code)
		}
	}
	resp, err = http.Get(g.URL + "/r")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the held requests: %d, want 200", resp.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	if highest > most {
		t.Errorf("the node had %d requests at once, want at most %d", highest, most)
	}
	if kinds := g.Obs.UpstreamErrors(); len(kinds) != 1 || kinds[0] != "overloaded" {
		t.Errorf("upstream errors %v, want [overloaded]", kinds)
	}
}
