package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// storeThroughProxy is a seeded PostgreSQL store that reaches the database
// through a proxy the test can cut, and the database's own DSN.
func storeThroughProxy(t *testing.T) (string, *storetest.Proxy, *store.SQL) {
	t.Helper()
	dsn := postgresDSN(t)
	p := storetest.StartProxy(t, "127.0.0.1:5432")
	s := openPostgres(t, strings.Replace(dsn, "127.0.0.1:5432", p.Addr, 1))
	t.Cleanup(func() { _ = s.Close() })
	seed(t, s)
	return dsn, p, s
}

// TestPostgresOutage: while PostgreSQL is away, a write or a read fails
// at once with ErrUnavailable (the admin API's 503) instead of hanging;
// once it is back, the same store writes again and its gateways' waits
// wake on commits made elsewhere, without being reopened.
func TestPostgresOutage(t *testing.T) {
	dsn, p, s := storeThroughProxy(t)
	bump(t, s, "default")

	p.Cut()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for name, call := range map[string]func() error{
		"write": func() error {
			return s.Tx(ctx, func(tx store.Tx) error {
				_, err := tx.BumpRevision(ctx, store.RevisionChange{Group: "default"})
				return err
			})
		},
		"read": func() error {
			return s.View(ctx, func(tx store.Tx) error { _, err := tx.GetGroup(ctx, "default"); return err })
		},
	} {
		if err := call(); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("a %s while the database is away: %v, want ErrUnavailable", name, err)
		}
	}
	if ctx.Err() != nil {
		t.Fatal("the calls waited for the database instead of failing")
	}

	p.Restore()
	other := openPostgres(t, dsn) // another control plane, on the database directly
	t.Cleanup(func() { _ = other.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Tx(ctx, func(tx store.Tx) error {
			_, err := tx.BumpRevision(ctx, store.RevisionChange{Group: "default"})
			return err
		})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no write once the database is back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The store listens again: a commit through the other store wakes it.
	cur := revisionOf(t, s, "default")
	wctx, wcancel := context.WithTimeout(ctx, 2*wake)
	defer wcancel()
	ch := waitAsync(wctx, s, []string{"default"}, cur)
	deadline = time.Now().Add(wake)
	for {
		want := bump(t, other, "default")
		select {
		case r := <-ch:
			// Any of the bumps so far may be the one that woke it.
			if r.err != nil || r.rev <= cur || r.rev > want {
				t.Fatalf("WaitRevision after the outage = %d, %v; want one of %d–%d", r.rev, r.err, cur+1, want)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		// A bump before the listener reconnected wakes nobody until the
		// reconnection does; bump again, bounded.
		if time.Now().After(deadline) {
			t.Fatal("commits through another store never woke this one after the outage")
		}
	}
}

// TestPostgresWriteAfterDroppedConnections: when the database drops the
// store's connections (a restart), each pooled connection fails at its
// next statement. A read or a write meets that failure before its
// transaction has done anything, so it goes on to the next connection:
// the first call after the database is back succeeds instead of
// answering 503 once per dropped connection.
func TestPostgresWriteAfterDroppedConnections(t *testing.T) {
	_, p, s := storeThroughProxy(t)
	// Writes at once: each holds a connection while it waits for the
	// write lock, so the pool fills up.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { bump(t, s, "default") })
	}
	wg.Wait()
	read := func() error {
		return s.View(t.Context(), func(tx store.Tx) error { _, err := tx.GetGroup(t.Context(), "default"); return err })
	}
	if err := read(); err != nil {
		t.Fatal(err)
	}

	p.Cut() // every connection through the proxy is closed
	p.Restore()
	if err := read(); err != nil {
		t.Fatalf("read after the connections were dropped: %v", err)
	}
	for i := range 3 {
		err := s.Tx(t.Context(), func(tx store.Tx) error {
			_, err := tx.BumpRevision(t.Context(), store.RevisionChange{Group: "default"})
			return err
		})
		if err != nil {
			t.Fatalf("write %d after the connections were dropped: %v", i+1, err)
		}
	}
}
