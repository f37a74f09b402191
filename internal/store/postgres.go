package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// writeLockKey names the PostgreSQL advisory lock every write transaction
// takes first (pg_advisory_xact_lock, released at commit or rollback).
// The store's writes were written for SQLite's single writer — a revision
// bump reads the counter and writes it back, a version string is checked
// then taken — and the lock keeps exactly that order on PostgreSQL, across
// every control plane sharing the database. Reads take no lock.
const writeLockKey = 0x706f727469636f // "portico"

var postgresDialect = dialect{
	name:        "postgres",
	goose:       goose.DialectPostgres,
	classify:    classifyPostgres,
	writeLock:   "SELECT pg_advisory_xact_lock(" + fmt.Sprint(writeLockKey) + ")",
	savepoints:  true,
	unreachable: unreachablePostgres,
	notify:      "SELECT pg_notify('" + revisionChannel + "', '')",
}

// classifyPostgres reads the SQLSTATE of a server error.
func classifyPostgres(err error) errKind {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return errOther
	}
	switch pe.Code {
	case "23505": // unique_violation
		return errUnique
	case "23503": // foreign_key_violation
		return errForeignKey
	}
	return errOther
}

// unreachablePostgres says err is the connection's, not the server's
// answer to a statement: refused or broken connections, a server shutting
// down (SQLSTATE class 57P, 08), a pool that could not connect in time.
func unreachablePostgres(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || pgconn.SafeToRetry(err)
}

// OpenPostgres connects to the PostgreSQL database of dsn (postgres://…)
// and applies the migrations, under goose's session lock so that control
// planes starting together migrate once.
func OpenPostgres(ctx context.Context, dsn string, logger *slog.Logger) (*SQL, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	where := redactDSN(dsn)
	write, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	write.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	if err := write.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("connect to %s: %w", where, err), write.Close())
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("migration lock: %w", err), write.Close())
	}
	if err := migrate(ctx, write, postgresDialect, logger, goose.WithSessionLocker(locker)); err != nil {
		return nil, errors.Join(fmt.Errorf("migrate %s: %w", where, err), write.Close())
	}
	// Reads get their own pool, so a burst of admin GETs and waiting
	// gateway polls never holds back a write's connection.
	read, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open %s for reading: %w", where, err), write.Close())
	}
	read.SetMaxOpenConns(max(8, 2*runtime.GOMAXPROCS(0)))
	read.SetMaxIdleConns(max(8, 2*runtime.GOMAXPROCS(0)))
	if err := read.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("connect to %s for reading: %w", where, err), write.Close(), read.Close())
	}
	s := &SQL{write: write, read: read, dialect: postgresDialect, logger: logger, changes: newBroadcaster(), listening: make(chan struct{})}
	var lctx context.Context
	lctx, s.stopListening = context.WithCancel(context.Background())
	go s.listen(lctx, dsn, s.listening)
	return s, nil
}

// redactDSN is dsn without its password, for messages.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the PostgreSQL database"
	}
	return u.Redacted()
}
