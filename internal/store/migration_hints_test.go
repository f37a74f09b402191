package store_test

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/store/migrations"
)

// TestMigrationBlanksHashHints: the migration that retires key hints made
// of the key's hash blanks those and keeps every other hint.
func TestMigrationBlanksHashHints(t *testing.T) {
	dir := t.TempDir()
	s := openSQLite(t, dir)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "portico.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO applications (id, scope, project_id, owner_id, name, description, services, created_at, updated_at)
		VALUES ('a1', 'user:u1', NULL, 'u1', 'app', '', '[]', 1, 1)`)
	for id, hint := range map[string]string{"c1": "sha256:0123abcd", "c2": "...wxyz", "c3": ""} {
		exec(`INSERT INTO credentials (id, application_id, type, lookup, hint, secret_hash, secret_sealed, algorithm, expires_at, created_at)
			VALUES (?, 'a1', 'key-auth', ?, ?, '', '', '', 0, 1)`, id, "lookup-"+id, hint)
	}

	b, err := fs.ReadFile(migrations.FS, "00009_credential_hints.sql")
	if err != nil {
		t.Fatal(err)
	}
	up, _, _ := strings.Cut(string(b), "-- +goose Down")
	_, up, _ = strings.Cut(up, "-- +goose Up")
	exec(up)

	want := map[string]string{"c1": "", "c2": "...wxyz", "c3": ""}
	rows, err := db.QueryContext(t.Context(), `SELECT id, hint FROM credentials`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, hint string
		if err := rows.Scan(&id, &hint); err != nil {
			t.Fatal(err)
		}
		if hint != want[id] {
			t.Errorf("%s: hint %q, want %q", id, hint, want[id])
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
