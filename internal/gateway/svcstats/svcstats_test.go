package svcstats

import (
	"testing"
	"time"
)

func TestPoints(t *testing.T) {
	s := NewSeries()
	now := time.Unix(1_700_000_000, 0)
	for i := range 100 {
		st := 200
		if i%10 == 0 {
			st = 502
		}
		s.Record(st, time.Duration(i+1)*time.Millisecond, now)
	}
	s.Record(200, time.Millisecond, now.Add(-5*time.Minute))
	pts := s.Points(15*time.Minute, time.Minute, now)
	if len(pts) != 15 {
		t.Fatalf("points = %d, want 15", len(pts))
	}
	lastP := pts[len(pts)-1]
	if lastP.Requests != 100 || lastP.Errors != 10 || lastP.ErrorRate != 0.1 {
		t.Fatalf("last point = %+v", lastP)
	}
	if lastP.P50Ms < 30 || lastP.P50Ms > 80 || lastP.P99Ms < 60 || lastP.P99Ms > 160 {
		t.Fatalf("percentiles p50=%v p99=%v out of range", lastP.P50Ms, lastP.P99Ms)
	}
	var total uint64
	for _, p := range pts {
		total += p.Requests
	}
	if total != 101 {
		t.Fatalf("total = %d, want 101", total)
	}
	// Old figures leave the ring.
	if pts := s.Points(time.Minute, time.Minute, now.Add(20*time.Minute)); pts[0].Requests != 0 {
		t.Fatalf("stale figures: %+v", pts)
	}
}

func TestRecordAllocs(t *testing.T) {
	s := NewSeries()
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() { s.Record(200, time.Millisecond, now) }); n != 0 {
		t.Fatalf("Record allocates %v times", n)
	}
}

func TestRegistry(t *testing.T) {
	var nilReg *Registry
	if nilReg.Get("g", "s") != nil {
		t.Fatal("nil registry handed out a series")
	}
	r := NewRegistry()
	a := r.Get("g", "s")
	if b, ok := r.Lookup("g", "s"); !ok || a != b {
		t.Fatal("lookup did not find the series")
	}
	if _, ok := r.Lookup("h", "s"); ok {
		t.Fatal("lookup found another group's series")
	}
}

func TestResolution(t *testing.T) {
	for _, tt := range []struct {
		window time.Duration
		want   time.Duration
	}{
		{15 * time.Minute, BucketSpan}, {time.Hour, BucketSpan}, {61 * time.Minute, MinuteSpan},
		{24 * time.Hour, MinuteSpan}, {25 * time.Hour, HourSpan}, {MaxHistory, HourSpan},
		{time.Second, 0}, {MaxHistory + time.Hour, 0},
	} {
		got, err := Resolution(tt.window)
		if got != tt.want || (err != nil) != (tt.want == 0) {
			t.Errorf("Resolution(%v) = %v, %v; want %v", tt.window, got, err, tt.want)
		}
	}
}

// TestSpanStillFilling: a span that began a few minutes ago and ends in
// the future counts what its buckets hold so far; one that began before
// the rings' reach is not answered.
func TestSpanStillFilling(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 5, 0, 0, time.UTC)
	s := NewSeries()
	s.Record(200, time.Millisecond, now.Add(-4*time.Minute))
	s.Record(500, time.Millisecond, now)
	sum, ok := Span([]*Series{s}, now.Truncate(time.Hour), now.Truncate(time.Hour).Add(time.Hour), now)
	if !ok || sum.Requests != 2 || sum.Errors != 1 {
		t.Errorf("the hour being filled: %d requests, %d errors, held %v; want 2, 1, true", sum.Requests, sum.Errors, ok)
	}
	if _, ok := Span([]*Series{s}, now.Add(-time.Hour), now, now); ok {
		t.Error("a span older than the rings' reach is answered from them")
	}
}
