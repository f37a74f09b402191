package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// leadRetry is how often a control plane that does not hold a job's lock
// tries to take it; leadCheck how often the holder checks that its lock's
// connection is still there.
const (
	leadRetry = 2 * time.Second
	leadCheck = time.Second
)

// Lead runs fn while this process holds the named periodic job (the
// canary guard, instance expiry) and returns when ctx ends: on SQLite at
// once — one process owns the file; on PostgreSQL once it holds the job's
// advisory lock on a connection of its own, so that with several control
// planes on one database exactly one runs the job. The lock goes with its
// connection: when the holder dies or loses the database, fn's context
// ends there, and another control plane takes the job within leadRetry.
func (s *SQL) Lead(ctx context.Context, job string, fn func(context.Context)) {
	if s.dialect.name != postgresDialect.name {
		fn(ctx)
		return
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte("portico job " + job))
	key := int64(h.Sum64() >> 1)
	for ctx.Err() == nil {
		if !s.leadOnce(ctx, key, fn) {
			select {
			case <-ctx.Done():
			case <-time.After(leadRetry/2 + rand.N(leadRetry)):
			}
		}
	}
}

// leadOnce takes the lock if it is free and runs fn until ctx ends or
// the lock's connection fails; false when the lock was held elsewhere (or
// the database could not be reached).
func (s *SQL) leadOnce(ctx context.Context, key int64, fn func(context.Context)) bool {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return false
	}
	defer conn.Close()
	var held bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&held); err != nil || !held {
		return false
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			// Discard the connection rather than pool it: closing it is
			// what frees the lock now.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	jctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(jctx)
	}()
	s.watchLock(jctx, conn, stop)
	<-done
	return true
}

// watchLock ends the job (stop) when ctx ends or the lock's connection
// stops answering: the lock is then gone, and someone else may hold it.
func (s *SQL) watchLock(ctx context.Context, conn *sql.Conn, stop context.CancelFunc) {
	defer stop()
	tick := time.NewTicker(leadCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, leadCheck)
		err := conn.PingContext(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			s.logger.Warn("store: lost the connection holding a job's lock; the job stops here", "err", err)
			return
		}
	}
}
