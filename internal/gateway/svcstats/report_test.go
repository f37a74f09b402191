package svcstats

import (
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/window"
)

// TestReportsAddUpOverGateways: a gateway's reports of its group's
// services, added to a control plane's registry, chart the same points as
// the gateway's own series, added to the embedded gateway's; a report
// bounded to fewer services leaves the rest for the next one.
func TestReportsAddUpOverGateways(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	gw := NewRegistry()
	for i, svc := range []string{"s1", "s2", "s3"} {
		for range 10 * (i + 1) {
			gw.Get("prod", svc).Record(200, time.Millisecond, now)
		}
	}
	gw.Get("test", "s1").Record(200, time.Millisecond, now) // another group: not this gateway's report
	rp := NewReporter(gw, "prod")
	cp := NewRegistry()
	deliver := func(max int) int {
		reps := rp.Report(now, max)
		for _, r := range reps {
			if err := Check(r); err != nil {
				t.Fatal(err)
			}
			if err := cp.Add("prod", r, now); err != nil {
				t.Fatal(err)
			}
		}
		rp.Commit()
		return len(reps)
	}
	if n := deliver(2); n != 2 {
		t.Fatalf("a report bounded to 2 services holds %d", n)
	}
	if n := deliver(10); n != 1 {
		t.Fatalf("the next report holds %d services, want the one left", n)
	}
	if n := deliver(10); n != 0 {
		t.Fatalf("a third report holds %d services, want none", n)
	}
	embedded := NewSeries()
	embedded.Record(500, time.Second, now)
	for i, svc := range []string{"s1", "s2", "s3"} {
		got, ok := cp.Lookup("prod", svc)
		if !ok {
			t.Fatalf("%s not reported", svc)
		}
		pts := Points([]*Series{got, embedded}, time.Minute, time.Minute, now)
		if len(pts) != 1 || pts[0].Requests != uint64(10*(i+1)+1) || pts[0].Errors != 1 {
			t.Errorf("%s: %+v, want %d requests, 1 error", svc, pts, 10*(i+1)+1)
		}
	}
	if _, ok := cp.Lookup("prod", "test"); ok {
		t.Error("another group's series was reported")
	}
	if Check(Report{Service: "s1", Buckets: []window.Delta{{Latency: [][2]uint64{{56, 1}}}}}) == nil {
		t.Error("a slot past a series' histogram is accepted")
	}
}
