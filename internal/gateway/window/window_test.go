package window

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestSlotRoundTrip(t *testing.T) {
	for _, shift := range []uint{1, 2} {
		r := NewRing(shift)
		limit := 1 / float64(int(1)<<shift) / 2 // half a slot, relative
		for _, d := range []time.Duration{0, time.Microsecond, 3 * time.Microsecond, 5 * time.Microsecond,
			100 * time.Microsecond, time.Millisecond, 37 * time.Millisecond, time.Second, 90 * time.Second} {
			mid := r.slotMid(r.slot(d))
			us := float64(d / time.Microsecond)
			if us >= 4 && math.Abs(mid-us)/us > limit {
				t.Errorf("shift %d: %v lands in a slot centred on %.0f µs, more than %.1f%% off", shift, d, mid, 100*limit)
			}
		}
		if r.slot(time.Hour) != len(r.buckets[0].latency)-1 || r.slot(-time.Second) != 0 {
			t.Errorf("shift %d: out-of-range latencies are not clamped", shift)
		}
	}
}

func TestLastWindowsAndPercentiles(t *testing.T) {
	r := NewRing(2)
	now := time.Unix(1_800_000_000, 0)
	for i := range 100 {
		r.Record(200, time.Duration(i+1)*time.Millisecond, now.Add(-3*time.Minute))
	}
	for i := range 100 {
		status := 200
		if i%10 == 0 {
			status = 503
		}
		r.Record(status, time.Duration(i+1)*time.Millisecond, now)
	}
	for _, tt := range []struct {
		window   time.Duration
		requests uint64
		errors   uint64
	}{{time.Minute, 100, 10}, {5 * time.Minute, 200, 10}, {time.Hour, 200, 10}} {
		if s := r.Last(tt.window, now); s.Requests != tt.requests || s.Errors != tt.errors {
			t.Errorf("last %v: %d requests, %d errors; want %d, %d", tt.window, s.Requests, s.Errors, tt.requests, tt.errors)
		}
	}
	s := r.Last(time.Minute, now)
	if s.ErrorRate() != 0.1 {
		t.Errorf("error rate %v", s.ErrorRate())
	}
	for _, p := range []struct{ q, want float64 }{{0.5, 50}, {0.95, 95}, {0.99, 99}} {
		if got := s.PercentileMs(p.q); math.Abs(got-p.want)/p.want > 0.13 {
			t.Errorf("p%.0f = %.1f ms, want about %.0f", 100*p.q, got, p.want)
		}
	}
	if s := r.Last(MaxWindow, now.Add(16*time.Minute)); s.Requests != 0 || s.PercentileMs(0.99) != 0 {
		t.Errorf("after 16 minutes: %+v", s)
	}
}

func TestBucketReuseForgetsOldFigures(t *testing.T) {
	r := NewRing(1)
	now := time.Unix(1_800_000_000, 0)
	r.Record(500, time.Millisecond, now)
	later := now.Add(time.Duration(ringSize) * BucketSpan) // the same ring slot
	r.Record(200, time.Millisecond, later)
	if s := r.Last(time.Minute, later); s.Requests != 1 || s.Errors != 0 {
		t.Errorf("a reused bucket kept old figures: %+v", s)
	}
}

func TestConcurrentRecord(t *testing.T) {
	r := NewRing(2)
	now := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 1000 {
				r.Record(200, time.Duration(i)*time.Microsecond, now)
			}
		})
	}
	wg.Wait()
	if s := r.Last(time.Minute, now); s.Requests != 8000 {
		t.Errorf("recorded %d, want 8000", s.Requests)
	}
}

func TestRecordAllocs(t *testing.T) {
	r := NewRing(2)
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() { r.Record(200, time.Millisecond, now) }); n != 0 {
		t.Fatalf("Record allocates %v times", n)
	}
}

func BenchmarkRecord(b *testing.B) {
	r := NewRing(2)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.Record(200, time.Duration(i%5000)*time.Microsecond, now)
	}
}

func TestRecordCallAllocs(t *testing.T) {
	r := NewCallRing(1)
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() { r.RecordCall(200, time.Millisecond, time.Millisecond/2, now) }); n != 0 {
		t.Fatalf("RecordCall allocates %v times", n)
	}
}
