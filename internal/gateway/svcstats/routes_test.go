package svcstats

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// TestRouteSeriesCountInTheirService: an answer recorded in a route's
// series counts in the route's and in its service's, with its upstream
// latency; another route's stays apart.
func TestRouteSeriesCountInTheirService(t *testing.T) {
	reg := NewRegistry()
	now := time.Unix(1_800_000_000, 0)
	a, b := reg.GetRoute("prod", "s", "ra"), reg.GetRoute("prod", "s", "rb")
	for i := range 100 {
		a.RecordCall(200, time.Duration(i+1)*time.Millisecond, time.Duration(i+1)*time.Millisecond/2, now)
	}
	b.RecordCall(503, time.Second, 0, now) // no upstream call
	svc, _ := reg.Lookup("prod", "s")
	for _, tt := range []struct {
		name             string
		s                *Series
		requests, errors uint64
		p95, upP95       float64
	}{
		{"route a", a, 100, 0, 95, 47.5},
		{"route b", b, 1, 1, 1000, 0},
		{"service", svc, 101, 1, 95, 47.5},
	} {
		p := tt.s.Points(time.Minute, time.Minute, now)[0]
		if p.Requests != tt.requests || p.Errors != tt.errors {
			t.Errorf("%s: %d requests, %d errors; want %d, %d", tt.name, p.Requests, p.Errors, tt.requests, tt.errors)
		}
		if math.Abs(p.P95Ms-tt.p95) > 0.25*tt.p95 || math.Abs(p.UpstreamP95Ms-tt.upP95) > 0.25*tt.upP95 {
			t.Errorf("%s: p95 %.1f ms, upstream p95 %.1f ms; want about %.1f, %.1f", tt.name, p.P95Ms, p.UpstreamP95Ms, tt.p95, tt.upP95)
		}
	}
	if got := reg.Routes("prod", "s"); len(got) != 2 || got[0] != "ra" || got[1] != "rb" {
		t.Errorf("routes = %v", got)
	}
	if reg.GetRoute("prod", "s", "") != svc {
		t.Error("the route-less series is not the service's")
	}
}

// TestRouteSeriesAreBounded: past MaxRouteSeries a route's answers count
// in its service only, and a report of such a route is left out.
func TestRouteSeriesAreBounded(t *testing.T) {
	reg := NewRegistry()
	now := time.Unix(1_800_000_000, 0)
	for i := range MaxRouteSeries {
		reg.GetRoute("g", "s", string(rune('a'+i%26))+string(rune(i)))
	}
	over := reg.GetRoute("g", "s", "one-too-many")
	svc, _ := reg.Lookup("g", "s")
	if over != svc {
		t.Fatal("a route series past the bound was made")
	}
	over.Record(200, time.Millisecond, now)
	if _, ok := reg.LookupRoute("g", "s", "one-too-many"); ok {
		t.Error("the route past the bound has a series")
	}
	if err := reg.Add("g", Report{Service: "s", Route: "another"}, now); err != nil {
		t.Error(err)
	}
	if _, ok := reg.LookupRoute("g", "s", "another"); ok {
		t.Error("a reported route past the bound has a series")
	}
}

// TestRouteReportsReachTheControlPlane: a gateway's route and service
// reports, through JSON, add up on the control plane with upstream
// latencies; a report of an old gateway (no route, no upstream) counts as
// the service's.
func TestRouteReportsReachTheControlPlane(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	gw := NewRegistry()
	for range 10 {
		gw.GetRoute("prod", "s", "r1").RecordCall(200, 20*time.Millisecond, 10*time.Millisecond, now)
	}
	rp := NewReporter(gw, "prod")
	reps := rp.Report(now, 100)
	if len(reps) != 2 {
		t.Fatalf("%d reports, want the service's and the route's", len(reps))
	}
	b, err := json.Marshal(reps)
	if err != nil {
		t.Fatal(err)
	}
	var got []Report
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	cp := NewRegistry()
	for _, r := range got {
		if err := Check(r); err != nil {
			t.Fatal(err)
		}
		if err := cp.Add("prod", r, now); err != nil {
			t.Fatal(err)
		}
	}
	var old Report
	if err := json.Unmarshal([]byte(`{"service":"s","buckets":[{"age":0,"requests":5,"errors":5,"latency":[[30,5]]}]}`), &old); err != nil {
		t.Fatal(err)
	}
	if err := cp.Add("prod", old, now); err != nil {
		t.Fatal(err)
	}
	route, _ := cp.LookupRoute("prod", "s", "r1")
	svc, _ := cp.Lookup("prod", "s")
	rpt := route.Points(time.Minute, time.Minute, now)[0]
	spt := svc.Points(time.Minute, time.Minute, now)[0]
	if rpt.Requests != 10 || rpt.UpstreamP50Ms < 7 || rpt.UpstreamP50Ms > 13 {
		t.Errorf("route on the control plane: %+v", rpt)
	}
	if spt.Requests != 15 || spt.Errors != 5 {
		t.Errorf("service on the control plane: %+v, want 15 requests, 5 errors", spt)
	}
	if Check(Report{Service: "s", Route: string(make([]byte, 65))}) == nil {
		t.Error("a 65-byte route id is accepted")
	}
}

func TestRecordCallAllocs(t *testing.T) {
	reg := NewRegistry()
	s := reg.GetRoute("g", "s", "r")
	now := time.Now()
	if n := testing.AllocsPerRun(1000, func() { s.RecordCall(200, time.Millisecond, 500*time.Microsecond, now) }); n != 0 {
		t.Fatalf("RecordCall allocates %v times", n)
	}
}

func BenchmarkRecordCall(b *testing.B) {
	s := NewRegistry().GetRoute("g", "s", "r")
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.RecordCall(200, time.Duration(i%5000)*time.Microsecond, time.Duration(i%3000)*time.Microsecond, now)
	}
}
