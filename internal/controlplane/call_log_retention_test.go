package controlplane

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// TestCheckCallLogRetention: at least a minute and one call per group;
// zero options take the defaults, which pass.
func TestCheckCallLogRetention(t *testing.T) {
	for _, tc := range []struct {
		keep time.Duration
		max  int
		ok   bool
	}{
		{time.Minute, 1, true}, {24 * time.Hour, 100_000, true},
		{59 * time.Second, 10, false}, {-time.Hour, 10, false}, {time.Hour, -1, false}, {0, 10, false},
	} {
		if err := checkCallLogRetention(tc.keep, tc.max); (err == nil) != tc.ok {
			t.Errorf("checkCallLogRetention(%s, %d) = %v, want ok %v", tc.keep, tc.max, err, tc.ok)
		}
	}
	var o Options
	o.defaults()
	if o.CallLogRetention != DefaultCallLogRetention || o.CallLogMaxPerGroup != DefaultCallLogMaxPerGroup {
		t.Errorf("defaults: %s, %d", o.CallLogRetention, o.CallLogMaxPerGroup)
	}
	if err := checkCallLogRetention(o.CallLogRetention, o.CallLogMaxPerGroup); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
}

// TestRetainCallLogs: the housekeeping job prunes the call log as soon as
// it starts, past the retention and past the count per group, and returns
// when its context ends.
func TestRetainCallLogs(t *testing.T) {
	ctx := t.Context()
	st, err := store.OpenSQLite(ctx, storetest.SQLiteDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	var recs []spec.CallRecord
	// g1: one call two hours old and four recent ones; g2: one recent.
	for i, age := range []time.Duration{2 * time.Hour, 5 * time.Minute, 4 * time.Minute, 3 * time.Minute, 2 * time.Minute} {
		recs = append(recs, spec.CallRecord{Time: now.Add(-age), Group: "g1", RequestID: "g1-" + string(rune('a'+i)), Method: "GET", Path: "/", Status: 200})
	}
	recs = append(recs, spec.CallRecord{Time: now.Add(-time.Minute), Group: "g2", RequestID: "g2-a", Method: "GET", Path: "/", Status: 200})
	err = st.Tx(ctx, func(tx store.Tx) error {
		for _, g := range []string{"g1", "g2"} {
			if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: g}); err != nil {
				return err
			}
		}
		return tx.InsertCallRecords(ctx, recs)
	})
	if err != nil {
		t.Fatal(err)
	}
	pruned := make(chan struct{}, 1)
	jctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		retainCallLogs(jctx, st, callLogRetention{keep: time.Hour, maxPerGroup: 2, now: func() time.Time { return now }},
			slog.New(signalHandler{msg: "call log pruned", ch: pruned}))
	}()
	select {
	case <-pruned:
	case <-time.After(30 * time.Second):
		t.Fatal("the job did not prune at its start")
	}
	stop()
	<-done
	var got []string
	err = st.View(ctx, func(tx store.Tx) error {
		items, _, err := tx.SearchCallRecords(ctx, store.CallLogFilter{AllProjects: true})
		for _, r := range items {
			got = append(got, r.RequestID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"g2-a", "g1-e", "g1-d"}; !slices.Equal(got, want) {
		t.Errorf("after the job: %v, want %v", got, want)
	}
}
