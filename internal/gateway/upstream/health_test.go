package upstream

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// fakeClock is a Health whose time tests move.
func fakeClock(h *Health) *atomic.Int64 {
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	h.now = now.Load
	return &now
}

func checkedPool(h *Health, checks *spec.HealthChecks, lb string, hosts ...string) *Pool {
	u := &spec.Upstream{LoadBalancer: lb, Checks: checks}
	for _, host := range hosts {
		u.Nodes = append(u.Nodes, spec.Node{Host: host, Port: 80, Weight: 100})
	}
	return Compile(u, Options{Health: h, Owner: Owner{Group: "g", Service: "s"}})
}

// The passive check is a circuit breaker per node: consecutive failures
// eject the node; after the ejection one request passes (half open); its
// failure ejects the node for twice as long, its success closes the
// circuit. While a node is out, picks go to the others; with every node
// out, a pick finds none at once.
func TestPassiveCircuitBreaker(t *testing.T) {
	for _, lb := range []string{"roundrobin", "least_conn", "chash", "ewma"} {
		t.Run(lb, func(t *testing.T) {
			h := NewHealth()
			defer h.Close()
			now := fakeClock(h)
			checks := &spec.HealthChecks{Passive: &spec.PassiveCheck{Failures: 3, Eject: 10, MaxEject: 15}}
			p := checkedPool(h, checks, lb, "10.0.0.1", "10.0.0.2")
			a, b := p.Nodes()[0], p.Nodes()[1]
			req := &request{addr: netip.MustParseAddr("192.0.2.1")}
			for range 2 {
				p.Observe(a, ConnectFailed)
			}
			p.Observe(a, 200) // a success resets the count
			for range 2 {
				p.Observe(a, 503)
			}
			if !a.health.up() {
				t.Fatal("a node was ejected before 3 failures in a row")
			}
			p.Observe(a, TimedOut)
			if a.health.up() {
				t.Fatal("3 failures in a row did not eject the node")
			}
			for range 50 {
				if n := p.Pick(req); n != b {
					t.Fatalf("pick while a is ejected = %v, want b", n)
				}
			}
			if st := h.Nodes()[0]; st.State != spec.NodeEjected || st.Ejections != 1 || st.LastError == "" {
				t.Fatalf("status = %+v, want ejected once with a reason", st)
			}
			p.Observe(b, ConnectFailed)
			p.Observe(b, ConnectFailed)
			p.Observe(b, ConnectFailed)
			if n := p.Pick(req); n != nil {
				t.Fatalf("pick with every node ejected = %v, want none", n)
			}
			// Half open: after 10 s, one trial request for a.
			now.Add(int64(10 * time.Second))
			trials := 0
			for range 20 {
				if n := p.Pick(req); n == a {
					trials++
				}
			}
			if trials != 1 {
				t.Fatalf("half-open node a took %d requests, want 1 trial", trials)
			}
			p.Observe(a, 502) // the trial fails: out for 20 s, bounded to 15
			now.Add(int64(14 * time.Second))
			if a.health.eligible() {
				t.Fatal("a failed trial did not eject the node again")
			}
			now.Add(int64(time.Second))
			if !a.health.take() {
				t.Fatal("the second ejection outlasted max_eject")
			}
			p.Observe(a, 200) // the trial passes: closed
			if !a.health.up() || a.health.ejections.Load() != 0 {
				t.Fatal("a passed trial did not close the circuit")
			}
		})
	}
}

// A half-open trial whose request never reported back (its client left)
// is given again after trialTimeout.
func TestHalfOpenTrialExpires(t *testing.T) {
	h := NewHealth()
	defer h.Close()
	now := fakeClock(h)
	p := checkedPool(h, &spec.HealthChecks{Passive: &spec.PassiveCheck{Failures: 1, Eject: 1}}, "", "10.0.0.1")
	a := p.Nodes()[0]
	p.Observe(a, ConnectFailed)
	now.Add(int64(time.Second))
	if p.Next() != a || p.Next() != nil {
		t.Fatal("want one trial, then none")
	}
	now.Add(trialTimeout + 1)
	if p.Next() != a {
		t.Fatal("a lost trial was not given again")
	}
}

// Statuses outside the passive check's list are successes: a 404 or a
// 500 not listed never ejects.
func TestPassiveStatuses(t *testing.T) {
	h := NewHealth()
	defer h.Close()
	p := checkedPool(h, &spec.HealthChecks{Passive: &spec.PassiveCheck{Failures: 2, Statuses: []int{503}}}, "", "10.0.0.1")
	a := p.Nodes()[0]
	for range 10 {
		p.Observe(a, 500)
		p.Observe(a, 404)
	}
	if !a.health.up() {
		t.Fatal("unlisted statuses ejected the node")
	}
	p.Observe(a, 503)
	p.Observe(a, 503)
	if a.health.up() {
		t.Fatal("listed statuses did not eject the node")
	}
}

// Pools of one owner, address and checks share the node's health (a
// route's own timeouts, the next revision); another owner or other checks
// keep their own.
func TestHealthShared(t *testing.T) {
	h := NewHealth()
	defer h.Close()
	checks := &spec.HealthChecks{Passive: &spec.PassiveCheck{Failures: 1}}
	p1 := checkedPool(h, checks, "", "10.0.0.1")
	p2 := Compile(&spec.Upstream{Nodes: []spec.Node{{Host: "10.0.0.1", Port: 80, Weight: 1}}, Checks: checks,
		Timeout: &spec.Timeout{Read: 3}}, Options{Health: h, Owner: Owner{Group: "g", Service: "s"}})
	other := Compile(&spec.Upstream{Nodes: []spec.Node{{Host: "10.0.0.1", Port: 80, Weight: 1}}, Checks: checks},
		Options{Health: h, Owner: Owner{Group: "g", Service: "t"}})
	if p1.Nodes()[0].health != p2.Nodes()[0].health {
		t.Fatal("two pools of one service and node keep apart healths")
	}
	if p1.Nodes()[0].health == other.Nodes()[0].health {
		t.Fatal("two services share a node's health")
	}
	if n := len(h.Nodes()); n != 2 {
		t.Fatalf("Nodes() lists %d, want 2", n)
	}
	runtime.KeepAlive([]*Pool{p1, p2, other})
}

// An upstream without checks has no health to consult: its pick costs
// what it did.
func TestNoChecksNoHealth(t *testing.T) {
	p := Compile(&spec.Upstream{Nodes: []spec.Node{{Host: "10.0.0.1", Port: 80, Weight: 1}}}, Options{Health: NewHealth()})
	if p.Nodes()[0].health != nil {
		t.Fatal("a node without checks has a health")
	}
	if a := testing.AllocsPerRun(100, func() { p.Observe(p.Next(), 200) }); a != 0 {
		t.Fatalf("pick and observe allocate %v times", a)
	}
}

// The active check marks a node down after unhealthy_threshold failed
// probes (a 500 on its health path) and up again after healthy_threshold
// passed ones; a node it finds up again also leaves a passive ejection.
func TestActiveCheck(t *testing.T) {
	var status atomic.Int32
	status.Store(200)
	probes := make(chan string, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case probes <- r.Host + r.URL.Path:
		default:
		}
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	portN, _ := strconv.Atoi(port)
	h := NewHealth()
	defer h.Close()
	checks := &spec.HealthChecks{Active: &spec.ActiveCheck{Path: "/healthz", Host: "health.example", Interval: 0.1,
		HealthyThreshold: 2, UnhealthyThreshold: 2}, Passive: &spec.PassiveCheck{Failures: 1, Eject: 3600}}
	p := Compile(&spec.Upstream{Nodes: []spec.Node{{Host: host, Port: portN, Weight: 1}}, Checks: checks},
		Options{Health: h, Owner: Owner{Group: "g", Service: "s"}})
	n := p.Nodes()[0]
	if got := <-probes; got != "health.example/healthz" {
		t.Fatalf("probe asked for %q", got)
	}
	status.Store(500)
	waitState(t, h, spec.NodeUnhealthy)
	if p.Next() != nil {
		t.Fatal("a node failing its active check took a request")
	}
	if st := h.Nodes()[0]; st.LastError != "active check: answered 500" || !st.Active || !st.Passive {
		t.Fatalf("status = %+v", st)
	}
	status.Store(200)
	waitState(t, h, spec.NodeHealthy)
	p.Observe(n, ConnectFailed) // ejected for an hour …
	if n.health.up() {
		t.Fatal("not ejected")
	}
	waitState(t, h, spec.NodeHealthy) // … until the probes pass
	if p.Next() != n {
		t.Fatal("a node back from its checks takes no request")
	}
	runtime.KeepAlive(p)
}

// TCP probes need a connection only.
func TestActiveTCPCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	h := NewHealth()
	defer h.Close()
	checks := &spec.HealthChecks{Active: &spec.ActiveCheck{Type: "tcp", Interval: 0.1, HealthyThreshold: 1, UnhealthyThreshold: 1}}
	p := Compile(&spec.Upstream{Scheme: "tcp", Nodes: []spec.Node{{Host: "127.0.0.1", Port: addr.Port, Weight: 1}}, Checks: checks},
		Options{Health: h, Owner: Owner{Group: "g", Service: "s"}})
	waitProbes(t, h, 1)
	if h.Nodes()[0].State != spec.NodeHealthy {
		t.Fatalf("listening node: %+v", h.Nodes()[0])
	}
	ln.Close()
	waitState(t, h, spec.NodeUnhealthy)
	runtime.KeepAlive(p)
}

// A node no table uses any more is forgotten and its checker stops.
func TestCheckerStopsWithItsPools(t *testing.T) {
	var probes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { probes.Add(1) }))
	defer srv.Close()
	addr := srv.Listener.Addr().(*net.TCPAddr)
	h := NewHealth()
	defer h.Close()
	p := Compile(&spec.Upstream{Nodes: []spec.Node{{Host: "127.0.0.1", Port: addr.Port, Weight: 1}},
		Checks: &spec.HealthChecks{Active: &spec.ActiveCheck{Interval: 0.1}}}, Options{Health: h})
	waitProbes(t, h, 1)
	p = nil
	for range 200 {
		runtime.GC()
		if len(h.Nodes()) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond) // the collector, not a result, is awaited
	}
	if len(h.Nodes()) != 0 {
		t.Fatal("a node no pool uses is still listed")
	}
	_ = p
	before := probes.Load()
	time.Sleep(300 * time.Millisecond) // three intervals with no probe
	if after := probes.Load(); after > before+1 {
		t.Fatalf("checker still probes: %d → %d", before, after)
	}
}

func waitState(t *testing.T, h *Health, state string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ns := h.Nodes(); len(ns) > 0 && ns[0].State == state {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("node never %s: %+v", state, h.Nodes())
}

func waitProbes(t *testing.T, h *Health, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ns := h.Nodes(); len(ns) > 0 && ns[0].Probes >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fewer than %d probes: %+v", n, h.Nodes())
}
