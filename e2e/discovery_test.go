package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// registryState is one gateway instance's view of a registry, as the
// admin API shows it.
type registryState struct {
	Instance string
	Healthy  bool
	Error    string
	LastSync time.Time `json:"last_sync"`
	Services int
}

// registryStatus is the embedded gateway's view of registry name.
func (s *server) registryStatus(t *testing.T, name string) (registryState, bool) {
	t.Helper()
	var r struct{ Status []registryState }
	s.do(t, "GET", "/api/v1/gateway-groups/default/registries/"+name, "", 200, &r)
	for _, st := range r.Status {
		if strings.HasPrefix(st.Instance, "embedded-") {
			return st, true
		}
	}
	return registryState{}, false
}

// waitRegistry waits until the admin API shows the embedded gateway's
// view of the registry meeting cond, calling each (when not nil) between
// two looks; the embedded gateway reports every 10 s.
func waitRegistry(t *testing.T, s *server, name, what string, limit time.Duration, cond func(registryState) bool, each func()) (registryState, time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		st, ok := s.registryStatus(t, name)
		if ok && cond(st) {
			return st, time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("registry %s: not %s in the admin API within %v (last: %+v, reported: %v)", name, what, limit, st, ok)
		}
		if each != nil {
			each()
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// gatewayBatch sends n GETs to url and counts the answers by node name; every
// one must answer 200.
func gatewayBatch(t *testing.T, url string, n int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		status, _, body, err := get(ctx, url)
		cancel()
		if err != nil || status != 200 {
			t.Fatalf("GET %s (%d of a batch): %d %s %v", url, i, status, body, err)
		}
		seen[string(body)]++
	}
	return seen
}

// sortedNames are the nodes' names, sorted.
func sortedNames(ns ...*node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.name)
	}
	slices.Sort(out)
	return out
}

// waitServedBy sends batches of GETs to url until one is answered by
// exactly the nodes want, each of them at least once, then checks that
// the next batch is too; it answers how long that took.
func waitServedBy(t *testing.T, url string, limit time.Duration, want ...*node) time.Duration {
	t.Helper()
	start := time.Now()
	per := 8 * len(want) // round robin: each node gets about 8
	for {
		seen := gatewayBatch(t, url, per)
		if slices.Equal(slices.Sorted(maps.Keys(seen)), sortedNames(want...)) {
			took := time.Since(start)
			if again := gatewayBatch(t, url, per); !slices.Equal(slices.Sorted(maps.Keys(again)), sortedNames(want...)) {
				t.Fatalf("GET %s: answered by %v, then by %v; want %v", url, seen, again, sortedNames(want...))
			}
			return took
		}
		if time.Since(start) > limit {
			t.Fatalf("GET %s: answered by %v after %v, want exactly %v", url, seen, limit, sortedNames(want...))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitDiscovered waits until url answers 200: a service just published
// with a discovered upstream answers 503 (no_upstream) until the gateway
// has the registry's first answer. It answers how long that took and how
// many requests got that 503.
func waitDiscovered(t *testing.T, url string, limit time.Duration) (time.Duration, int) {
	t.Helper()
	start := time.Now()
	for n := 0; ; n++ {
		status, _, body, err := get(context.Background(), url)
		switch {
		case err == nil && status == 200:
			return time.Since(start), n
		case err != nil || status != 503 || !strings.Contains(string(body), "no_upstream"):
			t.Fatalf("GET %s before the registry's first answer: %d %s %v, want 200 or 503 no_upstream", url, status, body, err)
		case time.Since(start) > limit:
			t.Fatalf("GET %s: still 503 after %v: %s", url, limit, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDiscoveryRegistriesThroughTheBinary: for each type of registry, a
// fake registry answering as the real one does; the registry is added
// through the admin API (its credential never shown back), a service whose
// upstream is discovered there is published, and then: the nodes it lists
// get the traffic; a node added there gets traffic within seconds and one
// removed stops getting it; the admin API shows the registry healthy; with
// the registry gone, traffic keeps flowing to the last nodes while the
// admin API shows the registry unhealthy, with the error; back on its
// address, what changed there meanwhile is followed and it is healthy
// again. The types go through each step together (the waits for the
// embedded gateway's report, every 10 s, are shared), each step of each
// type a subtest.
func TestDiscoveryRegistriesThroughTheBinary(t *testing.T) {
	t.Parallel() // its own server: it waits beside the other parallel tests
	s := startServer(t, t.TempDir())
	var cases []*discoveryCase
	for _, typ := range []string{"dns", "consul", "kubernetes", "nacos", "eureka"} {
		cases = append(cases, newDiscoveryCase(t, s, typ))
	}
	step := func(name string, before func(c *discoveryCase), run func(c *discoveryCase, t *testing.T)) {
		for _, c := range cases {
			if c.ok && before != nil {
				before(c)
			}
		}
		for _, c := range cases {
			c.ok = c.ok && t.Run(name+"/"+c.typ, func(t *testing.T) { run(c, t) })
		}
	}
	step("follow", nil, (*discoveryCase).follow)
	step("healthy", nil, (*discoveryCase).healthy)
	step("registry-away", func(c *discoveryCase) {
		c.reg.stop()
		c.gone, c.hitsA = time.Now(), c.a.hits.Load()
	}, (*discoveryCase).away)
	step("registry-back", func(c *discoveryCase) {
		// Meanwhile the registry changed.
		c.reg.set(c.a, c.c)
		c.reg.restart(t)
		c.back = time.Now()
	}, (*discoveryCase).returned)

	// The audit log has the registries, and the gateway logs their
	// errors: never with a credential.
	audit := s.do(t, "GET", "/api/v1/audit-events?page_size=500", "", 200, nil)
	if !strings.Contains(string(audit), "registry.create") {
		t.Errorf("the audit log has no registry.create")
	}
	out := s.out.String()
	for _, c := range cases {
		for _, secret := range append(c.reg.tokens(), c.reg.secret()) {
			if secret != "" && strings.Contains(out, secret) {
				t.Errorf("the server's log holds a credential of the %s registry: %q", c.typ, secret)
			}
			if secret != "" && strings.Contains(string(audit), secret) {
				t.Errorf("the audit log holds a credential of the %s registry: %q", c.typ, secret)
			}
		}
	}
}

// discoveryCase is one registry type of TestDiscoveryRegistriesThroughTheBinary.
type discoveryCase struct {
	s       *server
	typ     string
	name    string // the registry's
	project string
	url     string // the discovered service's route
	a, b, c *node
	reg     *fakeRegistry
	ok      bool // every step so far passed

	gone, back time.Time
	hitsA      int64 // a's requests when the registry went away
}

func newDiscoveryCase(t *testing.T, s *server, typ string) *discoveryCase {
	c := &discoveryCase{s: s, typ: typ, name: "reg-" + typ, project: "disc-" + typ, url: s.Gateway + "/" + typ + "/r", ok: true,
		a: startNode(t, typ+"-a", 0), b: startNode(t, typ+"-b", 0), c: startNode(t, typ+"-c", 0)}
	c.reg = newFakeRegistry(t, typ, c.a, c.b)
	return c
}

// follow adds the registry, publishes a service discovered there and
// follows a node added and one removed.
func (c *discoveryCase) follow(t *testing.T) {
	s, reg, name, typ := c.s, c.reg, c.name, c.typ
	// The registry, its credential write-only.
	created := s.do(t, "POST", "/api/v1/gateway-groups/default/registries", reg.admin(name), 201, nil)
	got := s.do(t, "GET", "/api/v1/gateway-groups/default/registries/"+name, "", 200, nil)
	list := s.do(t, "GET", "/api/v1/gateway-groups/default/registries", "", 200, nil)
	for _, answer := range [][]byte{created, got, list} {
		if secret := reg.secret(); secret != "" && strings.Contains(string(answer), secret) {
			t.Fatalf("the admin API answers the registry's credential: %s", answer)
		}
	}
	var fields map[string]any
	if err := json.Unmarshal(got, &fields); err != nil {
		t.Fatalf("registry %s: %s: %v", name, got, err)
	}
	for _, f := range []string{"token", "password", "sealed", "secret"} {
		if _, ok := fields[f]; ok {
			t.Errorf("registry %s is answered with its %s: %s", name, f, got)
		}
	}
	switch typ {
	case "consul", "kubernetes":
		if fields["has_token"] != true {
			t.Errorf("registry %s: %s, want has_token", name, got)
		}
	case "nacos", "eureka":
		if fields["has_password"] != true || fields["username"] != reg.username {
			t.Errorf("registry %s: %s, want has_password and the username", name, got)
		}
	}

	s.createProject(t, c.project)
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/"+c.project+"/services",
		fmt.Sprintf(`{"name":%q,"path":"/%s","routes":[{"name":"r","paths":["/r"]}]}`, typ, typ), 201, &svc)
	s.publishVersion(t, "/api/v1/projects/"+c.project+"/services/"+svc.ID, "1.0.0", reg.discovery(name))

	// The listed nodes get the traffic.
	first, unserved := waitDiscovered(t, c.url, 15*time.Second)
	took := waitServedBy(t, c.url, 15*time.Second, c.a, c.b)
	t.Logf("%s: first 200 %v after the publish (%d requests before had 503 no_upstream); served by the two listed nodes %v later",
		typ, first.Round(time.Millisecond), unserved, took.Round(time.Millisecond))
	switch {
	case reg.refused.Load() != 0:
		t.Errorf("%s: the registry refused %d questions for their credentials", typ, reg.refused.Load())
	case typ == "nacos" && reg.logins.Load() == 0:
		t.Errorf("nacos: the gateway never logged in")
	}
	if typ == "dns" {
		// A and AAAA: the port is the service name's.
		s.do(t, "POST", "/api/v1/projects/"+c.project+"/services", `{"name":"dns-a","path":"/dns-a","routes":[{"name":"r","paths":["/r"]}]}`, 201, &svc)
		s.publishVersion(t, "/api/v1/projects/"+c.project+"/services/"+svc.ID, "1.0.0",
			fmt.Sprintf(`{"discovery":{"registry":%q,"service_name":"web.e2e.test:%d"}}`, name, c.a.port))
		waitDiscovered(t, s.Gateway+"/dns-a/r", 15*time.Second)
		waitServedBy(t, s.Gateway+"/dns-a/r", 5*time.Second, c.a)
	}

	// A node added, then one removed.
	reg.set(c.a, c.b, c.c)
	took = waitServedBy(t, c.url, 10*time.Second, c.a, c.b, c.c)
	t.Logf("%s: a node added in the registry got traffic after %v", typ, took.Round(time.Millisecond))
	reg.set(c.b, c.c)
	took = waitServedBy(t, c.url, 10*time.Second, c.b, c.c)
	t.Logf("%s: a node removed from the registry stopped getting traffic after %v", typ, took.Round(time.Millisecond))
}

// healthy: the admin API shows the embedded gateway following the
// registry.
func (c *discoveryCase) healthy(t *testing.T) {
	services := 1
	if c.typ == "dns" {
		services = 2
	}
	st, _ := waitRegistry(t, c.s, c.name, "healthy", 30*time.Second, func(st registryState) bool {
		return st.Healthy && st.Error == "" && !st.LastSync.IsZero() && st.Services == services
	}, nil)
	if since := time.Since(st.LastSync); since > time.Minute || since < -time.Minute {
		t.Errorf("%s: last_sync %v is not about now", c.typ, st.LastSync)
	}
}

// away: the registry went away; the last nodes keep the traffic, and the
// admin API says so.
func (c *discoveryCase) away(t *testing.T) {
	st, took := waitRegistry(t, c.s, c.name, "unhealthy with an error", 30*time.Second, func(st registryState) bool {
		return !st.Healthy && st.Error != ""
	}, func() {
		if seen := gatewayBatch(t, c.url, 4); seen[c.a.name] != 0 {
			t.Fatalf("%s: with the registry away, the removed node got traffic: %v", c.typ, seen)
		}
	})
	t.Logf("%s: the registry away was shown in the admin API %v after it went (%v in this step): %q",
		c.typ, time.Since(c.gone).Round(time.Millisecond), took.Round(time.Millisecond), st.Error)
	waitServedBy(t, c.url, 5*time.Second, c.b, c.c)
	if got := c.a.hits.Load() - c.hitsA; got != 0 {
		t.Errorf("%s: the node removed before the registry went away got %d requests", c.typ, got)
	}
}

// returned: back on its address, the registry's new list is followed
// and it is healthy again. The gateway backs off up to 30 s between
// questions to a registry that does not answer.
func (c *discoveryCase) returned(t *testing.T) {
	waitServedBy(t, c.url, 40*time.Second, c.a, c.c)
	t.Logf("%s: the registry was away %v; back, the gateway asked it again %v later and its new list has the traffic", c.typ,
		c.back.Sub(c.gone).Round(time.Millisecond), c.reg.askedAgain().Round(time.Millisecond))
	waitRegistry(t, c.s, c.name, "healthy", 30*time.Second, func(st registryState) bool { return st.Healthy && st.Error == "" }, nil)
	t.Logf("%s: healthy again in the admin API %v after it came back", c.typ, time.Since(c.back).Round(time.Millisecond))
}

// TestDiscoveryThroughCanary: a service running on fixed nodes (A) moves to
// a discovered upstream (B, in Consul) through a canary raised to 100 and
// promoted, under load the whole time: no request fails, B gets the
// traffic and A none once promoted, and the promoted version follows the
// registry (a node added there gets traffic). Publishing fixed nodes over
// the running discovery is then refused with 409.
func TestDiscoveryThroughCanary(t *testing.T) {
	s := startServer(t, t.TempDir())
	a, b, c := startNode(t, "A", 0), startNode(t, "B", 0), startNode(t, "C", 0)
	reg := newFakeRegistry(t, "consul", b)
	s.do(t, "POST", "/api/v1/gateway-groups/default/registries", reg.admin("consul"), 201, nil)

	s.createProject(t, "move")
	var svc struct{ ID string }
	s.do(t, "POST", "/api/v1/projects/move/services", `{"name":"orders","path":"/orders","routes":[{"name":"r","paths":["/r"]}]}`, 201, &svc)
	base := "/api/v1/projects/move/services/" + svc.ID
	s.publishVersion(t, base, "1.0.0", `{"nodes":`+nodesJSON(a)+`}`)
	url := s.Gateway + "/orders/r"
	waitServedBy(t, url, 5*time.Second, a)

	// Load: 2 clients, bounded in count and time, for the whole move.
	var sent, failed atomic.Int64
	var firstErr atomic.Value
	ctx, stop := context.WithTimeout(context.Background(), 90*time.Second)
	defer stop()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for i := 0; i < 100000 && ctx.Err() == nil; i++ {
				status, _, body, err := get(ctx, url)
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
	// waitHits waits until n got more requests of the load.
	waitHits := func(n *node, more int64) {
		t.Helper()
		from := n.hits.Load()
		deadline := time.Now().Add(20 * time.Second)
		for n.hits.Load() < from+more {
			if time.Now().After(deadline) {
				t.Fatalf("node %s got %d of %d more requests within 20 s", n.name, n.hits.Load()-from, more)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// noHits checks that n gets nothing while another gets more requests.
	noHits := func(n, other *node, what string) {
		t.Helper()
		from := n.hits.Load()
		waitHits(other, 200)
		if got := n.hits.Load() - from; got != 0 {
			t.Errorf("%s: node %s got %d requests", what, n.name, got)
		}
	}
	waitHits(a, 50)

	disc := `{"discovery":{"registry":"consul","service_name":"web"}}`
	var task canaryTask
	s.do(t, "POST", base+"/canary", `{"group":"default","weight":0,"target":{"upstream":`+disc+`}}`, 201, &task)
	s.waitApplied(t, task.Revision)
	// The gateway follows the target's registry: up before any traffic
	// goes there.
	waitMetric(t, s, "portico_registry_up", map[string]string{"group": "default", "registry": "consul"}, func(v float64) bool { return v == 1 })
	noHits(b, a, "weight 0")

	s.do(t, "PATCH", base+"/canary/"+task.ID, `{"weight":50}`, 200, &task)
	s.waitApplied(t, task.Revision)
	waitHits(b, 100)
	waitHits(a, 100)
	s.do(t, "PATCH", base+"/canary/"+task.ID, `{"weight":100}`, 200, &task)
	s.waitApplied(t, task.Revision)
	noHits(a, b, "weight 100")

	s.do(t, "POST", base+"/canary/"+task.ID+"/promote", "", 200, &task)
	if task.State != "completed" || task.PromotedVersion == "" {
		t.Fatalf("promoted task = %+v", task)
	}
	s.waitApplied(t, task.Revision)
	noHits(a, b, "promoted")

	// The promoted version follows the registry.
	reg.set(b, c)
	waitHits(c, 100)
	noHits(a, b, "a node added after the promote")

	stop()
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed during the move to discovery; first: %v", n, sent.Load(), firstErr.Load())
	}
	t.Logf("%d requests, 0 failed; A %d, B %d, C %d", sent.Load(), a.hits.Load(), b.hits.Load(), c.hits.Load())

	var running struct{ Items []struct{ Version string } }
	s.do(t, "GET", "/api/v1/gateway-groups/default/services", "", 200, &running)
	if len(running.Items) != 1 || running.Items[0].Version != task.PromotedVersion {
		t.Errorf("the group runs %+v, want version %s", running.Items, task.PromotedVersion)
	}
	// Back to fixed nodes is a canary's job, not a publish's.
	if d := s.problemDetail(t, "POST", base+"/publish", `{"group":"default","version":"9.0.0","upstream":{"nodes":`+nodesJSON(a)+`}}`, 409); !strings.Contains(d, "discovery") || !strings.Contains(d, "canary") {
		t.Errorf("publishing nodes over the running discovery: detail %q, want it to name discovery and the canary", d)
	}
	waitServedBy(t, url, 5*time.Second, b, c)
}
