package routing

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/plugintest"
	"github.com/portico-gw/portico/internal/spec"
)

var canaryTarget = spec.Upstream{Nodes: []spec.Node{{Host: "127.0.0.2", Port: 9090, Weight: 1}}}

// canaryTable builds one service with routes a and b (a with its own
// backend timeout) and canary c.
func canaryTable(t testing.TB, c spec.CanaryRoute) *Table {
	t.Helper()
	ds := deployed("p", "shop", "/shop",
		withBackend(route("a", "/a"), spec.Backend{Timeout: &spec.Timeout{Read: 3}}),
		route("b", "/b"))
	if c.Target.Nodes == nil && c.Target.URL == "" {
		c.Target = canaryTarget
	}
	ds.Canary = &c
	return mustBuild(t, snapshot(group("g", "", ds)))
}

func canaryRoute(t testing.TB, tbl *Table, path string) *Route {
	t.Helper()
	rt, _, _ := lookup(tbl, "example.com", "GET", path)
	if rt == nil {
		t.Fatalf("no route for %s", path)
	}
	return rt
}

func TestPickWeights(t *testing.T) {
	for _, w := range []int{0, 1, 10, 33, 50, 90, 100} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			rt := canaryRoute(t, canaryTable(t, spec.CanaryRoute{Weight: w}), "/shop/b")
			ex := plugintest.New("10.0.0.1").Exchange()
			const n = 3000
			got, run, maxRun := 0, 0, 0
			for range n {
				pool, isCanary := rt.Pick(ex)
				if isCanary != (pool != rt.Upstream) {
					t.Fatal("Pick's flag and pool disagree")
				}
				if isCanary {
					got++
					run++
					maxRun = max(maxRun, run)
				} else {
					run = 0
				}
			}
			share := 100 * float64(got) / n
			if math.Abs(share-float64(w)) > 2.5 {
				t.Errorf("target share %.1f%%, want %d%% ± 2.5", share, w)
			}
			if (w == 0 && got != 0) || (w == 100 && got != n) {
				t.Errorf("weight %d sent %d of %d to the target", w, got, n)
			}
			// Spread, not bursts: 10 % is never two in a row.
			if w > 0 && w <= 50 && maxRun > 1 {
				t.Errorf("weight %d: %d target picks in a row", w, maxRun)
			}
		})
	}
}

func TestPickRules(t *testing.T) {
	rules := []spec.CanaryRule{
		{Kind: "header", Name: "X-Canary", Value: "on"},
		{Kind: "cookie", Name: "beta", Op: "equals", Value: "yes"},
		{Kind: "query", Name: "uid", Op: "matches", Value: `^9\d*$`},
		{Kind: "header", Name: "X-Tenant", Op: "matches", Value: `^(acme|globex)$`},
	}
	tests := []struct {
		name   string
		header map[string]string
		query  map[string]string
		want   bool
	}{
		{"nothing", nil, nil, false},
		{"header equals", map[string]string{"X-Canary": "on"}, nil, true},
		{"header equals other value", map[string]string{"X-Canary": "off"}, nil, false},
		{"cookie equals", map[string]string{"Cookie": "a=1; beta=yes; c=2"}, nil, true},
		{"cookie first", map[string]string{"Cookie": "beta=yes"}, nil, true},
		{"cookie quoted", map[string]string{"Cookie": `beta="yes"`}, nil, true},
		{"cookie other value", map[string]string{"Cookie": "beta=no"}, nil, false},
		{"cookie name is a suffix", map[string]string{"Cookie": "xbeta=yes"}, nil, false},
		{"query matches", nil, map[string]string{"uid": "9123"}, true},
		{"query does not match", nil, map[string]string{"uid": "8123"}, false},
		{"header matches", map[string]string{"X-Tenant": "globex"}, nil, true},
		{"header matches anchored", map[string]string{"X-Tenant": "globex2"}, nil, false},
	}
	rt := canaryRoute(t, canaryTable(t, spec.CanaryRoute{Weight: 0, Rules: rules}), "/shop/a")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := plugintest.New("10.0.0.1")
			for k, v := range tt.header {
				b.ReqHeader.Set(k, v)
			}
			for k, v := range tt.query {
				b.ReqQuery[k] = v
			}
			ex := b.Exchange()
			for range 5 { // whatever the cycle
				if _, got := rt.Pick(ex); got != tt.want {
					t.Fatalf("Pick canary = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestPickHashOnIsSticky(t *testing.T) {
	for _, hashOn := range []string{"header:X-User", "cookie:uid", "ip"} {
		t.Run(hashOn, func(t *testing.T) {
			exchange := func(i int) *plugin.Exchange {
				b := plugintest.New(fmt.Sprintf("10.1.%d.%d", i/250, i%250+1))
				b.ReqHeader.Set("X-User", fmt.Sprint("user-", i))
				b.ReqHeader.Set("Cookie", fmt.Sprintf("a=b; uid=u%d", i))
				return b.Exchange()
			}
			const clients = 1000
			side := map[int][clients]bool{}
			for _, w := range []int{0, 10, 30, 50, 90, 100} {
				rt := canaryRoute(t, canaryTable(t, spec.CanaryRoute{Weight: w, HashOn: hashOn}), "/shop/b")
				var sides [clients]bool
				got := 0
				for i := range clients {
					ex := exchange(i)
					_, first := rt.Pick(ex)
					for range 3 {
						if _, again := rt.Pick(ex); again != first {
							t.Fatalf("weight %d: client %d changed sides", w, i)
						}
					}
					sides[i] = first
					if first {
						got++
					}
				}
				side[w] = sides
				if share := 100 * float64(got) / clients; math.Abs(share-float64(w)) > 5 {
					t.Errorf("weight %d: %.1f%% of clients on the target", w, share)
				}
			}
			// Raising the weight only moves clients to the target.
			ws := []int{0, 10, 30, 50, 90, 100}
			for k := 1; k < len(ws); k++ {
				lo, hi := side[ws[k-1]], side[ws[k]]
				for i := range clients {
					if lo[i] && !hi[i] {
						t.Fatalf("client %d left the target when the weight went from %d to %d", i, ws[k-1], ws[k])
					}
				}
			}
		})
	}
}

func TestPickHashFallsBackToClientAddr(t *testing.T) {
	rt := canaryRoute(t, canaryTable(t, spec.CanaryRoute{Weight: 50, HashOn: "header:X-User"}), "/shop/b")
	ex := plugintest.New("192.0.2.7").Exchange()
	_, first := rt.Pick(ex)
	for range 10 {
		if _, again := rt.Pick(ex); again != first {
			t.Fatal("a client without the header changed sides")
		}
	}
}

func TestPickRoutesAndPools(t *testing.T) {
	tbl := canaryTable(t, spec.CanaryRoute{Weight: 100, Routes: []string{"a"}})
	a, b := canaryRoute(t, tbl, "/shop/a"), canaryRoute(t, tbl, "/shop/b")
	ex := plugintest.New("10.0.0.1").Exchange()
	pool, isCanary := a.Pick(ex)
	if !isCanary || pool.Nodes()[0].Addr != "127.0.0.2:9090" {
		t.Fatalf("route a: canary %v, node %s; want the target", isCanary, pool.Nodes()[0].Addr)
	}
	if pool.Timeouts.Read.Seconds() != 3 {
		t.Errorf("target of route a: read timeout %v, want the route's 3s", pool.Timeouts.Read)
	}
	if pool, isCanary := b.Pick(ex); isCanary || pool != b.Upstream {
		t.Error("route b is not in the canary's routes but went to the target")
	}
	if _, _, ok := b.Canary(); ok {
		t.Error("route b reports a canary")
	}
}

func TestCanaryAnswered(t *testing.T) {
	rt := canaryRoute(t, canaryTable(t, spec.CanaryRoute{ID: "c1", Weight: 50}), "/shop/b")
	rt.Answered(false, 200, int64(10*time.Millisecond))
	rt.Answered(true, 502, int64(20*time.Millisecond))
	rt.Answered(true, 200, int64(30*time.Millisecond))
	id, split, ok := rt.Canary()
	if !ok || id != "c1" {
		t.Fatalf("Canary() = %q, %v", id, ok)
	}
	stable, target := split.Side(false, time.Minute, time.Now()), split.Side(true, time.Minute, time.Now())
	if stable.Requests != 1 || stable.Errors != 0 || target.Requests != 2 || target.Errors != 1 || target.ErrorRate != 0.5 {
		t.Errorf("figures: stable %+v, target %+v", stable, target)
	}
	if target.P99Ms < 26 || target.P99Ms > 34 {
		t.Errorf("target p99 = %.1f ms, want about 30", target.P99Ms)
	}
	plain := canaryRoute(t, mustBuild(t, snapshot(group("g", "", deployed("p", "s", "/s", route("r", "/r"))))), "/s/r")
	plain.Answered(true, 500, 1) // no canary: nothing, no panic
	if pool, isCanary := plain.Pick(plugintest.New("10.0.0.1").Exchange()); isCanary || pool != plain.Upstream {
		t.Error("a route without a canary picked something else than its upstream")
	}
}

func TestBuildCanaryErrors(t *testing.T) {
	ds := deployed("p", "shop", "/shop", route("a", "/a"))
	ds.Canary = &spec.CanaryRoute{Weight: 120, Routes: []string{"a", "nope"}, HashOn: "x",
		Rules: []spec.CanaryRule{{Kind: "query", Name: "q", Op: "matches", Value: "("}}, Target: canaryTarget}
	err := Validate(snapshot(group("g", "", ds)))
	got := strings.Join(fields(fieldErrors(t, err)), ",")
	want := "services[shop].canary.hash_on,services[shop].canary.routes[1],services[shop].canary.rules[0].value,services[shop].canary.weight"
	if got != want {
		t.Errorf("fields = %s\nwant %s", got, want)
	}
}

func TestCanaryRegisteredTargetIsHidden(t *testing.T) {
	tbl := canaryTable(t, spec.CanaryRoute{Weight: 100, Target: spec.Upstream{URL: "https://api.example.net/v2"}})
	rt := canaryRoute(t, tbl, "/shop/b")
	pool, _ := rt.Pick(plugintest.New("10.0.0.1").Exchange())
	if !pool.Registered || pool.BasePath != "/v2" {
		t.Fatalf("target pool: registered %v, base %q", pool.Registered, pool.BasePath)
	}
	if len(rt.ResponseFilters()) == 0 {
		t.Fatal("no filter hides a registered target")
	}
	if _, ok := rt.ResponseFilters()[0].(*hideBackend); !ok {
		t.Errorf("first response filter is %T, want *hideBackend", rt.ResponseFilters()[0])
	}
}

func BenchmarkPick(b *testing.B) {
	cases := []struct {
		name string
		c    spec.CanaryRoute
	}{
		{"weighted", spec.CanaryRoute{Weight: 10}},
		{"hash_ip", spec.CanaryRoute{Weight: 10, HashOn: "ip"}},
		{"hash_cookie", spec.CanaryRoute{Weight: 10, HashOn: "cookie:uid"}},
		{"rules_then_weighted", spec.CanaryRoute{Weight: 10, Rules: []spec.CanaryRule{
			{Kind: "header", Name: "X-Canary", Value: "on"},
			{Kind: "cookie", Name: "beta", Value: "yes"},
			{Kind: "header", Name: "X-Tenant", Op: "matches", Value: `^(acme|globex)$`},
		}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			rt := canaryRoute(b, canaryTable(b, c.c), "/shop/b")
			bk := plugintest.New("10.0.0.1")
			bk.Client = netip.MustParseAddr("10.0.0.1")
			bk.ReqHeader.Set("Cookie", "session=abc; uid=u12345; theme=dark")
			bk.ReqHeader.Set("X-Tenant", "initech")
			ex := bk.Exchange()
			b.ReportAllocs()
			for b.Loop() {
				rt.Pick(ex)
			}
		})
	}
}
