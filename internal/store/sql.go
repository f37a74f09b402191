package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/pressly/goose/v3"

	"github.com/portico-gw/portico/internal/store/migrations"
)

// SQL is the Store over database/sql. SQLite and PostgreSQL differ only in
// how the handles are opened and in the dialect value.
type SQL struct {
	// write runs every Tx. On SQLite it holds a single connection, so
	// concurrent admin actions queue in the pool instead of failing with
	// "database is locked".
	write *sql.DB
	// read serves View and WaitRevision's polling; on SQLite it is a
	// separate, query-only pool that WAL lets run beside the writer. It may
	// be the same handle as write.
	read    *sql.DB
	dialect dialect
	logger  *slog.Logger
	changes *broadcaster
	// stopListening ends the PostgreSQL LISTEN loop (nil on SQLite);
	// listening is closed once it has.
	stopListening context.CancelFunc
	listening     chan struct{}
}

var _ Store = (*SQL)(nil)

// migrate brings the schema up to date with the embedded migrations.
func migrate(ctx context.Context, db *sql.DB, d dialect, logger *slog.Logger, opts ...goose.ProviderOption) error {
	var fsys fs.FS = migrations.FS
	p, err := goose.NewProvider(d.goose, db, fsys, append([]goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(logger),
	}, opts...)...)
	if err != nil {
		return fmt.Errorf("prepare migrations: %w", err)
	}
	// p.Close would close db: the provider does not own it.
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range results {
		logger.Info("store migration applied", "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// Tx runs fn in one transaction. It returns fn's error as is, so callers can
// still test it with errors.Is and errors.As. A panic in fn rolls back and
// panics again.
func (s *SQL) Tx(ctx context.Context, fn func(Tx) error) (err error) {
	defer func() { err = s.unavailable(err) }()
	sqlTx, err := s.begin(ctx, s.write, nil, s.dialect.writeLock)
	if err != nil {
		return err
	}
	tx := &txn{tx: sqlTx, d: &s.dialect}
	committed := false
	defer func() {
		if committed {
			return
		}
		s.rollback(sqlTx)
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if tx.bumped && s.dialect.notify != "" {
		// Delivered at commit, to every control plane on the database.
		if _, err := sqlTx.ExecContext(ctx, s.dialect.notify); err != nil {
			return fmt.Errorf("notify the revision: %w", err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	committed = true
	// Wake watchers only now: a revision bumped in a transaction that rolls
	// back must never be seen.
	if tx.bumped {
		s.changes.notify()
	}
	return nil
}

// begin begins a transaction on db, then runs lock in it when there is
// one (the write lock). A pooled connection the database dropped (a
// restart, a failover) fails at its first statement, before the
// transaction has done anything; the next connection is tried then, as
// many times as the pool holds connections, so the first call after an
// outage does not fail once per dropped connection. A database still away
// fails every try at once.
func (s *SQL) begin(ctx context.Context, db *sql.DB, opts *sql.TxOptions, lock string) (*sql.Tx, error) {
	for try := 0; ; try++ {
		sqlTx, err := db.BeginTx(ctx, opts)
		if err != nil {
			err = fmt.Errorf("begin transaction: %w", err)
		} else if lock != "" {
			if _, lockErr := sqlTx.ExecContext(ctx, lock); lockErr != nil {
				s.rollback(sqlTx)
				sqlTx, err = nil, fmt.Errorf("take the write lock: %w", lockErr)
			}
		}
		if err == nil {
			return sqlTx, nil
		}
		if s.dialect.unreachable == nil || !s.dialect.unreachable(err) || ctx.Err() != nil ||
			try >= db.Stats().MaxOpenConnections {
			return nil, err
		}
	}
}

func (s *SQL) rollback(sqlTx *sql.Tx) {
	if err := sqlTx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		s.logger.Warn("store rollback failed", "err", err)
	}
}

// View runs fn in a read-only transaction on the read pool. It begins
// deferred (ReadOnly makes the SQLite driver ignore _txlock, and PostgreSQL
// begins READ ONLY), so it takes no write lock and a reader waits for no
// writer; the read pool's query_only pragma turns any write into an error.
// Repeatable read asks PostgreSQL for the one snapshot a SQLite read
// transaction has anyway, so the queries of a Snapshot agree with each
// other. fn's error comes back as is; a panic in fn rolls back and panics
// again.
func (s *SQL) View(ctx context.Context, fn func(Tx) error) (err error) {
	defer func() { err = s.unavailable(err) }()
	sqlTx, err := s.begin(ctx, s.read, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}, "")
	if err != nil {
		return err
	}
	// Nothing to keep: rolling back ends the read snapshot either way, and
	// a commit could only fail where a rollback cannot.
	defer func() {
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			s.logger.Warn("store read rollback failed", "err", rbErr)
		}
	}()
	return fn(&txn{tx: sqlTx, d: &s.dialect})
}

// unavailable marks an error of an unreachable database with
// ErrUnavailable (keeping it whole for errors.Is and errors.As), unless
// the caller's context ended: that is the caller's doing.
func (s *SQL) unavailable(err error) error {
	if err == nil || s.dialect.unreachable == nil || errors.Is(err, ErrUnavailable) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || !s.dialect.unreachable(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// WaitRevision blocks until the highest revision of groups is above after.
func (s *SQL) WaitRevision(ctx context.Context, groups []string, after int64) (int64, error) {
	if len(groups) == 0 {
		return 0, errors.New("wait for revision: no groups given")
	}
	q := "SELECT COALESCE(MAX(revision), 0) FROM gateway_groups WHERE name IN (" + placeholders(1, len(groups)) + ")"
	args := make([]any, len(groups))
	for i, g := range groups {
		args[i] = g
	}
	for {
		woken := s.changes.wait()
		var rev int64
		if err := s.read.QueryRowContext(ctx, q, args...).Scan(&rev); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return 0, ctxErr
			}
			return 0, fmt.Errorf("read revision of %s: %w", strings.Join(groups, ","), err)
		}
		if rev > after {
			return rev, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-woken:
		}
	}
}

// Close closes the database handles.
func (s *SQL) Close() error {
	if s.stopListening != nil {
		s.stopListening()
		<-s.listening
	}
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}
