// Package window counts a gateway's answers over the last 15 minutes in
// 10-second buckets: requests, 5xx errors and a latency histogram. A Ring
// records without allocating and locks only when a bucket turns over; a
// Sum over some of its buckets gives rates and percentiles. Canary figures
// (splitstats) and per-service charts (svcstats) are both made of Rings.
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

// Epoch is the bucket number of t.
func Epoch(t time.Time) int64 { return t.UnixNano() / int64(BucketSpan) }

// Record counts one answer: an error when status is 5xx (the gateway's
// own 502/503/504 for connection failures included).
func (r *Ring) Record(status int, elapsed time.Duration, now time.Time) {
	e := Epoch(now)
	b := &r.buckets[e%int64(ringSize)]
	if b.epoch.Load() != e {
		r.turnOver(b, e)
	}
	b.requests.Add(1)
	if status >= 500 {
		b.errors.Add(1)
	}
	b.latency[r.slot(elapsed)].Add(1)
}

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
	b.epoch.Store(e)
}

// slot maps a latency to its histogram slot: the first 2^shift
// microseconds exactly, then 2^shift slots per power of two.
func (r *Ring) slot(d time.Duration) int {
	v := uint64(max(d/time.Microsecond, 0))
	k := uint64(1) << r.shift
	if v < k {
		return int(v)
	}
	exp := uint(bits.Len64(v) - 1)
	i := int(k)*int(exp-r.shift+1) + int((v>>(exp-r.shift))&(k-1))
	return min(i, int(k)*doublings-1)
}

// slotMid is the middle of a slot's range, in microseconds.
func (r *Ring) slotMid(i int) float64 {
	k := 1 << r.shift
	if i < k {
		return float64(i) + 0.5
	}
	exp := uint(i/k) + r.shift - 1
	lo := uint64(k+i%k) << (exp - r.shift)
	hi := uint64(k+i%k+1) << (exp - r.shift)
	return float64(lo+hi) / 2
}

// Sum is the answers of some buckets added up.
type Sum struct {
	Requests, Errors uint64
	hist             []uint64
	ring             *Ring
}

// Sum adds up the buckets of epochs first to last (inclusive); buckets
// no longer held count as empty.
func (r *Ring) Sum(first, last int64) Sum {
	s := Sum{hist: make([]uint64, len(r.buckets[0].latency)), ring: r}
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
	}
	return s
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
func (s Sum) PercentileMs(q float64) float64 {
	var total uint64
	for _, c := range s.hist {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.999999)
	var seen uint64
	for i, c := range s.hist {
		seen += c
		if seen >= rank {
			return s.ring.slotMid(i) / 1000
		}
	}
	return s.ring.slotMid(len(s.hist)-1) / 1000
}
