package store_test

import (
	"context"
	"testing"

	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// postgresDSN is a database of the test's own (storetest.PostgresDSN).
func postgresDSN(t *testing.T) string { return storetest.PostgresDSN(t) }

func openPostgres(t *testing.T, dsn string) *store.SQL {
	t.Helper()
	s, err := store.OpenPostgres(t.Context(), dsn, nil)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	return s
}

// TestPostgres runs the store suite on PostgreSQL, each part in a
// database of its own.
func TestPostgres(t *testing.T) {
	runSuite(t, func(t *testing.T) store.Store { return openPostgres(t, postgresDSN(t)) })
}

// TestPostgresWakesOtherProcesses: a revision committed through one store
// wakes WaitRevision on another store of the same database (another
// control plane), through LISTEN/NOTIFY; a rolled-back bump wakes nobody
// with a revision.
func TestPostgresWakesOtherProcesses(t *testing.T) {
	dsn := postgresDSN(t)
	a, b := openPostgres(t, dsn), openPostgres(t, dsn)
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	seed(t, a)
	ctx := testCtx(t)
	cur := revisionOf(t, b, "default")
	wctx, cancel := context.WithTimeout(ctx, 2*wake)
	defer cancel()
	ch := waitAsync(wctx, b, []string{"default"}, cur)
	stillWaiting(t, ch, "before any change")
	err := a.Tx(ctx, func(tx store.Tx) error {
		if _, err := tx.BumpRevision(ctx, store.RevisionChange{Group: "default"}); err != nil {
			return err
		}
		return errBoom
	})
	if err != errBoom {
		t.Fatalf("rolled-back bump: %v", err)
	}
	stillWaiting(t, ch, "after a bump that rolled back")
	want := bump(t, a, "default")
	select {
	case r := <-ch:
		if r.err != nil || r.rev != want {
			t.Errorf("the other store's WaitRevision = %d, %v; want %d", r.rev, r.err, want)
		}
	case <-wctx.Done():
		t.Fatal("a commit on one store did not wake the other's WaitRevision")
	}
}
