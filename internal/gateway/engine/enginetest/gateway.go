package enginetest

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/routing"
)

// Gateway is an engine serving on 127.0.0.1.
type Gateway struct {
	// Table is what the engine serves; tests may swap it.
	Table *atomic.Pointer[routing.Table]
	Obs   *Recorder
	URL   string // http://127.0.0.1:port
	Addr  string // 127.0.0.1:port, for raw connections
}

// StartGateway serves tbl (nil: no table yet) through start with lim and a
// recording observer.
func StartGateway(t testing.TB, start Start, tbl *routing.Table, lim Limits) *Gateway {
	t.Helper()
	g := &Gateway{Table: new(atomic.Pointer[routing.Table]), Obs: NewRecorder()}
	if tbl != nil {
		g.Table.Store(tbl)
	}
	g.URL = start(t, Config{Table: g.Table, Observer: g.Obs, Limits: lim})
	g.Addr = strings.TrimPrefix(g.URL, "http://")
	return g
}

// Observed is one Observe call.
type Observed struct {
	Route  string // "" when no route matched
	Status int
}

// Recorder is an Observer that records what the engine reports.
type Recorder struct {
	mu       sync.Mutex
	seen     []Observed
	upErrors []string
	observed chan Observed // every Observe, for tests that wait for one
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{observed: make(chan Observed, 4096)} }

// Observe records a finished request.
func (o *Recorder) Observe(rt *routing.Route, status int, _ time.Time, _, _ time.Duration) {
	ob := Observed{Status: status}
	if rt != nil {
		ob.Route = rt.Info.RouteName
	}
	o.mu.Lock()
	o.seen = append(o.seen, ob)
	o.mu.Unlock()
	select {
	case o.observed <- ob:
	default:
	}
}

// UpstreamError records an upstream failure kind.
func (o *Recorder) UpstreamError(_ *routing.Route, kind string) {
	o.mu.Lock()
	o.upErrors = append(o.upErrors, kind)
	o.mu.Unlock()
}

// UpstreamErrors are the kinds reported so far, in order.
func (o *Recorder) UpstreamErrors() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.upErrors...)
}

// Statuses are the Observe calls so far, in order.
func (o *Recorder) Statuses() []Observed {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Observed(nil), o.seen...)
}

// Next waits (up to WaitLimit) for the next Observe call.
func (o *Recorder) Next(t testing.TB) Observed {
	t.Helper()
	select {
	case ob := <-o.observed:
		return ob
	case <-time.After(WaitLimit):
		t.Fatal("the engine never reported the request to its observer")
		return Observed{}
	}
}

// Discard is an Observer that keeps nothing (benchmarks).
type Discard struct{}

// Observe does nothing.
func (Discard) Observe(*routing.Route, int, time.Time, time.Duration, time.Duration) {}

// UpstreamError does nothing.
func (Discard) UpstreamError(*routing.Route, string) {}

// waitFor waits up to WaitLimit for a value (or the close) of ch.
func waitFor[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(WaitLimit):
		t.Fatalf("gave up waiting for %s after %v", what, WaitLimit)
		var zero T
		return zero
	}
}
