// Package svcstats keeps per-service figures over time for the console's
// charts: requests, 5xx errors and latencies in 10-second buckets over the
// last 15 minutes (window.Ring), per gateway group and service. Its
// histogram is coarser than a canary's (percentiles within 25 %, enough
// for a chart) because every service that sees traffic has one.
package svcstats

import (
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/gateway/window"
)

// The resolution of a series and how far back it reaches.
const (
	BucketSpan = window.BucketSpan
	MaxWindow  = window.MaxWindow
)

// Series counts one service in one gateway group.
type Series struct{ ring *window.Ring }

// NewSeries returns a series without figures.
func NewSeries() *Series { return &Series{ring: window.NewRing(HistogramShift)} }

// Record counts one answer (an error when status is 5xx). It never
// allocates.
func (s *Series) Record(status int, elapsed time.Duration, now time.Time) {
	s.ring.Record(status, elapsed, now)
}

// Point is one bucket of a series (or several, summed).
type Point struct {
	At        time.Time `json:"at"` // start of the span
	Requests  uint64    `json:"requests"`
	Errors    uint64    `json:"errors"`
	ErrorRate float64   `json:"error_rate"`
	P50Ms     float64   `json:"p50_ms"`
	P99Ms     float64   `json:"p99_ms"`
}

// Points returns the series over w ending at now, in steps of step
// (rounded to whole buckets), oldest first. Empty spans are zero points.
func (s *Series) Points(w, step time.Duration, now time.Time) []Point {
	return Points([]*Series{s}, w, step, now)
}

// Points returns several series of one service (what the embedded
// gateway counted, what stand-alone gateways reported) added up, as
// Series.Points does for one.
func Points(series []*Series, w, step time.Duration, now time.Time) []Point {
	rings := make([]*window.Ring, len(series))
	for i, s := range series {
		rings[i] = s.ring
	}
	w = min(max(w, window.BucketSpan), MaxWindow)
	per := int64(max(step/window.BucketSpan, 1))
	last := window.Epoch(now)
	first := last - int64(w/window.BucketSpan) + 1
	out := make([]Point, 0, (last-first+per)/per)
	for start := first; start <= last; start += per {
		sum := window.SumOf(rings, start, min(start+per-1, last))
		out = append(out, Point{
			At:       time.Unix(0, start*int64(window.BucketSpan)).UTC(),
			Requests: sum.Requests, Errors: sum.Errors, ErrorRate: sum.ErrorRate(),
			P50Ms: sum.PercentileMs(0.50), P99Ms: sum.PercentileMs(0.99),
		})
	}
	return out
}

// Registry holds the series of every (group, service) that saw traffic.
type Registry struct {
	mu     sync.Mutex
	series map[key]*Series
}

type key struct{ group, service string }

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{series: map[key]*Series{}} }

// Get returns the series of service in group, creating it on first use. A
// nil registry answers nil (figures off).
func (r *Registry) Get(group, service string) *Series {
	if r == nil || service == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := key{group, service}
	s, ok := r.series[k]
	if !ok {
		s = NewSeries()
		r.series[k] = s
	}
	return s
}

// Lookup returns the series of service in group if it saw traffic.
func (r *Registry) Lookup(group, service string) (*Series, bool) {
	if r == nil {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.series[key{group, service}]
	return s, ok
}
