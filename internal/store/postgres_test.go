package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/store"
)

// postgresDSN creates a database of its own on the machine's PostgreSQL
// and drops it after the test; it skips when the server is not running
// (.ci/run starts it, and requires it with PORTICO_REQUIRE_DATABASES).
func postgresDSN(t *testing.T) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	if err != nil {
		if os.Getenv("PORTICO_REQUIRE_DATABASES") != "" {
			t.Fatal("PostgreSQL is not running on 127.0.0.1:5432")
		}
		t.Skip("PostgreSQL is not running on 127.0.0.1:5432")
	}
	_ = c.Close()
	user := os.Getenv("PGUSER")
	if user == "" {
		user = "postgres"
	}
	dsn := func(db string) string { return "postgres://" + user + "@127.0.0.1:5432/" + db + "?sslmode=disable" }
	admin, err := sql.Open("pgx", dsn("test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "portico_store_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return dsn(name)
}

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
