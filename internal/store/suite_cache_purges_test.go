package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// testCachePurges: a service's proxy-cache purges are stored per group,
// ride on its deployment in the snapshots (whole and partial), outlive an
// unpublish and go with the service.
func testCachePurges(t *testing.T, s store.Store) {
	seed(t, s)
	svc := newService(t, s, "p1", "cached", "r1")
	freeze(t, s, svc, "1.0.0")
	deploy(t, s, "default", svc, "1.0.0")
	deploy(t, s, "team", svc, "1.0.0")

	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		p, err := tx.GetCachePurges(ctx, "default", svc.ID)
		if err != nil || p.Epoch != "" || p.Keys != nil {
			t.Errorf("purges before any = %+v, %v; want the zero value", p, err)
		}
		return err
	})
	if snap := snapshotOf(t, s, "default"); snap.Services[0].Cache != nil {
		t.Errorf("snapshot before any purge carries %+v", snap.Services[0].Cache)
	}
	at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	want := spec.CachePurges{Epoch: "e1", Keys: []spec.PurgedCacheKey{{Key: "00112233445566778899aabbccddeeff", At: at}}}
	inTx(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutCachePurges(ctx, "default", svc.ID, &want) })
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.GetCachePurges(ctx, "default", svc.ID)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetCachePurges (-want +got):\n%s", diff)
		}
		return err
	})
	if got := snapshotOf(t, s, "default").Services[0].Cache; got == nil || cmp.Diff(want, *got) != "" {
		t.Errorf("whole snapshot carries %+v, want %+v", got, want)
	}
	if got := snapshotServices(t, s, "default", []string{svc.ID}).Services[0].Cache; got == nil || got.Epoch != "e1" {
		t.Errorf("partial snapshot carries %+v", got)
	}
	if got := snapshotOf(t, s, "team").Services[0].Cache; got != nil {
		t.Errorf("another group's snapshot carries %+v", got)
	}
	// Replaced whole; an unpublish keeps it, for a later publish.
	want.Epoch, want.Keys = "e2", nil
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutCachePurges(ctx, "default", svc.ID, &want); err != nil {
			return err
		}
		return tx.DeleteDeployment(ctx, "default", svc.ID)
	})
	deploy(t, s, "default", svc, "1.0.0")
	if got := snapshotOf(t, s, "default").Services[0].Cache; got == nil || got.Epoch != "e2" || len(got.Keys) != 0 {
		t.Errorf("after unpublish and publish: %+v, want epoch e2 and no keys", got)
	}
	ctx := testCtx(t)
	err := s.Tx(ctx, func(tx store.Tx) error { return tx.PutCachePurges(ctx, "nosuch", svc.ID, &want) })
	wantErr(t, "purges of a missing group", err, store.ErrNotFound)
}
