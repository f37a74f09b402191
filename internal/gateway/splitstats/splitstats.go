// Package splitstats keeps the live figures of traffic splits (canary
// releases): for each side, requests, errors and a latency histogram in
// 10-second buckets over the last 15 minutes. A Split lives in a Registry
// keyed by the canary's id, outside the compiled routing table, so a weight
// change (a new table) keeps the figures (DESIGN.md rule 8).
package splitstats

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

const (
	// BucketSpan is the resolution of every window.
	BucketSpan = 10 * time.Second
	// MaxWindow is the longest window figures are kept for.
	MaxWindow = 15 * time.Minute
	ringSize  = int(MaxWindow/BucketSpan) + 1 // + the bucket being filled
	// latencySlots cover 1 µs to about 4.5 minutes with four slots per
	// power of two: a percentile is off by at most 12.5 %.
	latencySlots = 4 * 27
)

// Split counts both sides of one canary.
type Split struct {
	rotate sync.Mutex // only taken when a bucket turns over
	sides  [2][ringSize]bucket
}

type bucket struct {
	epoch    atomic.Int64 // unix time / BucketSpan of what the bucket holds
	requests atomic.Uint64
	errors   atomic.Uint64
	latency  [latencySlots]atomic.Uint64
}

// Record counts one answer: on the target side when target is set, an
// error when status is 5xx (the gateway's own 502/503/504 for connection
// failures included). It never allocates and takes no lock except once per
// bucket and 10 seconds.
func (s *Split) Record(target bool, status int, elapsed time.Duration, now time.Time) {
	e := now.UnixNano() / int64(BucketSpan)
	side := 0
	if target {
		side = 1
	}
	b := &s.sides[side][e%int64(ringSize)]
	if b.epoch.Load() != e {
		s.turnOver(b, e)
	}
	b.requests.Add(1)
	if status >= 500 {
		b.errors.Add(1)
	}
	b.latency[slot(elapsed)].Add(1)
}

// turnOver empties a bucket that holds a window long gone.
func (s *Split) turnOver(b *bucket, e int64) {
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

// slot maps a latency to its histogram slot: values below 4 µs exactly,
// above that four slots per power of two.
func slot(d time.Duration) int {
	v := uint64(max(d/time.Microsecond, 0))
	if v < 4 {
		return int(v)
	}
	exp := bits.Len64(v) - 1
	i := 4*(exp-1) + int((v>>(exp-2))&3)
	return min(i, latencySlots-1)
}

// slotMid is the middle of a slot's range, in microseconds.
func slotMid(i int) float64 {
	if i < 4 {
		return float64(i) + 0.5
	}
	exp := i/4 + 1
	lo := uint64(4+i%4) << (exp - 2)
	hi := uint64(5+i%4) << (exp - 2)
	return float64(lo+hi) / 2
}

// Side sums one side over the window ending at now.
func (s *Split) Side(target bool, window time.Duration, now time.Time) spec.SideFigures {
	side := 0
	if target {
		side = 1
	}
	last := now.UnixNano() / int64(BucketSpan)
	n := int64(min(max(window/BucketSpan, 1), MaxWindow/BucketSpan))
	var hist [latencySlots]uint64
	var f spec.SideFigures
	for e := last - n + 1; e <= last; e++ {
		b := &s.sides[side][e%int64(ringSize)]
		if b.epoch.Load() != e {
			continue
		}
		f.Requests += b.requests.Load()
		f.Errors += b.errors.Load()
		for i := range hist {
			hist[i] += b.latency[i].Load()
		}
	}
	if f.Requests > 0 {
		f.ErrorRate = float64(f.Errors) / float64(f.Requests)
	}
	var total uint64
	for _, c := range hist {
		total += c
	}
	f.P50Ms = percentile(&hist, total, 0.50)
	f.P95Ms = percentile(&hist, total, 0.95)
	f.P99Ms = percentile(&hist, total, 0.99)
	return f
}

func percentile(hist *[latencySlots]uint64, total uint64, q float64) float64 {
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.999999)
	var seen uint64
	for i, c := range hist {
		seen += c
		if seen >= rank {
			return slotMid(i) / 1000
		}
	}
	return slotMid(latencySlots-1) / 1000
}

// Windows are the windows a provider sees: the last 1, 5 and 15 minutes.
var Windows = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute}

// Figures are both sides over each of Windows.
func (s *Split) Figures(now time.Time) []spec.CanaryWindow {
	out := make([]spec.CanaryWindow, len(Windows))
	for i, w := range Windows {
		out[i] = spec.CanaryWindow{
			Window:  w.String(),
			Current: s.Side(false, w, now),
			Target:  s.Side(true, w, now),
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
		return &Split{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.splits[id]
	if !ok {
		s = &Split{}
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
