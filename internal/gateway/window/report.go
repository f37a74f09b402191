package window

import (
	"fmt"
	"time"
)

// Delta is what one bucket of a Ring gained since it was last reported:
// how a stand-alone gateway hands its figures to its control plane, which
// adds them to its own (Ring.Add). A bucket is named by its age rather
// than its epoch, so the two processes' clocks need not agree.
type Delta struct {
	// Age is how many buckets older than the one being filled at the
	// report's time: 0 is that one.
	Age      int64  `json:"age"`
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	// Latency holds the histogram slots that gained answers, as (slot,
	// count) pairs in slot order.
	Latency [][2]uint64 `json:"latency,omitempty"`
	// Upstream is the upstream latency histogram's slots that gained
	// calls, the same way (absent from a gateway that does not count
	// them: no upstream figures).
	Upstream [][2]uint64 `json:"upstream,omitempty"`
}

// counts is a bucket's figures read at one moment.
type counts struct {
	epoch             int64
	requests, errors  uint64
	latency, upstream []uint64
}

// read copies bucket e's figures; ok is false when the ring no longer (or
// not yet) holds that bucket.
func (r *Ring) read(e int64) (c counts, ok bool) {
	b := &r.buckets[e%int64(ringSize)]
	if b.epoch.Load() != e {
		return counts{epoch: e}, false
	}
	c = counts{epoch: e, requests: b.requests.Load(), errors: b.errors.Load(), latency: make([]uint64, len(b.latency))}
	for i := range b.latency {
		c.latency[i] = b.latency[i].Load()
	}
	if b.upstream != nil {
		c.upstream = make([]uint64, len(b.upstream))
		for i := range b.upstream {
			c.upstream[i] = b.upstream[i].Load()
		}
	}
	return c, true
}

// Reporter reports what a Ring gained since the last report that arrived,
// so that figures forwarded again after a failed report are not counted
// twice: Report says what is new, Commit marks it delivered. One Reporter
// follows one Ring, from one goroutine.
type Reporter struct {
	through int64  // every bucket up to this epoch was reported whole
	open    counts // the newest bucket reported, as it was then
	pending struct {
		through int64
		open    counts
		set     bool
	}
}

// Report is what r gained since the last committed report, as of now;
// nil when nothing did.
func (rp *Reporter) Report(r *Ring, now time.Time) []Delta {
	last := Epoch(now)
	var out []Delta
	var newest counts
	for e := max(rp.through+1, last-int64(ringSize)+1); e <= last; e++ {
		c, ok := r.read(e)
		if e == last {
			newest = c
		}
		if !ok {
			continue
		}
		d := Delta{Age: last - e, Requests: c.requests, Errors: c.errors}
		var sent, sentUp []uint64
		if e == rp.open.epoch {
			d.Requests -= min(d.Requests, rp.open.requests)
			d.Errors -= min(d.Errors, rp.open.errors)
			sent, sentUp = rp.open.latency, rp.open.upstream
		}
		d.Latency = gained(c.latency, sent)
		d.Upstream = gained(c.upstream, sentUp)
		if d.Requests > 0 || d.Errors > 0 || len(d.Latency) > 0 || len(d.Upstream) > 0 {
			out = append(out, d)
		}
	}
	rp.pending.through, rp.pending.open, rp.pending.set = last-1, newest, true
	return out
}

// gained is what histogram now holds beyond sent, as (slot, count)
// pairs; nil when nothing.
func gained(now, sent []uint64) [][2]uint64 {
	var out [][2]uint64
	for i, n := range now {
		if i < len(sent) {
			n -= min(n, sent[i])
		}
		if n > 0 {
			out = append(out, [2]uint64{uint64(i), n})
		}
	}
	return out
}

// Cancel forgets the last Report: it was not sent, and what it held is
// reported again next time.
func (rp *Reporter) Cancel() { rp.pending.set = false }

// Commit marks the last Report as delivered.
func (rp *Reporter) Commit() {
	if !rp.pending.set {
		return
	}
	rp.through, rp.open = rp.pending.through, rp.pending.open
	rp.pending.set = false
}

// Check refuses a delta no ring of histogram shift could hold: an age
// outside the ring, a slot past a histogram, slots out of order or
// repeated.
func Check(d Delta, shift uint) error {
	if d.Age < 0 || d.Age >= int64(ringSize) {
		return fmt.Errorf("age %d: want 0 to %d", d.Age, ringSize-1)
	}
	if d.Errors > d.Requests {
		return fmt.Errorf("%d errors among %d requests", d.Errors, d.Requests)
	}
	if err := CheckHistogram("latency", d.Latency, shift); err != nil {
		return err
	}
	return CheckHistogram("upstream", d.Upstream, shift)
}

// CheckHistogram refuses (slot, count) pairs that are not a histogram of
// shift: a slot past it, slots out of order or repeated.
func CheckHistogram(name string, h [][2]uint64, shift uint) error {
	slots := uint64(Slots(shift))
	for i, p := range h {
		if p[0] >= slots {
			return fmt.Errorf("%s slot %d: the histogram has %d", name, p[0], slots)
		}
		if i > 0 && p[0] <= h[i-1][0] {
			return fmt.Errorf("%s slots out of order at %d", name, p[0])
		}
	}
	return nil
}

// MaxDeltas is how many buckets one report of a ring may carry: the
// buckets it holds.
const MaxDeltas = ringSize

// Add counts a reported Delta into the bucket of its age at now. A delta
// older than the ring holds, or than the window its bucket holds now, is
// dropped; one naming a histogram slot the
// ring does not have is an error, and nothing of it is counted. A ring
// without an upstream histogram leaves the delta's upstream figures out.
func (r *Ring) Add(d Delta, now time.Time) error {
	slots := uint64(len(r.buckets[0].latency))
	for _, h := range [][][2]uint64{d.Latency, d.Upstream} {
		for _, p := range h {
			if p[0] >= slots {
				return fmt.Errorf("latency slot %d: the histogram has %d", p[0], slots)
			}
		}
	}
	if d.Age < 0 || d.Age >= int64(ringSize) {
		return nil
	}
	e := Epoch(now) - d.Age
	b := &r.buckets[e%int64(ringSize)]
	if b.epoch.Load() != e {
		// Reports can be counted late (a control plane reading the
		// figures log of the last 15 minutes at start): a bucket that
		// already holds a newer window keeps it, and the delta is dropped.
		r.rotate.Lock()
		defer r.rotate.Unlock()
		switch cur := b.epoch.Load(); {
		case cur > e:
			return nil
		case cur < e:
			r.reset(b, e)
		}
	}
	b.requests.Add(d.Requests)
	b.errors.Add(d.Errors)
	for _, p := range d.Latency {
		b.latency[p[0]].Add(p[1])
	}
	if b.upstream != nil {
		for _, p := range d.Upstream {
			b.upstream[p[0]].Add(p[1])
		}
	}
	return nil
}

// SumOf adds up the same buckets of several rings of one histogram
// layout (the figures one gateway kept and those others reported).
func SumOf(rings []*Ring, first, last int64) Sum {
	if len(rings) == 0 {
		return Sum{}
	}
	s := rings[0].Sum(first, last)
	for _, r := range rings[1:] {
		o := r.Sum(first, last)
		s.Requests += o.Requests
		s.Errors += o.Errors
		for i := range s.hist {
			s.hist[i] += o.hist[i]
			s.upstream[i] += o.upstream[i]
		}
	}
	return s
}

// LastOf sums the window ending at now over several rings, as Last does
// over one.
func LastOf(rings []*Ring, window time.Duration, now time.Time) Sum {
	n := int64(min(max(window/BucketSpan, 1), MaxWindow/BucketSpan))
	last := Epoch(now)
	return SumOf(rings, last-n+1, last)
}
