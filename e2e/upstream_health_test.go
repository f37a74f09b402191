package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// node is a backend on a port of its own that can be killed and started
// again on the same port, answering its name; /healthz answers health.
type node struct {
	name   string
	port   int
	health atomic.Int32 // the status of /healthz
	status atomic.Int32 // the status of other paths
	delay  time.Duration
	hits   atomic.Int64 // requests other than /healthz
	mu     sync.Mutex
	srv    *http.Server
}

func startNode(t *testing.T, name string, delay time.Duration) *node {
	t.Helper()
	n := &node{name: name, delay: delay}
	n.health.Store(200)
	n.status.Store(200)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n.port = ln.Addr().(*net.TCPAddr).Port
	n.serve(ln)
	t.Cleanup(n.kill)
	return n
}

func (n *node) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.WriteHeader(int(n.health.Load()))
			return
		}
		n.hits.Add(1)
		if n.delay > 0 {
			select {
			case <-time.After(n.delay):
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(int(n.status.Load()))
		_, _ = io.WriteString(w, n.name)
	}), ReadHeaderTimeout: 5 * time.Second}
	n.mu.Lock()
	n.srv = srv
	n.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

// kill stops the node at once: its listener and every connection close,
// as when its process dies.
func (n *node) kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv != nil {
		_ = n.srv.Close()
		n.srv = nil
	}
}

// revive starts the node again on its port.
func (n *node) revive(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 100 { // the port was just released
		if ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", n.port)); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("revive %s: %v", n.name, err)
	}
	n.serve(ln)
}

func nodesJSON(ns ...*node) string {
	var parts []string
	for _, n := range ns {
		parts = append(parts, fmt.Sprintf(`{"host":"127.0.0.1","port":%d,"weight":100}`, n.port))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// instanceHealth is the embedded gateway's view of one node of service,
// as the admin API shows it.
func (s *server) nodeState(t *testing.T, service string, n *node) string {
	t.Helper()
	var list struct {
		Items []struct {
			Embedded       bool
			UpstreamHealth []struct{ Service, Node, State string } `json:"upstream_health"`
		}
	}
	s.do(t, "GET", "/api/v1/gateway-groups/default/instances", "", 200, &list)
	for _, in := range list.Items {
		for _, h := range in.UpstreamHealth {
			if in.Embedded && h.Service == service && h.Node == fmt.Sprintf("127.0.0.1:%d", n.port) {
				return h.State
			}
		}
	}
	return ""
}

// waitNodeState waits until the admin API shows n in one of states.
func waitNodeState(t *testing.T, s *server, service string, n *node, states ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // the embedded gateway reports every 10 s
	for !slices.Contains(states, s.nodeState(t, service, n)) {
		if time.Now().After(deadline) {
			t.Fatalf("node %s of %s never %v in the admin API (now %q)", n.name, service, states, s.nodeState(t, service, n))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestUpstreamHealthThroughTheBinary: one of three nodes is killed under
// load; with passive checks and retries no idempotent request fails, the
// node is marked down, and once it is back the active check returns it to
// rotation within one interval. A node answering 500 on its health path
// is taken out by the active check and shown so in the admin API and in
// /metrics.
func TestUpstreamHealthThroughTheBinary(t *testing.T) {
	t.Parallel() // its own server: it waits beside the other parallel tests
	s := startServer(t, t.TempDir())
	s.createProject(t, "health")
	a, b, c := startNode(t, "a", 0), startNode(t, "b", 0), startNode(t, "c", 0)
	const interval = 1.0
	upstream := fmt.Sprintf(`{"nodes":%s,"retries":2,"checks":{
		"active":{"path":"/healthz","interval":%v,"healthy_threshold":1,"unhealthy_threshold":2},
		"passive":{"failures":1,"eject":120}}}`, nodesJSON(a, b, c), interval)
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/health/services", `{"name":"kill","path":"/kill","routes":[{"name":"r","paths":["/r"]}]}`, 201, &svc)
	s.publishVersion(t, "/api/v1/projects/health/services/"+svc.ID, "1.0.0", upstream)

	// Load: 4 clients, bounded in count and time.
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	ctx, stop := context.WithTimeout(context.Background(), 60*time.Second)
	defer stop()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := 0; i < 200000 && ctx.Err() == nil; i++ {
				status, _, body, err := get(ctx, s.Gateway+"/kill/r")
				if ctx.Err() != nil {
					return
				}
				sent.Add(1)
				if err != nil || status != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s %v", status, body, err))
				}
			}
		})
	}
	waitHits := func(n *node, more int64) {
		t.Helper()
		from := n.hits.Load()
		deadline := time.Now().Add(20 * time.Second)
		for n.hits.Load() < from+more {
			if time.Now().After(deadline) {
				t.Fatalf("node %s got no traffic", n.name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitHits(b, 50)
	b.kill()
	killedAt := sent.Load()
	// Out by its passive check (the failed requests) or its active one.
	waitNodeState(t, s, "kill", b, "ejected", "unhealthy")
	waitHits(a, 200) // the load goes on without b
	afterKill := sent.Load() - killedAt

	b.revive(t)
	revived := time.Now()
	waitHits(b, 1)
	back := time.Since(revived)
	stop()
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed while a node was killed; first: %v", n, sent.Load(), firstErr.Load())
	}
	if afterKill < 100 {
		t.Fatalf("only %d requests after the kill", afterKill)
	}
	// One interval for the next probe, plus the time to see it.
	if back > time.Duration(interval*float64(time.Second))+2*time.Second {
		t.Errorf("the revived node took %v to get traffic again, want about one interval (%vs)", back, interval)
	}
	t.Logf("%d requests, 0 failed; %d after the kill; the node was back after %v", sent.Load(), afterKill, back.Round(time.Millisecond))
	waitNodeState(t, s, "kill", b, "healthy")

	// An active check that meets a 500 takes the node out.
	c.health.Store(500)
	waitNodeState(t, s, "kill", c, "unhealthy")
	before := c.hits.Load()
	for i := range 30 {
		if status, _, body, err := get(context.Background(), s.Gateway+"/kill/r"); err != nil || status != 200 {
			t.Fatalf("GET %d: %d %s %v", i, status, body, err)
		}
	}
	if got := c.hits.Load() - before; got != 0 {
		t.Errorf("the node failing its health check got %d requests", got)
	}
	_, _, metrics, err := get(context.Background(), s.Status+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf(`portico_upstream_node_healthy{group="default",node="127.0.0.1:%d",service="kill",upstream=""} 0`, c.port),
		fmt.Sprintf(`portico_upstream_node_state{group="default",node="127.0.0.1:%d",service="kill",state="unhealthy",upstream=""} 1`, c.port),
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestBalancersThroughTheBinary: chash by header keeps each key on one
// node and moves at most 40 % of the keys when a fourth node joins, all
// to it; least_conn sends more to a fast node than to a slow one.
func TestBalancersThroughTheBinary(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.createProject(t, "lb")
	ns := []*node{startNode(t, "n1", 0), startNode(t, "n2", 0), startNode(t, "n3", 0), startNode(t, "n4", 0)}
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/lb/services", `{"name":"hash","path":"/hash","routes":[{"name":"r","paths":["/r"]}]}`, 201, &svc)
	base := "/api/v1/projects/lb/services/" + svc.ID
	chash := func(nodes ...*node) string {
		return fmt.Sprintf(`{"load_balancer":"chash","hash_on":"header:X-User","nodes":%s}`, nodesJSON(nodes...))
	}
	s.publishVersion(t, base, "1.0.0", chash(ns[:3]...))
	placement := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for k := range 200 {
			user := fmt.Sprintf("user-%d", k)
			for range 2 {
				req, _ := http.NewRequest(http.MethodGet, s.Gateway+"/hash/r", nil)
				req.Header.Set("X-User", user)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", user, resp.StatusCode, body)
				}
				if prev, ok := out[user]; ok && prev != string(body) {
					t.Fatalf("%s went to %s, then to %s", user, prev, body)
				}
				out[user] = string(body)
			}
		}
		return out
	}
	three := placement()
	s.publishVersion(t, base, "1.0.1", chash(ns...))
	four := placement()
	moved := 0
	for user, n := range three {
		if four[user] != n {
			moved++
			if four[user] != "n4" {
				t.Errorf("%s moved from %s to %s, not to the new node", user, n, four[user])
			}
		}
	}
	if moved == 0 || moved > 80 {
		t.Errorf("%d of 200 keys moved when a fourth node joined, want some and at most 40 %%", moved)
	}
	t.Logf("chash: %d of 200 keys moved to the fourth node", moved)

	fast, slow := startNode(t, "fast", 0), startNode(t, "slow", 100*time.Millisecond)
	s.do(t, "POST", "/api/v1/projects/lb/services", `{"name":"least","path":"/least","routes":[{"name":"r","paths":["/r"]}]}`, 201, &svc)
	s.publishVersion(t, "/api/v1/projects/lb/services/"+svc.ID, "1.0.0",
		fmt.Sprintf(`{"load_balancer":"least_conn","nodes":%s}`, nodesJSON(fast, slow)))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 25 {
				status, _, body, err := get(context.Background(), s.Gateway+"/least/r")
				if err == nil && status != 200 {
					err = errors.New(string(body))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if f, sl := fast.hits.Load(), slow.hits.Load(); f <= 2*sl {
		t.Errorf("least_conn: fast node %d, slow node %d; want the fast one well ahead", f, sl)
	} else {
		t.Logf("least_conn: fast node %d requests, slow node %d", f, sl)
	}
}

// TestRetryPolicyThroughTheBinary: a policy retrying 503 on another node
// is stored with the project upstream, published, and honoured; a field of
// it out of bounds is refused with 400 naming it.
func TestRetryPolicyThroughTheBinary(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.createProject(t, "retry")
	bad, good := startNode(t, "bad", 0), startNode(t, "good", 0)
	bad.status.Store(http.StatusServiceUnavailable)

	body := s.do(t, "POST", "/api/v1/projects/retry/upstreams",
		`{"name":"pair","nodes":`+nodesJSON(bad, good)+`,"retry_policy":{"on":["status"],"statuses":[503],"per_try_timeout":99999}}`, 400, nil)
	if !strings.Contains(string(body), "retry_policy.per_try_timeout") {
		t.Fatalf("refusal does not name the field: %s", body)
	}
	var up struct {
		ID          string
		RetryPolicy json.RawMessage `json:"retry_policy"`
	}
	s.do(t, "POST", "/api/v1/projects/retry/upstreams",
		`{"name":"pair","nodes":`+nodesJSON(bad, good)+`,"retry_policy":{"on":["status"],"statuses":[503]}}`, 201, nil)
	s.do(t, "GET", "/api/v1/projects/retry/upstreams/pair", "", 200, &up)
	if !strings.Contains(string(up.RetryPolicy), "503") {
		t.Fatalf("retry_policy not stored: %s", up.RetryPolicy)
	}
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/retry/services", `{"name":"svc","path":"/svc","upstream_id":"`+up.ID+`","routes":[{"name":"r","paths":["/r"]}]}`, 201, &svc)
	var pub struct{ Revision int64 }
	s.do(t, "POST", "/api/v1/projects/retry/services/"+svc.ID+"/publish", `{"group":"default","version":"1.0.0"}`, 201, &pub)
	s.waitApplied(t, pub.Revision)
	for i := range 10 {
		if status, _, b, err := get(context.Background(), s.Gateway+"/svc/r"); err != nil || status != 200 {
			t.Fatalf("GET %d: %d %s %v", i, status, b, err)
		}
	}
	if bad.hits.Load() == 0 {
		t.Error("the node answering 503 was never tried")
	}
}
