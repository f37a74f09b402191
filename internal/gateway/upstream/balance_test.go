package upstream

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// request is a Request of fixed values.
type request struct {
	header, cookie, query, path, consumer string
	addr                                  netip.Addr
}

func (r *request) Header(string) string   { return r.header }
func (r *request) Cookie(string) string   { return r.cookie }
func (r *request) Query(string) string    { return r.query }
func (r *request) Path() string           { return r.path }
func (r *request) ClientAddr() netip.Addr { return r.addr }
func (r *request) ConsumerName() string   { return r.consumer }

func poolOf(lb, hashOn string, hosts ...string) *Pool {
	u := &spec.Upstream{LoadBalancer: lb, HashOn: hashOn}
	for _, h := range hosts {
		u.Nodes = append(u.Nodes, spec.Node{Host: h, Port: 80, Weight: 100})
	}
	return New(u)
}

// A consistent hash keeps every key on one node, and a fourth node takes
// about a quarter of the keys, all from the others, moving no key between
// the first three.
func TestConsistentHash(t *testing.T) {
	three := poolOf("chash", "header:X-User", "10.0.0.1", "10.0.0.2", "10.0.0.3")
	four := poolOf("chash", "header:X-User", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4")
	const keys = 10000
	moved, per := 0, map[string]int{}
	for i := range keys {
		r := &request{header: fmt.Sprintf("user-%d", i)}
		a, b := three.Pick(r), four.Pick(r)
		if again := three.Pick(r); again != a {
			t.Fatalf("key %d went to %s, then %s", i, a.Addr, again.Addr)
		}
		per[a.Addr]++
		if a.Addr != b.Addr {
			moved++
			if b.Addr != "10.0.0.4:80" {
				t.Fatalf("key %d moved from %s to %s, not to the new node", i, a.Addr, b.Addr)
			}
		}
	}
	if share := float64(moved) / keys; share > 0.40 || share < 0.10 {
		t.Errorf("a fourth node took %.0f%% of the keys, want about 25%% (at most 40%%)", share*100)
	}
	for addr, n := range per {
		if n < keys/3*6/10 || n > keys/3*14/10 {
			t.Errorf("%s has %d of %d keys: too uneven", addr, n, keys)
		}
	}
	// A retry goes to another node, the same one for the same key.
	r := &request{header: "user-1"}
	first := three.Pick(r)
	next := three.PickExcept(r, []*Node{first})
	if next == nil || next == first || three.PickExcept(r, []*Node{first}) != next {
		t.Errorf("retry: %v after %v", next, first)
	}
	if three.PickExcept(r, three.Nodes()) != nil {
		t.Error("a node when every node failed")
	}
}

func TestHashKeys(t *testing.T) {
	a := &request{header: "h", cookie: "c", query: "q", path: "/p", consumer: "app", addr: netip.MustParseAddr("10.1.1.1")}
	b := &request{header: "h2", cookie: "c2", query: "q2", path: "/p2", consumer: "app2", addr: netip.MustParseAddr("10.1.1.2")}
	for _, on := range []string{"", "ip", "uri", "consumer", "header:X", "cookie:sid", "query:id"} {
		p := poolOf("chash", on, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8")
		ha, okA := p.hashOf(a)
		hb, okB := p.hashOf(b)
		if !okA || !okB || ha == hb {
			t.Errorf("hash_on %q: %d %v, %d %v: the key is not the one asked for", on, ha, okA, hb, okB)
		}
	}
	// No key: round robin.
	p := poolOf("chash", "header:X", "10.0.0.1", "10.0.0.2")
	seen := map[*Node]bool{}
	for range 4 {
		seen[p.Pick(&request{})] = true
	}
	if len(seen) != 2 {
		t.Errorf("requests without the key went to %d node(s), want both", len(seen))
	}
}

// least_conn picks the node with the fewest requests in flight for its
// weight, and spreads an idle pool.
func TestLeastConn(t *testing.T) {
	u := &spec.Upstream{LoadBalancer: "least_conn", Nodes: []spec.Node{
		{Host: "a", Port: 80, Weight: 1}, {Host: "b", Port: 80, Weight: 1}, {Host: "c", Port: 80, Weight: 2}}}
	p := New(u)
	seen := map[string]bool{}
	for range 3 {
		seen[p.leastConn(nil).Host] = true
	}
	if len(seen) < 2 {
		t.Errorf("an idle pool always went to %v", seen)
	}
	// Load 2 on a, 1 on b, 2 on c (weight 2: 1 per unit): b or c.
	byHost := map[string]*Node{}
	for _, n := range p.Nodes() {
		byHost[n.Host] = n
	}
	for _, h := range []string{"a", "a", "b", "c", "c"} {
		p.Begin(byHost[h])
	}
	for range 10 {
		if n := p.Pick(nil); n.Host == "a" {
			t.Fatal("the busiest node was picked")
		}
	}
	p.Begin(byHost["b"]) // b: 2 per unit, c: 1
	if n := p.Pick(nil); n.Host != "c" {
		t.Errorf("picked %s, want c (fewest per unit of weight)", n.Host)
	}
	if n := p.PickExcept(nil, []*Node{byHost["c"]}); n.Host == "c" {
		t.Error("a retry went to the failed node")
	}
	for _, h := range []string{"a", "a", "b", "b", "c", "c"} {
		p.Done(byHost[h], 0)
	}
	for _, n := range p.Nodes() {
		if got := n.active.Load(); got != 0 {
			t.Errorf("%s: %d in flight after every Done", n.Host, got)
		}
	}
}

// A node takes at most connections.max_requests requests at once (1024
// by default): Begin refuses one more, counting nothing, until one is done.
func TestMaxRequestsPerNode(t *testing.T) {
	for _, tc := range []struct {
		name string
		conn *spec.UpstreamConnections
		want int
	}{
		{"default", nil, spec.DefaultMaxRequestsPerNode},
		{"two", &spec.UpstreamConnections{MaxRequests: 2}, 2},
		{"zero is the default", &spec.UpstreamConnections{IdleTimeout: 5}, spec.DefaultMaxRequestsPerNode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(&spec.Upstream{Nodes: []spec.Node{{Host: "x", Port: 80, Weight: 1}}, Connections: tc.conn})
			n := p.Nodes()[0]
			for i := range tc.want {
				if !p.Begin(n) {
					t.Fatalf("request %d refused, want %d taken", i+1, tc.want)
				}
			}
			if p.Begin(n) {
				t.Fatalf("request %d taken, want it refused", tc.want+1)
			}
			p.Done(n, 0)
			if !p.Begin(n) {
				t.Fatal("refused after one was done")
			}
			for range tc.want {
				p.Done(n, 0)
			}
			if got := n.active.Load(); got != 0 {
				t.Errorf("%d in flight after every Done", got)
			}
		})
	}
}

func BenchmarkPick(b *testing.B) {
	r := &request{header: "user-42", addr: netip.MustParseAddr("10.1.2.3")}
	for _, tc := range []struct{ lb, on string }{{"", ""}, {"least_conn", ""}, {"ewma", ""}, {"chash", "header:X-User"}, {"chash", "ip"}} {
		p := poolOf(tc.lb, tc.on, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4")
		b.Run(tc.lb+tc.on, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n := p.Pick(r)
				p.Begin(n)
				p.Done(n, time.Millisecond)
			}
		})
	}
	// With passive checks every answer is observed; all nodes up.
	h := NewHealth()
	defer h.Close()
	checked := checkedPool(h, &spec.HealthChecks{Passive: &spec.PassiveCheck{}}, "", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4")
	b.Run("checked", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := checked.Pick(r)
			checked.Begin(n)
			checked.Observe(n, 200)
			checked.Done(n, time.Millisecond)
		}
	})
}

// ewma sends most requests to the node that answers faster, takes a slow
// answer into account at once, and still tries a node never measured.
func TestEWMA(t *testing.T) {
	p := poolOf("ewma", "", "fast", "slow")
	fast, slow := p.Nodes()[0], p.Nodes()[1]
	now := time.Now()
	fast.observe(time.Millisecond, now)
	slow.observe(50*time.Millisecond, now)
	got := map[*Node]int{}
	for range 1000 {
		n := p.Pick(nil)
		got[n]++
	}
	if got[fast] != 1000 {
		t.Errorf("fast %d, slow %d of 1000: with two nodes both are drawn, and the faster wins", got[fast], got[slow])
	}
	// A peak is taken at once; a lower latency pulls it down as it ages.
	fast.observe(80*time.Millisecond, now)
	if p.Pick(nil) != slow {
		t.Error("the node that just turned slow was picked")
	}
	fast.observe(time.Millisecond, now.Add(30*time.Second))
	if e := time.Duration(fast.ewma.Load()); e > 10*time.Millisecond {
		t.Errorf("estimate %v 30 s after a peak of 80 ms and an answer of 1 ms: it does not decay", e)
	}
	// Requests in flight weigh in: cost = latency × (in flight + 1).
	for range 100 {
		p.Begin(fast)
	}
	if p.Pick(nil) != slow {
		t.Error("the node with 100 requests in flight was picked")
	}
	// A retry avoids the failed node; failing counts out and penalises.
	if n := p.PickExcept(nil, []*Node{slow}); n != fast {
		t.Errorf("retry went to %v", n)
	}
	p.Begin(slow)
	p.Failed(slow)
	if slow.active.Load() != 0 || time.Duration(slow.ewma.Load()) < DefaultConnectTimeout {
		t.Errorf("after a failure: %d in flight, estimate %v", slow.active.Load(), time.Duration(slow.ewma.Load()))
	}
	// A node never measured costs nothing: it gets the next request.
	fresh := poolOf("ewma", "", "a", "b")
	fresh.Nodes()[0].observe(time.Millisecond, now)
	if fresh.Pick(nil) != fresh.Nodes()[1] {
		t.Error("a node never measured was not tried")
	}
}
