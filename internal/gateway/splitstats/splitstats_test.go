package splitstats

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestSideWindowsAndPercentiles(t *testing.T) {
	s := NewSplit()
	now := time.Unix(1_800_000_000, 0)
	// 100 answers a minute ago-ish (inside 5m, outside 1m), 100 now.
	for i := range 100 {
		s.Record(true, 200, time.Duration(i+1)*time.Millisecond, now.Add(-3*time.Minute))
	}
	for i := range 100 {
		status := 200
		if i%10 == 0 {
			status = 503
		}
		s.Record(true, status, time.Duration(i+1)*time.Millisecond, now)
	}
	s.Record(false, 200, time.Millisecond, now)

	tests := []struct {
		name     string
		target   bool
		window   time.Duration
		requests uint64
		errors   uint64
	}{
		{"target 1m", true, time.Minute, 100, 10},
		{"target 5m", true, 5 * time.Minute, 200, 10},
		{"target 15m", true, 15 * time.Minute, 200, 10},
		{"current 1m", false, time.Minute, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := s.Side(tt.target, tt.window, now)
			if f.Requests != tt.requests || f.Errors != tt.errors {
				t.Fatalf("got %d requests, %d errors; want %d, %d", f.Requests, f.Errors, tt.requests, tt.errors)
			}
		})
	}
	f := s.Side(true, time.Minute, now)
	if f.ErrorRate != 0.1 {
		t.Errorf("error rate %v, want 0.1", f.ErrorRate)
	}
	for _, p := range []struct {
		name      string
		got, want float64
	}{{"p50", f.P50Ms, 50}, {"p95", f.P95Ms, 95}, {"p99", f.P99Ms, 99}} {
		if math.Abs(p.got-p.want)/p.want > 0.13 {
			t.Errorf("%s = %.1f ms, want about %.0f", p.name, p.got, p.want)
		}
	}
	// 16 minutes later nothing is left.
	if f := s.Side(true, MaxWindow, now.Add(16*time.Minute)); f.Requests != 0 || f.P99Ms != 0 {
		t.Errorf("after 16 minutes: %+v, want nothing", f)
	}
}

func TestConcurrentRecord(t *testing.T) {
	s := NewSplit()
	now := time.Now()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				s.Record(g%2 == 0, 200, time.Duration(i)*time.Microsecond, now)
			}
		})
	}
	wg.Wait()
	if a, b := s.Side(true, time.Minute, now).Requests, s.Side(false, time.Minute, now).Requests; a != 4000 || b != 4000 {
		t.Errorf("recorded %d + %d, want 4000 each", a, b)
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	a := r.Get("a")
	if r.Get("a") != a {
		t.Fatal("Get does not return the same split for one id")
	}
	r.Get("b")
	r.Retain(map[string]bool{"a": true})
	if _, ok := r.Lookup("b"); ok {
		t.Error("Retain kept a split that is not live")
	}
	if s, ok := r.Lookup("a"); !ok || s != a {
		t.Error("Retain dropped a live split")
	}
	var none *Registry
	if none.Get("x") == nil {
		t.Error("a nil registry hands out no split")
	}
}
