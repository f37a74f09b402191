package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/store"
)

func testLoginStates(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.GetLoginState(ctx, "alice")
		wantErr(t, "GetLoginState of nobody", err, store.ErrNotFound)
		wantErr(t, "DeleteLoginState of nobody", tx.DeleteLoginState(ctx, "alice"), store.ErrNotFound)

		alice := store.LoginState{Username: "alice", Failures: 1, LastFailure: t0}
		wantErr(t, "PutLoginState", tx.PutLoginState(ctx, &alice), nil)
		alice.Failures, alice.Lockouts, alice.LastFailure, alice.LockedUntil = 5, 1, t0.Add(time.Minute), t0.Add(2*time.Minute)
		wantErr(t, "PutLoginState (replace)", tx.PutLoginState(ctx, &alice), nil)
		got, err := tx.GetLoginState(ctx, "alice")
		wantErr(t, "GetLoginState", err, nil)
		if diff := cmp.Diff(alice, got); diff != "" {
			t.Errorf("GetLoginState (-want +got):\n%s", diff)
		}

		// Prune removes only records quiet since the cutoff: bob's last
		// failure is old, alice is locked past the cutoff.
		bob := store.LoginState{Username: "bob", Failures: 2, LastFailure: t0.Add(-time.Hour)}
		wantErr(t, "PutLoginState bob", tx.PutLoginState(ctx, &bob), nil)
		n, err := tx.PruneLoginStates(ctx, t0.Add(90*time.Second))
		wantErr(t, "PruneLoginStates", err, nil)
		if n != 1 {
			t.Errorf("PruneLoginStates removed %d, want 1 (bob)", n)
		}
		_, err = tx.GetLoginState(ctx, "bob")
		wantErr(t, "GetLoginState of pruned bob", err, store.ErrNotFound)
		_, err = tx.GetLoginState(ctx, "alice")
		wantErr(t, "GetLoginState of locked alice", err, nil)

		wantErr(t, "DeleteLoginState", tx.DeleteLoginState(ctx, "alice"), nil)
		_, err = tx.GetLoginState(ctx, "alice")
		wantErr(t, "GetLoginState after delete", err, store.ErrNotFound)
		return nil
	})
}
