package splitstats

import (
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/window"
)

// TestReportsAddUpOverGateways: two gateways' reports of one canary, added
// to a control plane's registry beside the embedded gateway's own split,
// read as the sum of all three; a canary the gateway no longer runs is
// no longer reported.
func TestReportsAddUpOverGateways(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	cp := NewRegistry()
	var want [2]uint64
	for g := range 2 {
		reg := NewRegistry()
		rp := NewReporter(reg)
		s := reg.Get("c1")
		for i := range 10 * (g + 1) {
			s.Record(i%2 == 0, 200, time.Millisecond, now)
			want[i%2]++
		}
		reps := rp.Report(now)
		if len(reps) != 2 {
			t.Fatalf("gateway %d reports %+v, want both sides of c1", g, reps)
		}
		for _, r := range reps {
			if err := Check(r); err != nil {
				t.Fatal(err)
			}
			if err := cp.Add(r, now); err != nil {
				t.Fatal(err)
			}
		}
		rp.Commit()
		reg.Retain(map[string]bool{})
		if reps := rp.Report(now); len(reps) != 0 {
			t.Errorf("a canary no longer run is still reported: %+v", reps)
		}
	}
	embedded := NewSplit()
	embedded.Record(true, 503, time.Second, now)
	reported, _ := cp.Lookup("c1")
	ss := Splits{embedded, reported}
	if got := ss.Side(false, time.Minute, now).Requests; got != want[1] {
		t.Errorf("current side: %d requests, want %d", got, want[1])
	}
	target := ss.Side(true, time.Minute, now)
	if target.Requests != want[0]+1 || target.Errors != 1 {
		t.Errorf("target side: %+v, want %d requests and the embedded gateway's error", target, want[0]+1)
	}
	if f := ss.Figures(now); len(f) != len(Windows) || f[0].Target.Requests != target.Requests {
		t.Errorf("figures %+v", f)
	}
}

func TestCheckReport(t *testing.T) {
	good := Report{ID: "c1", Buckets: []window.Delta{{Requests: 1}}}
	if err := Check(good); err != nil {
		t.Errorf("a good report: %v", err)
	}
	for name, r := range map[string]Report{
		"no id":        {Buckets: good.Buckets},
		"long id":      {ID: string(make([]byte, 65)), Buckets: good.Buckets},
		"many buckets": {ID: "c1", Buckets: make([]window.Delta, window.MaxDeltas+1)},
		"bad slot":     {ID: "c1", Buckets: []window.Delta{{Requests: 1, Latency: [][2]uint64{{4 * 28, 1}}}}},
	} {
		if Check(r) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
