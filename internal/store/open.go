package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/portico-gw/portico/internal/store/migrations"
)

// Location says where a store is: a PostgreSQL URL (postgres://… or
// postgresql://…), or else the SQLite store in a data directory.
type Location struct {
	URL string // "" or "sqlite:": SQLite in Dir
	Dir string
}

// postgres reports whether the location is a PostgreSQL database, and
// refuses a URL that is neither.
func (l Location) postgres() (bool, error) {
	switch u := l.URL; {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return true, nil
	case u == "" || u == "sqlite:":
		return false, nil
	}
	return false, fmt.Errorf("store %q: want postgres://… (or postgresql://…), or none for the SQLite store of a data directory", redactDSN(l.URL))
}

// String names the location for messages, without a password.
func (l Location) String() string {
	if pg, _ := l.postgres(); pg {
		return redactDSN(l.URL)
	}
	return filepath.Join(l.Dir, sqliteFile)
}

// Open opens the store at l and brings its schema up to date.
func Open(ctx context.Context, l Location, logger *slog.Logger) (*SQL, error) {
	pg, err := l.postgres()
	switch {
	case err != nil:
		return nil, err
	case pg:
		return OpenPostgres(ctx, l.URL, logger)
	}
	return OpenSQLite(ctx, l.Dir, logger)
}

// MigrationState is one migration of the schema and whether the store
// at a location has it.
type MigrationState struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// Migrations lists the schema's migrations and which the store at l has,
// without applying any (portico migrate status, before a rolling upgrade).
// A SQLite directory without a store has none.
func Migrations(ctx context.Context, l Location) ([]MigrationState, error) {
	pg, err := l.postgres()
	if err != nil {
		return nil, err
	}
	d, driver, dsn := sqliteDialect, "sqlite", ""
	if pg {
		d, driver, dsn = postgresDialect, "pgx", l.URL
	} else {
		path := filepath.Join(l.Dir, sqliteFile)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			dsn = "file::memory:"
		} else {
			dsn = "file:" + path + "?mode=ro"
		}
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", l, err)
	}
	defer db.Close()
	p, err := goose.NewProvider(d.goose, db, migrations.FS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	status, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations of %s: %w", l, err)
	}
	out := make([]MigrationState, len(status))
	for i, s := range status {
		out[i] = MigrationState{Version: s.Source.Version, Name: filepath.Base(s.Source.Path),
			Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt}
	}
	return out, nil
}
