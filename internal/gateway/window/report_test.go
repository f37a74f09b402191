package window

import (
	"testing"
	"time"
)

// TestReporterForwardsEachAnswerOnce: what one ring records reaches
// another through reports exactly once — a report that did not arrive is
// sent again, a committed one never — while the newest bucket is still
// being filled, and across the two processes' clocks (ages, not epochs).
func TestReporterForwardsEachAnswerOnce(t *testing.T) {
	gw, cp := NewRing(2), NewRing(2)
	var rp Reporter
	now := time.Unix(1_800_000_000, 0)
	skew := 37 * time.Second // the control plane's clock runs ahead
	deliver := func(at time.Time, arrives bool) {
		t.Helper()
		ds := rp.Report(gw, at)
		if !arrives {
			rp.Cancel()
			return
		}
		for _, d := range ds {
			if err := cp.Add(d, at.Add(skew)); err != nil {
				t.Fatal(err)
			}
		}
		rp.Commit()
	}
	record := func(at time.Time, n int, status int, latency time.Duration) {
		for range n {
			gw.Record(status, latency, at)
		}
	}
	record(now, 10, 200, 5*time.Millisecond)
	deliver(now, true)
	record(now.Add(time.Second), 5, 503, 50*time.Millisecond) // same bucket, after its first report
	deliver(now.Add(2*time.Second), false)                    // lost on the way
	record(now.Add(15*time.Second), 7, 200, time.Millisecond) // the next bucket
	deliver(now.Add(16*time.Second), true)
	deliver(now.Add(17*time.Second), true) // nothing new: nothing counted twice
	if ds := rp.Report(gw, now.Add(18*time.Second)); len(ds) != 0 {
		t.Errorf("a report with nothing new: %+v", ds)
	}

	at := now.Add(18 * time.Second)
	want := gw.Last(time.Minute, at)
	got := cp.Last(time.Minute, at.Add(skew))
	if got.Requests != 22 || got.Errors != 5 || got.Requests != want.Requests || got.Errors != want.Errors {
		t.Errorf("forwarded %d requests, %d errors; the gateway has %d, %d (want 22, 5)", got.Requests, got.Errors, want.Requests, want.Errors)
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		if got.PercentileMs(q) != want.PercentileMs(q) {
			t.Errorf("p%.0f: forwarded %.2f ms, the gateway's %.2f ms", 100*q, got.PercentileMs(q), want.PercentileMs(q))
		}
	}
}

func TestSumOfAddsRings(t *testing.T) {
	a, b := NewRing(1), NewRing(1)
	now := time.Unix(1_800_000_000, 0)
	for range 30 {
		a.Record(200, time.Millisecond, now)
	}
	for range 10 {
		b.Record(500, 100*time.Millisecond, now)
	}
	s := LastOf([]*Ring{a, b}, time.Minute, now)
	if s.Requests != 40 || s.Errors != 10 {
		t.Errorf("sum of two rings: %d requests, %d errors; want 40, 10", s.Requests, s.Errors)
	}
	if p := s.PercentileMs(0.9); p < 50 {
		t.Errorf("p90 of both rings %.2f ms: the slow ring's answers are missing", p)
	}
	if s := LastOf(nil, time.Minute, now); s.Requests != 0 || s.PercentileMs(0.5) != 0 {
		t.Errorf("sum of no rings: %+v", s)
	}
}

func TestCheckDelta(t *testing.T) {
	for _, c := range []struct {
		name string
		d    Delta
		ok   bool
	}{
		{"good", Delta{Age: 3, Requests: 2, Errors: 1, Latency: [][2]uint64{{0, 1}, {111, 1}}}, true},
		{"negative age", Delta{Age: -1}, false},
		{"age past the ring", Delta{Age: int64(ringSize)}, false},
		{"more errors than requests", Delta{Requests: 1, Errors: 2}, false},
		{"slot past the histogram", Delta{Latency: [][2]uint64{{112, 1}}}, false},
		{"slots out of order", Delta{Latency: [][2]uint64{{5, 1}, {4, 1}}}, false},
		{"slot repeated", Delta{Latency: [][2]uint64{{5, 1}, {5, 1}}}, false},
	} {
		if err := Check(c.d, 2); (err == nil) != c.ok {
			t.Errorf("%s: Check = %v, want ok %v", c.name, err, c.ok)
		}
	}
	// Add refuses a slot its ring does not have, and counts nothing.
	r := NewRing(1)
	if err := r.Add(Delta{Requests: 1, Latency: [][2]uint64{{56, 1}}}, time.Now()); err == nil {
		t.Error("Add of a slot past a shift-1 histogram: no error")
	}
	if s := r.Last(time.Minute, time.Now()); s.Requests != 0 {
		t.Errorf("a refused delta was counted: %+v", s)
	}
}

// TestAddLateKeepsNewerWindow: a delta counted late, whose bucket has
// since been reused for a newer window, is dropped rather than wiping
// that window; one for a free bucket is counted.
func TestAddLateKeepsNewerWindow(t *testing.T) {
	r := NewRing(1)
	now := time.Unix(1_800_000_000, 0)
	r.Record(200, time.Millisecond, now)
	// Reported a whole ring ago: the same bucket, an older window.
	late := now.Add(-time.Duration(ringSize) * BucketSpan)
	if err := r.Add(Delta{Requests: 5}, late); err != nil {
		t.Fatal(err)
	}
	if got := r.Sum(Epoch(now), Epoch(now)).Requests; got != 1 {
		t.Errorf("the newer window holds %d requests after a late delta, want 1", got)
	}
	if err := r.Add(Delta{Requests: 5}, now.Add(-BucketSpan)); err != nil {
		t.Fatal(err)
	}
	if got := r.Sum(Epoch(now)-1, Epoch(now)).Requests; got != 6 {
		t.Errorf("the last two windows hold %d requests, want 6", got)
	}
}

// TestUpstreamLatenciesAreReported: a call ring's upstream histogram is
// reported once and added up on the other side; a ring without one
// leaves it out; the pairs read back as a Sum of counts.
func TestUpstreamLatenciesAreReported(t *testing.T) {
	gw, cp, plain := NewCallRing(1), NewCallRing(1), NewRing(1)
	now := time.Unix(1_800_000_000, 0)
	for i := range 100 {
		gw.RecordCall(200, time.Duration(i+1)*time.Millisecond, time.Duration(i+1)*100*time.Microsecond, now)
	}
	gw.RecordCall(502, time.Millisecond, 0, now) // no upstream call
	var rp Reporter
	ds := rp.Report(gw, now)
	rp.Commit()
	for _, d := range ds {
		if err := Check(d, 1); err != nil {
			t.Fatal(err)
		}
		if err := cp.Add(d, now); err != nil {
			t.Fatal(err)
		}
		if err := plain.Add(d, now); err != nil {
			t.Fatal(err)
		}
	}
	if ds := rp.Report(gw, now); len(ds) != 0 {
		t.Errorf("reported again: %+v", ds)
	}
	s := cp.Last(time.Minute, now)
	want := gw.Last(time.Minute, now)
	if s.Requests != 101 || s.UpstreamPercentileMs(0.95) != want.UpstreamPercentileMs(0.95) {
		t.Errorf("upstream p95 %.2f on the control plane, %.2f on the gateway", s.UpstreamPercentileMs(0.95), want.UpstreamPercentileMs(0.95))
	}
	if p := s.UpstreamPercentileMs(0.5); p < 4 || p > 6.5 {
		t.Errorf("upstream p50 = %.2f ms, want about 5", p)
	}
	if p := plain.Last(time.Minute, now).UpstreamPercentileMs(0.5); p != 0 {
		t.Errorf("a ring without an upstream histogram has upstream p50 %.2f", p)
	}
	back := SumOfCounts(1, s.Requests, s.Errors, s.Latency(), s.Upstream())
	for _, q := range []float64{0.5, 0.95, 0.99} {
		if back.PercentileMs(q) != s.PercentileMs(q) || back.UpstreamPercentileMs(q) != s.UpstreamPercentileMs(q) {
			t.Errorf("p%.0f does not survive the pairs", 100*q)
		}
	}
	if Check(Delta{Upstream: [][2]uint64{{3, 1}, {2, 1}}}, 1) == nil {
		t.Error("upstream slots out of order are accepted")
	}
	if Check(Delta{Upstream: [][2]uint64{{56, 1}}}, 1) == nil {
		t.Error("an upstream slot past the histogram is accepted")
	}
}
