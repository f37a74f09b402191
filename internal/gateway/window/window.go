// Package window counts a gateway's answers over the last 15 minutes in
// 10-second buckets: requests, 5xx errors, a latency histogram and, in a
// ring made by NewCallRing, a histogram of the upstream's share of the
// latency. A Ring records without allocating and locks only when a bucket
// turns over; a Sum over some of its buckets gives rates and percentiles.
// Canary figures (splitstats) and per-service and per-route figures
// (svcstats) are both made of Rings.
//
// Memory: a bucket holds 3 counters and (1<<shift)*28 slots of 8 bytes
// per histogram, and a ring 91 buckets: shift 1 with the upstream
// histogram (svcstats) is about 88 KB per ring, and so is shift 2
// without it (splitstats).
package window

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// BucketSpan is the resolution of every window.
	BucketSpan = 10 * time.Second
	// MaxWindow is how far back figures are kept.
	MaxWindow = 15 * time.Minute
	ringSize  = int(MaxWindow/BucketSpan) + 1 // + the bucket being filled
	// doublings covered by a histogram: 1 µs to 2^28 µs (about 4.5 min).
	doublings = 28
)

// Ring is one series of answers.
type Ring struct {
	rotate  sync.Mutex // only taken when a bucket turns over
	shift   uint       // log2 of the histogram slots per doubling
	buckets [ringSize]bucket
}

type bucket struct {
	epoch    atomic.Int64 // Epoch of what the bucket holds
	requests atomic.Uint64
	errors   atomic.Uint64
	latency  []atomic.Uint64
	// upstream is the histogram of the upstream calls' latencies (nil in
	// a ring without one): answers that made no upstream call (a plugin
	// answered, no node was left) are not in it.
	upstream []atomic.Uint64
}

// NewRing returns an empty ring whose latency histogram has 2^shift slots
// per doubling: shift 2 puts a percentile within 12.5 %, shift 1 within
// 25 % in half the memory.
func NewRing(shift uint) *Ring {
	r := &Ring{shift: shift}
	slots := (1 << shift) * doublings
	for i := range r.buckets {
		r.buckets[i].latency = make([]atomic.Uint64, slots)
	}
	return r
}

// NewCallRing returns an empty ring like NewRing's that also keeps a
// histogram of upstream latencies (RecordCall), of the same layout.
func NewCallRing(shift uint) *Ring {
	r := NewRing(shift)
	slots := (1 << shift) * doublings
	for i := range r.buckets {
		r.buckets[i].upstream = make([]atomic.Uint64, slots)
	}
	return r
}

// Epoch is the bucket number of t.
func Epoch(t time.Time) int64 { return t.UnixNano() / int64(BucketSpan) }

// Record counts one answer: an error when status is 5xx (the gateway's
// own 502/503/504 for connection failures included).
func (r *Ring) Record(status int, elapsed time.Duration, now time.Time) {
	r.RecordCall(status, elapsed, 0, now)
}

// RecordCall counts one answer as Record does, and the upstream call's
// latency in the upstream histogram when upstream > 0 (0: no upstream
// call was made) and the ring keeps one.
func (r *Ring) RecordCall(status int, total, upstream time.Duration, now time.Time) {
	e := Epoch(now)
	b := &r.buckets[e%int64(ringSize)]
	if b.epoch.Load() != e {
		r.turnOver(b, e)
	}
	b.requests.Add(1)
	if status >= 500 {
		b.errors.Add(1)
	}
	b.latency[r.slot(total)].Add(1)
	if upstream > 0 && b.upstream != nil {
		b.upstream[r.slot(upstream)].Add(1)
	}
}

// HasUpstream reports whether the ring keeps upstream latencies.
func (r *Ring) HasUpstream() bool { return r.buckets[0].upstream != nil }

// turnOver empties a bucket that holds a window long gone.
func (r *Ring) turnOver(b *bucket, e int64) {
	r.rotate.Lock()
	defer r.rotate.Unlock()
	if b.epoch.Load() == e {
		return
	}
	r.reset(b, e)
}

// reset empties b for window e; the caller holds r.rotate.
func (r *Ring) reset(b *bucket, e int64) {
	b.requests.Store(0)
	b.errors.Store(0)
	for i := range b.latency {
		b.latency[i].Store(0)
	}
	for i := range b.upstream {
		b.upstream[i].Store(0)
	}
	b.epoch.Store(e)
}

// slot maps a latency to its histogram slot: the first 2^shift
// microseconds exactly, then 2^shift slots per power of two.
func (r *Ring) slot(d time.Duration) int { return Slot(r.shift, d) }

// Slot maps a latency to its slot in a histogram of 2^shift slots per
// doubling: the first 2^shift microseconds exactly, then 2^shift slots
// per power of two.
func Slot(shift uint, d time.Duration) int {
	v := uint64(max(d/time.Microsecond, 0))
	k := uint64(1) << shift
	if v < k {
		return int(v)
	}
	exp := uint(bits.Len64(v) - 1)
	i := int(k)*int(exp-shift+1) + int((v>>(exp-shift))&(k-1))
	return min(i, int(k)*doublings-1)
}

// Slots is how many slots a histogram of shift has.
func Slots(shift uint) int { return (1 << shift) * doublings }

// slotMid is the middle of a slot's range, in microseconds.
func (r *Ring) slotMid(i int) float64 { return slotMid(r.shift, i) }

func slotMid(shift uint, i int) float64 {
	k := 1 << shift
	if i < k {
		return float64(i) + 0.5
	}
	exp := uint(i/k) + shift - 1
	lo := uint64(k+i%k) << (exp - shift)
	hi := uint64(k+i%k+1) << (exp - shift)
	return float64(lo+hi) / 2
}

// Sum is the answers of some buckets added up.
type Sum struct {
	Requests, Errors uint64
	hist, upstream   []uint64
	shift            uint
}

// Sum adds up the buckets of epochs first to last (inclusive); buckets
// no longer held count as empty.
func (r *Ring) Sum(first, last int64) Sum {
	s := Sum{hist: make([]uint64, len(r.buckets[0].latency)), upstream: make([]uint64, len(r.buckets[0].latency)), shift: r.shift}
	first = max(first, last-int64(ringSize)+1)
	for e := first; e <= last; e++ {
		b := &r.buckets[e%int64(ringSize)]
		if b.epoch.Load() != e {
			continue
		}
		s.Requests += b.requests.Load()
		s.Errors += b.errors.Load()
		for i := range s.hist {
			s.hist[i] += b.latency[i].Load()
		}
		for i := range b.upstream {
			s.upstream[i] += b.upstream[i].Load()
		}
	}
	return s
}

// Add adds o's figures to s (both of one histogram layout; an empty
// Sum takes o's).
func (s *Sum) Add(o Sum) {
	if s.hist == nil {
		s.hist, s.upstream, s.shift = make([]uint64, len(o.hist)), make([]uint64, len(o.upstream)), o.shift
	}
	s.Requests += o.Requests
	s.Errors += o.Errors
	for i := range min(len(s.hist), len(o.hist)) {
		s.hist[i] += o.hist[i]
	}
	for i := range min(len(s.upstream), len(o.upstream)) {
		s.upstream[i] += o.upstream[i]
	}
}

// SumOfCounts is a Sum of figures kept elsewhere (the store's rollups):
// latency and upstream are histograms of shift as (slot, count) pairs,
// slots past the histogram left out.
func SumOfCounts(shift uint, requests, errors uint64, latency, upstream [][2]uint64) Sum {
	n := Slots(shift)
	s := Sum{Requests: requests, Errors: errors, hist: make([]uint64, n), upstream: make([]uint64, n), shift: shift}
	for _, p := range latency {
		if p[0] < uint64(n) {
			s.hist[p[0]] += p[1]
		}
	}
	for _, p := range upstream {
		if p[0] < uint64(n) {
			s.upstream[p[0]] += p[1]
		}
	}
	return s
}

// Latency and Upstream are the sum's histograms as (slot, count) pairs
// in slot order, the slots without answers left out: what the store's
// rollups keep.
func (s Sum) Latency() [][2]uint64  { return pairs(s.hist) }
func (s Sum) Upstream() [][2]uint64 { return pairs(s.upstream) }

func pairs(h []uint64) [][2]uint64 {
	var out [][2]uint64
	for i, n := range h {
		if n > 0 {
			out = append(out, [2]uint64{uint64(i), n})
		}
	}
	return out
}

// Last sums the window ending at now (whole buckets, the one being filled
// included), at most MaxWindow.
func (r *Ring) Last(window time.Duration, now time.Time) Sum {
	return LastOf([]*Ring{r}, window, now)
}

// ErrorRate is Errors / Requests, 0 without requests.
func (s Sum) ErrorRate() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Errors) / float64(s.Requests)
}

// PercentileMs is the q-quantile (0 < q ≤ 1) of the latencies in
// milliseconds, 0 without requests.
func (s Sum) PercentileMs(q float64) float64 { return percentileMs(s.shift, s.hist, q) }

// UpstreamPercentileMs is the q-quantile of the upstream calls'
// latencies in milliseconds, 0 without upstream calls.
func (s Sum) UpstreamPercentileMs(q float64) float64 { return percentileMs(s.shift, s.upstream, q) }

func percentileMs(shift uint, hist []uint64, q float64) float64 {
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
			return slotMid(shift, i) / 1000
		}
	}
	return slotMid(shift, len(hist)-1) / 1000
}
