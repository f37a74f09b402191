package limitcount

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
)

// The counters of plan quotas: TakeAll counts in every key or in none,
// AddAll adds, Counts reads; new keys get their expiry.
func TestMultiKeyCounters(t *testing.T) {
	mr := miniredis.RunT(t)
	r, err := NewRedis("redis://"+mr.Addr(), "t:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	ctx := context.Background()
	keys, limits := []string{"t:sec", "t:day"}, []int64{2, 3}
	ttls := []time.Duration{2 * time.Second, time.Hour}
	type answer struct {
		Counts   []int64
		Admitted bool
	}
	var got []answer
	for range 3 {
		counts, ok, err := r.TakeAll(ctx, keys, limits, ttls)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, answer{counts, ok})
	}
	want := []answer{{[]int64{1, 1}, true}, {[]int64{2, 2}, true}, {[]int64{2, 2}, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TakeAll (-want +got):\n%s", diff)
	}
	if mr.TTL("t:sec") != 2*time.Second || mr.TTL("t:day") != time.Hour {
		t.Errorf("ttls %v %v", mr.TTL("t:sec"), mr.TTL("t:day"))
	}
	if err := r.AddAll(ctx, []string{"t:day", "t:month"}, []int64{5, 7}, []time.Duration{time.Minute, 2 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if mr.TTL("t:day") != time.Hour || mr.TTL("t:month") != 2*time.Hour {
		t.Errorf("AddAll changed an expiry or set none: %v %v", mr.TTL("t:day"), mr.TTL("t:month"))
	}
	counts, err := r.Counts(ctx, []string{"t:sec", "t:day", "t:month", "t:missing"})
	if err != nil || !cmp.Equal(counts, []int64{2, 7, 7, 0}) {
		t.Errorf("Counts = %v, %v; want [2 7 7 0]", counts, err)
	}
	mr.Close()
	if _, _, err := r.TakeAll(ctx, keys, limits, ttls); err == nil {
		t.Error("TakeAll with Redis down: no error")
	}
	if _, err := r.Counts(ctx, keys); err == nil {
		t.Error("Counts with Redis down: no error")
	}
}
