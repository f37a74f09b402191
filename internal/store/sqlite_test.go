package store_test

import (
	"context"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

func openSQLite(t *testing.T, dir string) *store.SQL {
	t.Helper()
	s, err := store.OpenSQLite(t.Context(), dir, nil)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	return s
}

func TestSQLite(t *testing.T) {
	runSuite(t, func(t *testing.T) store.Store { return openSQLite(t, storetest.SQLiteDir(t)) })
}

// TestSQLiteReopen checks that committed state, the revision counter
// included, survives closing and reopening the directory, and that opening
// an already migrated database is fine.
func TestSQLiteReopen(t *testing.T) {
	dir := t.TempDir()
	s := openSQLite(t, dir)
	var rev int64
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateGroup(ctx, &spec.GatewayGroup{Name: "default"}); err != nil {
			return err
		}
		var err error
		rev, err = tx.BumpRevision(ctx, store.RevisionChange{Group: "default"})
		return err
	})
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	s = openSQLite(t, dir)
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	inTx(t, s, func(ctx context.Context, tx store.Tx) error {
		g, err := tx.GetGroup(ctx, "default")
		wantErr(t, "GetGroup after reopen", err, nil)
		if g.Revision != rev {
			t.Errorf("revision after reopen = %d, want %d", g.Revision, rev)
		}
		next, err := tx.BumpRevision(ctx, store.RevisionChange{Group: "default"})
		wantErr(t, "BumpRevision after reopen", err, nil)
		if next <= rev {
			t.Errorf("revision after reopen went from %d to %d", rev, next)
		}
		return nil
	})
}
