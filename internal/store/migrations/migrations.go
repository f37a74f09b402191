// Package migrations holds the store's schema as goose SQL migrations,
// embedded so the binary needs no files at run time. The same files serve
// SQLite and PostgreSQL: they use only portable DDL (TEXT, BIGINT, INTEGER,
// composite UNIQUE and FOREIGN KEY constraints, ON DELETE CASCADE).
package migrations

import "embed"

// FS holds the numbered migrations at its root, as goose's Provider expects.
//
//go:embed *.sql
var FS embed.FS
