// Package svcstats keeps per-service figures over time for the console's
// charts: requests, 5xx errors and a coarse latency histogram in 10-second
// buckets over the last 15 minutes, per gateway group and service. It is
// lighter than splitstats (one side, two histogram slots per power of two)
// because every service that sees traffic has one.
package svcstats

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// BucketSpan is the resolution of a series.
	BucketSpan = 10 * time.Second
	// MaxWindow is how far back figures are kept.
	MaxWindow = 15 * time.Minute
	ringSize  = int(MaxWindow/BucketSpan) + 1 // + the bucket being filled
	// slots: two per power of two of microseconds, 1 µs to about 9 minutes;
	// a percentile is off by at most about 40 %, enough for a chart.
	slots = 2 * 30
)

// Series counts one service in one gateway group.
type Series struct {
	rotate  sync.Mutex // taken only when a bucket turns over
	buckets [ringSize]bucket
}

type bucket struct {
	epoch    atomic.Int64
	requests atomic.Uint64
	errors   atomic.Uint64
	latency  [slots]atomic.Uint64
}

// Record counts one answer (an error when status is 5xx). It never
// allocates and locks only once per bucket turnover.
func (s *Series) Record(status int, elapsed time.Duration, now time.Time) {
	e := now.UnixNano() / int64(BucketSpan)
	b := &s.buckets[e%int64(ringSize)]
	if b.epoch.Load() != e {
		s.turnOver(b, e)
	}
	b.requests.Add(1)
	if status >= 500 {
		b.errors.Add(1)
	}
	b.latency[slot(elapsed)].Add(1)
}

func (s *Series) turnOver(b *bucket, e int64) {
	s.rotate.Lock()
	defer s.rotate.Unlock()
	if b.epoch.Load() == e {
		return
	}
	b.requests.Store(0)
	b.errors.Store(0)
	for i := range b.latency {
		b.latency[i].Store(0)
	}
	b.epoch.Store(e)
}

func slot(d time.Duration) int {
	v := uint64(max(d/time.Microsecond, 0))
	if v < 2 {
		return int(v)
	}
	exp := bits.Len64(v) - 1 // v in [2^exp, 2^(exp+1))
	half := int((v >> (exp - 1)) & 1)
	return min(2*exp+half, slots-1)
}

// slotMid is the middle of a slot's range in milliseconds.
func slotMid(i int) float64 {
	if i < 2 {
		return (float64(i) + 0.5) / 1000
	}
	exp, half := i/2, i%2
	lo := float64(uint64(1)<<exp) * (1 + 0.5*float64(half))
	return lo * 1.25 / 1000
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

// Points returns the series over window ending at now, in steps of step
// (rounded to whole buckets), oldest first. Empty spans are zero points.
func (s *Series) Points(window, step time.Duration, now time.Time) []Point {
	window = min(max(window, BucketSpan), MaxWindow)
	per := int64(max(step/BucketSpan, 1))
	last := now.UnixNano() / int64(BucketSpan)
	n := int64(window / BucketSpan)
	first := last - n + 1
	out := make([]Point, 0, (n+per-1)/per)
	for start := first; start <= last; start += per {
		var p Point
		var hist [slots]uint64
		for e := start; e < start+per && e <= last; e++ {
			b := &s.buckets[e%int64(ringSize)]
			if b.epoch.Load() != e {
				continue
			}
			p.Requests += b.requests.Load()
			p.Errors += b.errors.Load()
			for i := range hist {
				hist[i] += b.latency[i].Load()
			}
		}
		p.At = time.Unix(0, start*int64(BucketSpan)).UTC()
		if p.Requests > 0 {
			p.ErrorRate = float64(p.Errors) / float64(p.Requests)
		}
		p.P50Ms = percentile(&hist, 0.50)
		p.P99Ms = percentile(&hist, 0.99)
		out = append(out, p)
	}
	return out
}

func percentile(hist *[slots]uint64, q float64) float64 {
	var total uint64
	for _, c := range hist {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.999999)
	var seen uint64
	for i, c := range hist {
		seen += c
		if seen >= rank {
			return slotMid(i)
		}
	}
	return slotMid(slots - 1)
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
		s = &Series{}
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
