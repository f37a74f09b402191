package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/store"
)

// testMonitoring: rollup rows add up (counts and histograms slot by
// slot) under their resolution, group, service, route and start; queries
// select by those and by time; totals sum by service and route; the
// prune removes one resolution's old rows only.
func testMonitoring(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	row := func(res time.Duration, svc, route string, at time.Time, req, errs uint64, lat ...[2]uint64) store.MonitoringRow {
		return store.MonitoringRow{Resolution: res, Group: "prod", ServiceID: svc, RouteID: route, Start: at,
			Requests: req, Errors: errs, Latency: lat, Upstream: [][2]uint64{{3, req}}}
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		wantErr(t, "AddMonitoringRows", tx.AddMonitoringRows(ctx, []store.MonitoringRow{
			row(time.Minute, "s1", "", t0, 10, 1, [2]uint64{1, 4}, [2]uint64{5, 6}),
			row(time.Minute, "s1", "r1", t0, 10, 1, [2]uint64{1, 4}, [2]uint64{5, 6}),
			row(time.Minute, "s1", "", t0.Add(time.Minute), 3, 0, [2]uint64{2, 3}),
			row(time.Minute, "s2", "", t0, 7, 7, [2]uint64{9, 7}),
			row(time.Hour, "s1", "", t0, 13, 1, [2]uint64{1, 4}, [2]uint64{2, 3}, [2]uint64{5, 6}),
		}), nil)
		return nil
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		// A second report of the same minute adds to it.
		return tx.AddMonitoringRows(ctx, []store.MonitoringRow{row(time.Minute, "s1", "", t0, 5, 2, [2]uint64{0, 1}, [2]uint64{5, 4}, [2]uint64{7, 1})})
	})
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.MonitoringRows(ctx, store.MonitoringQuery{Resolution: time.Minute, Group: "prod", ServiceID: "s1", From: t0, To: t0.Add(time.Hour)})
		wantErr(t, "MonitoringRows", err, nil)
		want := []store.MonitoringRow{
			row(time.Minute, "s1", "", t0, 15, 3, [2]uint64{0, 1}, [2]uint64{1, 4}, [2]uint64{5, 10}, [2]uint64{7, 1}),
			row(time.Minute, "s1", "", t0.Add(time.Minute), 3, 0, [2]uint64{2, 3}),
		}
		want[0].Upstream = [][2]uint64{{3, 15}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("the service's minutes (-want +got):\n%s", diff)
		}
		got, _ = tx.MonitoringRows(ctx, store.MonitoringQuery{Resolution: time.Minute, Group: "prod", ServiceID: "s1", Routes: true, RouteID: "r1",
			From: t0, To: t0.Add(time.Minute)})
		if len(got) != 1 || got[0].RouteID != "r1" || got[0].Requests != 10 {
			t.Errorf("the route's minutes: %+v", got)
		}
		got, _ = tx.MonitoringRows(ctx, store.MonitoringQuery{Resolution: time.Minute, Group: "prod", ServiceID: "s1", From: t0.Add(time.Minute), To: t0.Add(time.Hour)})
		if len(got) != 1 || !got[0].Start.Equal(t0.Add(time.Minute)) {
			t.Errorf("from the second minute: %+v", got)
		}
		got, _ = tx.MonitoringRows(ctx, store.MonitoringQuery{Resolution: time.Minute, Group: "test", ServiceID: "s1", From: t0, To: t0.Add(time.Hour)})
		if len(got) != 0 {
			t.Errorf("another group's rows: %+v", got)
		}
		totals, err := tx.MonitoringTotals(ctx, store.MonitoringQuery{Resolution: time.Minute, Group: "prod", From: t0, To: t0.Add(time.Hour)})
		wantErr(t, "MonitoringTotals", err, nil)
		if diff := cmp.Diff([]store.MonitoringTotal{{ServiceID: "s1", Requests: 18, Errors: 3}, {ServiceID: "s2", Requests: 7, Errors: 7}}, totals); diff != "" {
			t.Errorf("totals by service (-want +got):\n%s", diff)
		}
		totals, _ = tx.MonitoringTotals(ctx, store.MonitoringQuery{Resolution: time.Minute, Group: "prod", ServiceID: "s1", Routes: true, From: t0, To: t0.Add(time.Hour)})
		if diff := cmp.Diff([]store.MonitoringTotal{{ServiceID: "s1", RouteID: "r1", Requests: 10, Errors: 1}}, totals); diff != "" {
			t.Errorf("totals by route (-want +got):\n%s", diff)
		}
		n, err := tx.PruneMonitoringRows(ctx, time.Minute, t0.Add(time.Minute))
		wantErr(t, "PruneMonitoringRows", err, nil)
		if n != 3 {
			t.Errorf("pruned %d minute rows, want 3", n)
		}
		hours, _ := tx.MonitoringRows(ctx, store.MonitoringQuery{Resolution: time.Hour, Group: "prod", ServiceID: "s1", From: t0, To: t0.Add(time.Hour)})
		if len(hours) != 1 || hours[0].Requests != 13 {
			t.Errorf("the prune of minutes touched hours: %+v", hours)
		}
		return nil
	})
}
