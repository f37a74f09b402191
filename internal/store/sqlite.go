package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeoutMS bounds how long a connection waits for another process's
// lock (a second binary on the same directory, a WAL checkpoint) before it
// fails. Writers of this process never wait on each other in SQLite: they
// queue for the single write connection.
const busyTimeoutMS = 10000

// sqliteFile is the SQLite store's file in its data directory.
const sqliteFile = "portico.db"

// OpenSQLite opens (creating if needed) <dir>/portico.db and applies the
// migrations.
func OpenSQLite(ctx context.Context, dir string, logger *slog.Logger) (*SQL, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create store directory %s: %w", dir, err)
	}
	path, err := filepath.Abs(filepath.Join(dir, sqliteFile))
	if err != nil {
		return nil, fmt.Errorf("store path in %s: %w", dir, err)
	}

	write, err := openSQLiteDB(path, false)
	if err != nil {
		return nil, err
	}
	// One writer: SQLite allows one at a time, and queueing in the pool is
	// cheaper and fairer than retrying on SQLITE_BUSY.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	// The first connection switches the file to WAL, before readers open.
	if err := write.PingContext(ctx); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := migrate(ctx, write, sqliteDialect, logger); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}

	read, err := openSQLiteDB(path, true)
	if err != nil {
		_ = write.Close()
		return nil, err
	}
	// Keep every reader open: a fresh connection re-runs the pragmas and
	// re-reads the schema, which a burst of admin GETs would pay each time.
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	if err := read.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s for reading: %w", path, err), write.Close(), read.Close())
	}

	return &SQL{
		write:   write,
		read:    read,
		dialect: sqliteDialect,
		logger:  logger,
		changes: newBroadcaster(),
	}, nil
}

// openSQLiteDB sets the pragmas on every connection the pool opens.
func openSQLiteDB(path string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// Take the write lock at BEGIN: a deferred transaction that reads
		// first and writes later can fail with SQLITE_BUSY when another
		// process wrote in between.
		q.Set("_txlock", "immediate")
	}
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q.Encode()}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}
