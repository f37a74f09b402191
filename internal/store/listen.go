package store

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// revisionChannel is the PostgreSQL notification channel a write
// transaction that bumped a revision notifies, at its commit (pg_notify is
// transactional): every control plane on the database wakes its waiting
// gateway polls, whichever one committed.
const revisionChannel = "portico_revision"

// listen keeps a connection LISTENing on revisionChannel until ctx ends,
// waking the broadcaster at each notification. After a lost connection it
// reconnects with backoff, and wakes the waiters once it listens again:
// a commit made while nobody listened must not wait for the next one.
func (s *SQL) listen(ctx context.Context, dsn string, done chan<- struct{}) {
	defer close(done)
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, dsn)
		if ctx.Err() != nil {
			return
		}
		s.logger.Warn("store: lost the PostgreSQL notification connection; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff + rand.N(backoff/2)):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOnce listens on one connection until it fails.
func (s *SQL) listenOnce(ctx context.Context, dsn string) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, dsn)
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+revisionChannel); err != nil {
		return err
	}
	s.changes.notify() // whatever was committed while nobody listened
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.changes.notify()
	}
}
