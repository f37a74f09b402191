package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// testFigureReports: the figures log hands out ids in commit order, is
// read after an id and a time, and is pruned by time.
func testFigureReports(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	// A store restored from a backup older than the log has no counter
	// for it: the first report makes one.
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		return store.DropCounter(ctx, tx, "gateway_figures")
	})
	var added []store.FigureReport
	for i := range 5 {
		inTx(t, s, func(ctx context.Context, tx store.Tx) error {
			r := store.FigureReport{Group: "default", Replica: fmt.Sprintf("cp-%d", i%2), ReportedAt: t0.Add(time.Duration(i) * time.Minute),
				Body: fmt.Sprintf(`{"n":%d}`, i)}
			wantErr(t, "AddFigureReport", tx.AddFigureReport(ctx, &r), nil)
			if len(added) > 0 && r.ID <= added[len(added)-1].ID {
				t.Errorf("report %d has id %d, not above the last one's %d", i, r.ID, added[len(added)-1].ID)
			}
			added = append(added, r)
			return nil
		})
	}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.FigureReportsAfter(ctx, added[0].ID, t0, 2)
		wantErr(t, "FigureReportsAfter", err, nil)
		if diff := cmp.Diff(added[1:3], got); diff != "" {
			t.Errorf("FigureReportsAfter the first, two (-want +got):\n%s", diff)
		}
		got, err = tx.FigureReportsAfter(ctx, 0, t0.Add(3*time.Minute), 100)
		wantErr(t, "FigureReportsAfter a time", err, nil)
		if diff := cmp.Diff(added[3:], got); diff != "" {
			t.Errorf("FigureReportsAfter 3 minutes (-want +got):\n%s", diff)
		}
		n, err := tx.PruneFigureReports(ctx, t0.Add(2*time.Minute))
		wantErr(t, "PruneFigureReports", err, nil)
		if n != 2 {
			t.Errorf("pruned %d reports, want 2", n)
		}
		got, _ = tx.FigureReportsAfter(ctx, 0, time.Time{}, 100)
		if diff := cmp.Diff(added[2:], got); diff != "" {
			t.Errorf("after the prune (-want +got):\n%s", diff)
		}
		return nil
	})
}

// testStoreSettings: a setting is unset, then set, then replaced.
func testStoreSettings(t *testing.T, s store.Store) {
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.GetSetting(ctx, store.SettingSecretKeyID)
		wantErr(t, "GetSetting unset", err, store.ErrNotFound)
		for _, v := range []string{"0a1b2c3d", "ffffffff"} {
			wantErr(t, "PutSetting", tx.PutSetting(ctx, store.SettingSecretKeyID, v), nil)
			if got, err := tx.GetSetting(ctx, store.SettingSecretKeyID); err != nil || got != v {
				t.Errorf("GetSetting = %q, %v; want %q", got, err, v)
			}
		}
		return nil
	})
}

// testDeployedAmong answers which of some service ids run in a group,
// across the chunks of a long list.
func testDeployedAmong(t *testing.T, s store.Store) {
	seed(t, s)
	orders := newService(t, s, "p1", "orders", "list")
	billing := newService(t, s, "p1", "billing", "pay")
	for _, svc := range []spec.Service{orders, billing} {
		freeze(t, s, svc, "1.0.0")
	}
	deploy(t, s, "default", orders, "1.0.0")
	ids := []string{billing.ID, "nope"}
	for i := range 1200 {
		ids = append(ids, fmt.Sprintf("missing-%d", i))
	}
	ids = append(ids, orders.ID)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.DeployedAmong(ctx, "default", ids)
		wantErr(t, "DeployedAmong", err, nil)
		if diff := cmp.Diff(map[string]bool{orders.ID: true}, got); diff != "" {
			t.Errorf("DeployedAmong (-want +got):\n%s", diff)
		}
		return nil
	})
}
