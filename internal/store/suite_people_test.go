package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/store"
)

// TestListLoginStates runs testListLoginStates on both databases, the way
// runSuite runs its parts, each on a fresh store.
func TestListLoginStates(t *testing.T) {
	opens := map[string]func(t *testing.T) store.Store{
		"SQLite":   func(t *testing.T) store.Store { return openSQLite(t, t.TempDir()) },
		"Postgres": func(t *testing.T) store.Store { return openPostgres(t, postgresDSN(t)) },
	}
	for _, name := range []string{"SQLite", "Postgres"} {
		t.Run(name, func(t *testing.T) {
			s := opens[name](t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			testListLoginStates(t, s)
		})
	}
}

func testListLoginStates(t *testing.T, s store.Store) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		got, err := tx.ListLoginStates(ctx)
		wantErr(t, "ListLoginStates of none", err, nil)
		if got == nil || len(got) != 0 {
			t.Errorf("ListLoginStates of none = %#v, want an empty slice", got)
		}
		// Inserted out of order: the list is by username.
		want := []store.LoginState{
			{Username: "alice", Failures: 5, Lockouts: 1, LastFailure: t0, LockedUntil: t0.Add(time.Minute)},
			{Username: "bob", Failures: 2, LastFailure: t0.Add(-time.Hour)},
			{Username: "ghost@example.com", Failures: 7, Lockouts: 3, LastFailure: t0.Add(time.Second), LockedUntil: t0.Add(4 * time.Minute)},
		}
		for _, i := range []int{2, 0, 1} {
			wantErr(t, "PutLoginState "+want[i].Username, tx.PutLoginState(ctx, &want[i]), nil)
		}
		got, err = tx.ListLoginStates(ctx)
		wantErr(t, "ListLoginStates", err, nil)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ListLoginStates (-want +got):\n%s", diff)
		}
		wantErr(t, "DeleteLoginState bob", tx.DeleteLoginState(ctx, "bob"), nil)
		got, err = tx.ListLoginStates(ctx)
		wantErr(t, "ListLoginStates after delete", err, nil)
		if len(got) != 2 || got[0].Username != "alice" || got[1].Username != "ghost@example.com" {
			t.Errorf("ListLoginStates after deleting bob = %+v", got)
		}
		return nil
	})
}
