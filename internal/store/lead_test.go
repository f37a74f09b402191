package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestLeadOneAtATime: with two control planes on one PostgreSQL
// database, a periodic job runs on one of them; when that one stops, the
// other takes the job over. On SQLite the job runs at once.
func TestLeadOneAtATime(t *testing.T) {
	dsn := postgresDSN(t)
	a, b := openPostgres(t, dsn), openPostgres(t, dsn)
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	var running, most atomic.Int32
	started := make(chan string, 4)
	job := func(who string) func(context.Context) {
		return func(ctx context.Context) {
			n := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			started <- who
			<-ctx.Done()
		}
	}
	actx, stopA := context.WithCancel(t.Context())
	bctx, stopB := context.WithCancel(t.Context())
	defer stopB()
	aDone, bDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(aDone); a.Lead(actx, "test-job", job("a")) }()
	first := <-started
	go func() { defer close(bDone); b.Lead(bctx, "test-job", job("b")) }()
	if first != "a" {
		t.Fatalf("the first to lead is %s", first)
	}
	select {
	case who := <-started:
		t.Fatalf("%s started the job while a held it", who)
	case <-time.After(3 * time.Second): // longer than a retry
	}
	stopA()
	<-aDone
	select {
	case who := <-started:
		if who != "b" {
			t.Fatalf("after a stopped, %s took the job", who)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("b never took the job over")
	}
	if most.Load() != 1 {
		t.Errorf("the job ran %d times at once", most.Load())
	}
	stopB()
	<-bDone

	s := openSQLite(t, t.TempDir())
	t.Cleanup(func() { _ = s.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-started; cancel() }()
	s.Lead(ctx, "test-job", job("sqlite"))
}
