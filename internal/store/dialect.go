package store

import (
	"errors"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// errKind is what a driver error means to the store.
type errKind int

const (
	errOther      errKind = iota
	errUnique             // unique or primary key violation
	errForeignKey         // foreign key violation
)

// dialect is the little that differs between databases. The SQL itself is
// shared: both drivers take $1 placeholders, RETURNING and ON CONFLICT.
type dialect struct {
	name     string
	goose    goose.Dialect
	classify func(error) errKind
	// writeLock, when set, is run first in every write transaction: it
	// gives the database SQLite's one writer at a time.
	writeLock string
	// savepoints says a failed statement aborts the transaction unless
	// it ran under a savepoint of its own (PostgreSQL).
	savepoints bool
	// unreachable, when set, says an error means the database could not
	// be reached, rather than that it refused the statement.
	unreachable func(error) bool
	// notify, when set, is run in a write transaction that bumped a
	// revision, so other processes on the database wake their waiters.
	notify string
}

var sqliteDialect = dialect{
	name:     "sqlite",
	goose:    goose.DialectSQLite3,
	classify: classifySQLite,
}

// classifySQLite reads the extended result code, which modernc enables on
// every connection.
func classifySQLite(err error) errKind {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return errOther
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return errUnique
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return errForeignKey
	}
	return errOther
}
