package discovery

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// call is what Follow asked a scripted Resolver.
type call struct {
	index string
	wait  time.Duration
}

// answer is what the test makes a scripted Resolver reply.
type answer struct {
	res Result
	err error
}

// scripted is a Resolver the test drives one call at a time: each call is
// handed to the test, which then hands back the answer. Nothing depends on
// timing.
type scripted struct {
	calls   chan call
	answers chan answer
}

func (s *scripted) Resolve(ctx context.Context, _ Target, index string, wait time.Duration) (Result, error) {
	select {
	case s.calls <- call{index, wait}:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case a := <-s.answers:
		return a.res, a.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// run is a Follow of a scripted Resolver with short backoffs, its updates
// and statuses in buffered channels.
type run struct {
	r        *scripted
	updates  chan []spec.Node
	statuses chan Status
	cancel   context.CancelFunc
	done     chan struct{}
}

func startRun(t *testing.T, f follower) *run {
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{r: &scripted{calls: make(chan call), answers: make(chan answer)},
		updates: make(chan []spec.Node, 100), statuses: make(chan Status, 100), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		f.run(ctx, r.r, Target{ServiceName: "web"}, time.Millisecond,
			func(n []spec.Node) { r.updates <- n }, func(s Status) { r.statuses <- s })
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// step waits for Follow's next call, checks its index, answers it, and
// returns the status Follow reports of it.
func (r *run) step(t *testing.T, index string, a answer) Status {
	t.Helper()
	c := <-r.r.calls
	if c.index != index || c.wait != BlockingWait {
		t.Errorf("call %+v, want index %q and wait %v", c, index, BlockingWait)
	}
	r.r.answers <- a
	return <-r.statuses
}

// update is the update Follow made before its last status, if any (it
// calls update before status, in one goroutine).
func (r *run) update() ([]spec.Node, bool) {
	select {
	case n := <-r.updates:
		return n, true
	default:
		return nil, false
	}
}

var (
	nodeA = spec.Node{Host: "10.0.0.1", Port: 80, Weight: 100}
	nodeB = spec.Node{Host: "10.0.0.2", Port: 80, Weight: 100}
)

func TestFollow(t *testing.T) {
	r := startRun(t, follower{backoffMin: time.Millisecond, backoffMax: 2 * time.Millisecond})

	// The first answer is passed, even an empty one.
	if s := r.step(t, "", answer{res: Result{Nodes: []spec.Node{}}}); !s.Healthy || s.Error != "" || s.LastSync.IsZero() {
		t.Errorf("status %+v, want healthy", s)
	}
	if n, ok := r.update(); !ok || n == nil || len(n) != 0 {
		t.Errorf("first update %v (%v), want an empty list", n, ok)
	}

	r.step(t, "", answer{res: Result{Nodes: []spec.Node{nodeA}}})
	got, ok := r.update()
	if !ok || !slices.Equal(got, []spec.Node{nodeA}) {
		t.Fatalf("update %v (%v), want [A]", got, ok)
	}
	// The receiver owns its copy: changing it does not hide a change.
	got[0].Host = "changed"

	// The same nodes again: no update.
	r.step(t, "", answer{res: Result{Nodes: []spec.Node{nodeA}}})
	if n, ok := r.update(); ok {
		t.Errorf("update %v for the same nodes", n)
	}

	// An error keeps the nodes: no update, an unhealthy status that still
	// says when nodes last came.
	s := r.step(t, "", answer{err: errors.New("consul: service \"web\": connection refused")})
	if s.Healthy || s.Error != `consul: service "web": connection refused` || s.LastSync.IsZero() {
		t.Errorf("status %+v, want the error and the last sync", s)
	}
	if n, ok := r.update(); ok {
		t.Errorf("update %v after an error", n)
	}

	// A blocking registry: its index comes back in the next call; an error
	// resets it.
	r.step(t, "", answer{res: Result{Nodes: []spec.Node{nodeA, nodeB}, Index: "7"}})
	if n, _ := r.update(); !slices.Equal(n, []spec.Node{nodeA, nodeB}) {
		t.Errorf("update %v, want [A B]", n)
	}
	r.step(t, "7", answer{res: Result{Nodes: []spec.Node{nodeA, nodeB}, Index: "8"}})
	r.step(t, "8", answer{err: errors.New("timeout")})
	r.step(t, "", answer{res: Result{Nodes: []spec.Node{nodeB}, Index: "9"}})
	if n, _ := r.update(); !slices.Equal(n, []spec.Node{nodeB}) {
		t.Errorf("update %v, want [B]", n)
	}
	// An empty list the registry answers is passed on.
	r.step(t, "9", answer{res: Result{Nodes: []spec.Node{}, Index: "10"}})
	if n, ok := r.update(); !ok || len(n) != 0 {
		t.Errorf("update %v (%v), want the empty list", n, ok)
	}

	// Cancelled, Follow returns without reporting the cancellation.
	<-r.r.calls
	r.cancel()
	<-r.done
	select {
	case s := <-r.statuses:
		t.Errorf("status %+v after the end", s)
	default:
	}
}

// TestFollowEnds: Follow returns when its context ends, during a call, a
// poll or a backoff, and at once when it has already ended.
func TestFollowEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	Follow(ctx, &scripted{calls: make(chan call), answers: make(chan answer)}, Target{}, 0, nil, nil)

	for _, a := range []answer{
		{res: Result{Nodes: []spec.Node{nodeA}}}, // then polls an hour
		{err: errors.New("down")},                // then backs off
	} {
		ctx, cancel := context.WithCancel(context.Background())
		r := &scripted{calls: make(chan call), answers: make(chan answer)}
		statuses := make(chan Status, 1)
		done := make(chan struct{})
		go func() {
			defer close(done)
			Follow(ctx, r, Target{}, time.Hour, nil, func(s Status) { statuses <- s })
		}()
		<-r.calls
		r.answers <- a
		<-statuses
		cancel()
		<-done
	}
}

func TestPollWait(t *testing.T) {
	for _, tc := range []struct {
		ttl, poll, want time.Duration
	}{
		{0, 5 * time.Second, 5 * time.Second},
		{10 * time.Millisecond, 5 * time.Millisecond, time.Second}, // a TTL below 1 s counts as 1 s
		{2 * time.Second, 5 * time.Second, 5 * time.Second},
		{10 * time.Second, 5 * time.Second, 10 * time.Second},
		{time.Hour, 5 * time.Second, 5 * time.Minute}, // a TTL above 5 min counts as 5 min
		{time.Hour, 10 * time.Minute, 10 * time.Minute},
	} {
		if got := pollWait(tc.ttl, tc.poll); got != tc.want {
			t.Errorf("pollWait(%v, %v) = %v, want %v", tc.ttl, tc.poll, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	f := follower{backoffMin: backoffMin, backoffMax: backoffMax}
	for _, tc := range []struct {
		failures int
		lo, hi   time.Duration
	}{
		{0, 500 * time.Millisecond, time.Second},
		{1, time.Second, 2 * time.Second},
		{3, 4 * time.Second, 8 * time.Second},
		{5, 15 * time.Second, 30 * time.Second}, // 32 s, cut to 30
		{100, 15 * time.Second, 30 * time.Second},
	} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := f.backoff(tc.failures)
			if d < tc.lo || d > tc.hi {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tc.failures, d, tc.lo, tc.hi)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoff(%d) has no jitter", tc.failures)
		}
	}
}

func TestSortNodes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, out []spec.Node
	}{
		{"nil", nil, []spec.Node{}},
		{"sorted by host then port", []spec.Node{n("b", 1, 1), n("a", 2, 1), n("a", 1, 1)}, []spec.Node{n("a", 1, 1), n("a", 2, 1), n("b", 1, 1)}},
		{"one per host and port, the heaviest", []spec.Node{n("a", 1, 5), n("a", 1, 50), n("a", 1, 7)}, []spec.Node{n("a", 1, 50)}},
		{"canonical forms", []spec.Node{n("::FFFF:10.0.0.1", 80, 1), n("2001:DB8::0:1", 80, 1), n("Web.Example.", 80, 1)},
			[]spec.Node{n("10.0.0.1", 80, 1), n("2001:db8::1", 80, 1), n("web.example", 80, 1)}},
		{"undialable", []spec.Node{n("", 80, 1), n("a", 0, 1), n("a", 65536, 1), n("a", 80, -1), n("a", 65535, 0)}, []spec.Node{n("a", 65535, 0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SortNodes(tc.in); !slices.Equal(got, tc.out) || got == nil {
				t.Errorf("SortNodes(%v) = %v, want %v", tc.in, got, tc.out)
			}
		})
	}
}

func n(host string, port, weight int) spec.Node {
	return spec.Node{Host: host, Port: port, Weight: weight}
}
