package upstream

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
)

func nodes(weights ...int) []spec.Node {
	out := make([]spec.Node, len(weights))
	for i, w := range weights {
		out[i] = spec.Node{Host: "127.0.0.1", Port: 8001 + i, Weight: w}
	}
	return out
}

func intp(i int) *int { return &i }

// cycle calls Next once per schedule slot and returns the node indexes (by
// position in p.Nodes()) in the order they came.
func cycle(t *testing.T, p *Pool, n int) []int {
	t.Helper()
	index := map[*Node]int{}
	for i, nd := range p.Nodes() {
		index[nd] = i
	}
	out := make([]int, n)
	for k := range out {
		nd := p.Next()
		if nd == nil {
			t.Fatalf("Next() = nil on call %d of a pool with %d nodes", k, len(p.Nodes()))
		}
		out[k] = index[nd]
	}
	return out
}

// rotation reports whether got is seq rotated (the cursor starts at a random
// slot).
func rotation(got, seq []int) bool {
	if len(got) != len(seq) {
		return false
	}
	for off := range seq {
		ok := true
		for i := range got {
			if got[i] != seq[(off+i)%len(seq)] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func TestSmoothScheduleInterleaves(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		want    []int // one cycle, from a fresh cursor
	}{
		{name: "nginx 5 1 1", weights: []int{5, 1, 1}, want: []int{0, 0, 1, 0, 2, 0, 0}},
		{name: "equal weights alternate", weights: []int{1, 1, 1}, want: []int{0, 1, 2}},
		{name: "3 2", weights: []int{3, 2}, want: []int{0, 1, 0, 1, 0}},
		{name: "common divisor reduced", weights: []int{100, 100}, want: []int{0, 1}},
		{name: "50 20 10 reduced to 5 2 1", weights: []int{50, 20, 10}, want: []int{0, 1, 0, 0, 2, 0, 1, 0}},
		{name: "single node", weights: []int{7}, want: []int{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(&spec.Upstream{Nodes: nodes(tc.weights...)})
			got := make([]int, len(p.set.Load().schedule))
			for i, s := range p.set.Load().schedule {
				got[i] = int(s)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("schedule (-want +got):\n%s", diff)
			}
			// Next walks the same cycle from wherever the cursor started.
			if seq := cycle(t, p, len(tc.want)); !rotation(seq, tc.want) {
				t.Errorf("Next() over one cycle = %v, not a rotation of %v", seq, tc.want)
			}
		})
	}
}

func TestNextDistribution(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		want    []int // picks per node over cycles×(sum of reduced weights) calls
		cycles  int
	}{
		{name: "5 1 1", weights: []int{5, 1, 1}, want: []int{15, 3, 3}, cycles: 3},
		{name: "weight 0 node excluded", weights: []int{1, 0, 1}, want: []int{4, 4}, cycles: 4},
		{name: "uneven 7 3", weights: []int{7, 3}, want: []int{14, 6}, cycles: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(&spec.Upstream{Nodes: nodes(tc.weights...)})
			total := 0
			for _, w := range tc.want {
				total += w
			}
			got := make([]int, len(p.Nodes()))
			for _, i := range cycle(t, p, total) {
				got[i]++
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("picks per node (-want +got):\n%s", diff)
			}
		})
	}
}

// Over any window of the schedule, no node gets more than one pick ahead of
// or behind its share: that is what "smooth" means, and bursts break it.
func TestScheduleIsSmooth(t *testing.T) {
	for _, weights := range [][]int{{5, 1, 1}, {10, 3, 2, 1}, {1, 2, 3, 4, 5}, {99, 1}, {17, 13, 11}} {
		p := New(&spec.Upstream{Nodes: nodes(weights...)})
		total := len(p.set.Load().schedule)
		seen := make([]int, len(weights))
		for k, s := range p.set.Load().schedule {
			seen[s]++
			for i, w := range weights {
				share := float64((k+1)*w) / float64(total)
				if d := float64(seen[i]) - share; d > 1 || d < -1 {
					t.Fatalf("weights %v: after %d picks node %d has %d, share %.2f: %v",
						weights, k+1, i, seen[i], share, p.set.Load().schedule)
				}
			}
		}
	}
}

func TestEmptyPool(t *testing.T) {
	for name, u := range map[string]*spec.Upstream{
		"no nodes":       {},
		"all weight 0":   {Nodes: nodes(0, 0)},
		"negative too":   {Nodes: nodes(-1)},
		"discovery only": {Discovery: &spec.Discovery{Registry: "dns", ServiceName: "x"}},
	} {
		t.Run(name, func(t *testing.T) {
			p := New(u)
			if len(p.Nodes()) != 0 {
				t.Fatalf("Nodes = %d, want 0", len(p.Nodes()))
			}
			if n := p.Next(); n != nil {
				t.Errorf("Next() = %v, want nil", n)
			}
			if n := p.NextExcept(nil); n != nil {
				t.Errorf("NextExcept(nil) = %v, want nil", n)
			}
			if p.RetryBudget() != 0 {
				t.Errorf("Retries = %d, want 0", p.RetryBudget())
			}
		})
	}
}

func TestWeightZeroNodeNeverPicked(t *testing.T) {
	p := New(&spec.Upstream{Nodes: nodes(3, 0, 2)})
	if len(p.Nodes()) != 2 {
		t.Fatalf("Nodes = %d, want 2 (weight 0 drained)", len(p.Nodes()))
	}
	for range 50 {
		if n := p.Next(); n.Port == 8002 {
			t.Fatalf("Next() returned the weight 0 node %s", n.Addr)
		}
	}
}

func TestNextExcept(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
	}{
		{name: "two equal", weights: []int{1, 1}},
		{name: "failed node dominates", weights: []int{100, 1}},
		{name: "failed node dominates, scaled", weights: []int{100000, 1}},
		{name: "three", weights: []int{5, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(&spec.Upstream{Nodes: nodes(tc.weights...)})
			for _, failed := range p.Nodes() {
				for k := range 2 * len(p.set.Load().schedule) {
					n := p.NextExcept(failed)
					if n == nil {
						t.Fatalf("NextExcept(%s) = nil on call %d, other nodes exist", failed.Addr, k)
					}
					if n == failed {
						t.Fatalf("NextExcept(%s) returned the failed node", failed.Addr)
					}
				}
			}
		})
	}
	t.Run("several failed", func(t *testing.T) {
		p := New(&spec.Upstream{Nodes: nodes(10, 10, 1)})
		a, b, c := p.Nodes()[0], p.Nodes()[1], p.Nodes()[2]
		for range 30 {
			if n := p.NextExcept(a, b); n != c {
				t.Fatalf("NextExcept(a, b) = %v, want the only other node", n.Addr)
			}
		}
		if n := p.NextExcept(a, b, c); n != nil {
			t.Fatalf("NextExcept(all) = %v, want nil", n.Addr)
		}
	})
	t.Run("single node", func(t *testing.T) {
		p := New(&spec.Upstream{Nodes: nodes(1)})
		if n := p.NextExcept(p.Nodes()[0]); n != nil {
			t.Fatalf("NextExcept(only node) = %v, want nil", n.Addr)
		}
	})
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name    string
		retries *int
		weights []int
		want    int
	}{
		{name: "default one retry", weights: []int{1, 1, 1}, want: 1},
		{name: "default with one node", weights: []int{1}, want: 0},
		{name: "custom within node count", retries: intp(2), weights: []int{1, 1, 1}, want: 2},
		{name: "custom bounded by node count", retries: intp(10), weights: []int{1, 1, 1}, want: 2},
		{name: "drained nodes do not count", retries: intp(10), weights: []int{1, 0, 1}, want: 1},
		{name: "zero disables", retries: intp(0), weights: []int{1, 1}, want: 0},
		{name: "negative is zero", retries: intp(-3), weights: []int{1, 1}, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(&spec.Upstream{Nodes: nodes(tc.weights...), Retries: tc.retries})
			if p.RetryBudget() != tc.want {
				t.Errorf("Retries = %d, want %d", p.RetryBudget(), tc.want)
			}
		})
	}
}

func TestTimeouts(t *testing.T) {
	idle := spec.DefaultUpstreamIdleTimeout * time.Second
	def := Timeouts{Connect: DefaultConnectTimeout, Send: DefaultSendTimeout, Read: DefaultReadTimeout, Idle: idle}
	tests := []struct {
		name string
		in   *spec.Timeout
		conn *spec.UpstreamConnections
		want Timeouts
	}{
		{name: "defaults", in: nil, want: def},
		{name: "zero means default", in: &spec.Timeout{}, want: def},
		{name: "seconds", in: &spec.Timeout{Connect: 1, Send: 2, Read: 3},
			want: Timeouts{Connect: time.Second, Send: 2 * time.Second, Read: 3 * time.Second, Idle: idle}},
		{name: "fractions", in: &spec.Timeout{Connect: 0.25, Read: 1.5},
			want: Timeouts{Connect: 250 * time.Millisecond, Send: DefaultSendTimeout, Read: 1500 * time.Millisecond, Idle: idle}},
		{name: "negative means default", in: &spec.Timeout{Read: -1}, want: def},
		{name: "idle", conn: &spec.UpstreamConnections{IdleTimeout: 2.5},
			want: Timeouts{Connect: DefaultConnectTimeout, Send: DefaultSendTimeout, Read: DefaultReadTimeout, Idle: 2500 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(&spec.Upstream{Nodes: nodes(1), Timeout: tc.in, Connections: tc.conn})
			if diff := cmp.Diff(tc.want, p.Timeouts); diff != "" {
				t.Errorf("Timeouts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	p := New(&spec.Upstream{Nodes: []spec.Node{{Host: "::1", Port: 80, Weight: 1}}})
	if p.Scheme != "http" || p.PassHost != "pass" {
		t.Errorf("Scheme, PassHost = %q, %q; want http, pass", p.Scheme, p.PassHost)
	}
	if got := p.Nodes()[0].Addr; got != "[::1]:80" {
		t.Errorf("Addr = %q, want [::1]:80", got)
	}
}

func TestNodeKey(t *testing.T) {
	base := func() *spec.Upstream {
		return &spec.Upstream{Nodes: nodes(1), Timeout: &spec.Timeout{Connect: 1, Send: 2, Read: 3}}
	}
	key := func(mut func(u *spec.Upstream)) string {
		u := base()
		mut(u)
		return New(u).Nodes()[0].Key
	}
	same := key(func(*spec.Upstream) {})
	if again := key(func(*spec.Upstream) {}); again != same {
		t.Fatalf("same upstream gave keys %q and %q: clients would not be shared across builds", same, again)
	}
	if w := key(func(u *spec.Upstream) { u.Nodes[0].Weight = 50 }); w != same {
		t.Errorf("weight changed the key (%q vs %q); it does not change the client", w, same)
	}
	for name, mut := range map[string]func(*spec.Upstream){
		"connect": func(u *spec.Upstream) { u.Timeout.Connect = 9 },
		"send":    func(u *spec.Upstream) { u.Timeout.Send = 9 },
		"read":    func(u *spec.Upstream) { u.Timeout.Read = 9 },
		"scheme":  func(u *spec.Upstream) { u.Scheme = "https" },
		"port":    func(u *spec.Upstream) { u.Nodes[0].Port = 9 },
		"host":    func(u *spec.Upstream) { u.Nodes[0].Host = "127.0.0.2" },
	} {
		if k := key(mut); k == same {
			t.Errorf("changing %s kept key %q", name, k)
		}
	}
}

func TestLargeWeightsScaled(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
	}{
		{name: "one huge", weights: []int{1_000_000, 1}},
		{name: "coprime large", weights: []int{4099, 4097, 13}},
		{name: "many nodes", weights: []int{9999, 8888, 7777, 6666, 5555, 4444, 3333, 2222, 1111, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(&spec.Upstream{Nodes: nodes(tc.weights...)})
			if len(p.set.Load().schedule) > maxSchedule {
				t.Fatalf("schedule has %d slots, want ≤ %d", len(p.set.Load().schedule), maxSchedule)
			}
			counts := make([]int, len(p.Nodes()))
			for _, s := range p.set.Load().schedule {
				counts[s]++
			}
			sum := 0
			for _, w := range tc.weights {
				sum += w
			}
			for i, w := range tc.weights {
				if counts[i] == 0 {
					t.Errorf("node %d (weight %d) never scheduled", i, w)
				}
				share := float64(w) / float64(sum) * float64(len(p.set.Load().schedule))
				if d := float64(counts[i]) - share; d > 1+share/100 || d < -1-share/100 {
					t.Errorf("node %d: %d slots, want about %.1f", i, counts[i], share)
				}
			}
		})
	}
	t.Run("more nodes than slots", func(t *testing.T) {
		weights := make([]int, maxSchedule+10)
		for i := range weights {
			weights[i] = 1 + i%3
		}
		p := New(&spec.Upstream{Nodes: nodes(weights...)})
		seen := make([]bool, len(p.Nodes()))
		for _, s := range p.set.Load().schedule {
			seen[s] = true
		}
		for i, ok := range seen {
			if !ok {
				t.Fatalf("node %d never scheduled", i)
			}
		}
	})
}

func TestNextConcurrent(t *testing.T) {
	p := New(&spec.Upstream{Nodes: nodes(2, 1)})
	done := make(chan int, 4)
	for range 4 {
		go func() {
			c := 0
			for range 300 {
				if p.Next().Port == 8001 {
					c++
				}
			}
			done <- c
		}()
	}
	total := 0
	for range 4 {
		total += <-done
	}
	// 1200 calls are 400 whole cycles of (a, a, b) from one shared cursor.
	if total != 800 {
		t.Errorf("node a picked %d times of 1200, want 800", total)
	}
}

func TestTimeoutsKeyReadable(t *testing.T) {
	k := New(&spec.Upstream{Nodes: nodes(1)}).Nodes()[0].Key
	if !strings.HasPrefix(k, "http://127.0.0.1:8001|") {
		t.Errorf("Key = %q", k)
	}
}
