// Package splitstats keeps the live figures of traffic splits (canary
// releases): for each side, requests, errors and latencies over the last
// 15 minutes (window.Ring). A Split lives in a Registry keyed by the
// canary's id, outside the compiled routing table, so a weight change (a
// new table) keeps the figures.
package splitstats

import (
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/gateway/window"
	"github.com/portico-gw/portico/internal/spec"
)

// MaxWindow is the longest window figures are kept for.
const MaxWindow = window.MaxWindow

// Split counts both sides of one canary: current (0) and target (1), each
// with percentiles within 12.5 %.
type Split struct {
	sides [2]*window.Ring
}

// NewSplit returns a split without figures.
func NewSplit() *Split {
	return &Split{sides: [2]*window.Ring{window.NewRing(HistogramShift), window.NewRing(HistogramShift)}}
}

func side(target bool) int {
	if target {
		return 1
	}
	return 0
}

// Record counts one answer of a side. It never allocates.
func (s *Split) Record(target bool, status int, elapsed time.Duration, now time.Time) {
	s.sides[side(target)].Record(status, elapsed, now)
}

// Side sums one side over the window ending at now.
func (s *Split) Side(target bool, w time.Duration, now time.Time) spec.SideFigures {
	return Splits{s}.Side(target, w, now)
}

// Figures are both sides over each of Windows.
func (s *Split) Figures(now time.Time) []spec.CanaryWindow { return Splits{s}.Figures(now) }

// Splits are the figures of one canary kept in several places (what the
// embedded gateway counted, what stand-alone gateways reported), read as
// one.
type Splits []*Split

// Side sums one side over the window ending at now.
func (ss Splits) Side(target bool, w time.Duration, now time.Time) spec.SideFigures {
	rings := make([]*window.Ring, len(ss))
	for i, s := range ss {
		rings[i] = s.sides[side(target)]
	}
	sum := window.LastOf(rings, w, now)
	return spec.SideFigures{
		Requests: sum.Requests, Errors: sum.Errors, ErrorRate: sum.ErrorRate(),
		P50Ms: sum.PercentileMs(0.50), P95Ms: sum.PercentileMs(0.95), P99Ms: sum.PercentileMs(0.99),
	}
}

// Windows are the windows a provider sees: the last 1, 5 and 15 minutes.
var Windows = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute}

// Figures are both sides over each of Windows.
func (ss Splits) Figures(now time.Time) []spec.CanaryWindow {
	out := make([]spec.CanaryWindow, len(Windows))
	for i, w := range Windows {
		out[i] = spec.CanaryWindow{
			Window:  w.String(),
			Current: ss.Side(false, w, now),
			Target:  ss.Side(true, w, now),
		}
	}
	return out
}

// Registry holds the splits of the canaries a gateway runs.
type Registry struct {
	mu     sync.Mutex
	splits map[string]*Split
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{splits: map[string]*Split{}} }

// Get returns the split of canary id, creating it on first use. A nil
// registry hands out a fresh split every time (validation builds).
func (r *Registry) Get(id string) *Split {
	if r == nil {
		return NewSplit()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.splits[id]
	if !ok {
		s = NewSplit()
		r.splits[id] = s
	}
	return s
}

// Lookup returns the split of canary id if the gateway runs or ran it.
func (r *Registry) Lookup(id string) (*Split, bool) {
	if r == nil {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.splits[id]
	return s, ok
}

// Retain drops the splits of canaries not in live, once a table without
// them serves.
func (r *Registry) Retain(live map[string]bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id := range r.splits {
		if !live[id] {
			delete(r.splits, id)
		}
	}
}
