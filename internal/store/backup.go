package store

import (
	"bufio"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// backupTables are the store's tables in an order that inserts every
// row after the rows it refers to (TestBackupCoversEverySchemaTable keeps
// the list whole), each with the order its rows are written in: folders
// by path, so that a parent comes before its children.
var backupTables = []struct{ name, order string }{
	{"counters", "name"}, {"users", "id"}, {"tokens", "hash"}, {"projects", "id"}, {"gateway_groups", "name"},
	{"upstreams", "project_id, id"}, {"folders", "path, id"}, {"services", "id"}, {"routes", "id"},
	{"versions", "service_id, version"}, {"deployments", "group_name, service_id"}, {"history", "id"}, {"audit", "id"},
	{"parked_deployments", "service_id, group_name"}, {"canaries", "id"}, {"applications", "id"}, {"credentials", "id"},
	{"subscriptions", "id"}, {"data_sources", "id"}, {"data_source_maps", "service_id, group_name"},
	{"login_throttle", "username"}, {"gateway_tokens", "id"}, {"gateway_instances", "group_name, id"},
	{"revision_changes", "revision, group_name, service_id"}, {"route_shapes", "group_name, shape, service_id"},
	{"gateway_figures", "id"}, {"store_settings", "name"}, {"certificates", "id"},
	{"registries", "id"}, {"roles", "name"}, {"members", "project_id, user_id"},
	{"listings", "service_id"}, {"plans", "id"}, {"approvals", "id"}, {"approval_events", "approval_id, seq"},
	{"webhook_deliveries", "id"},
	{"alert_rules", "id"}, {"alert_events", "rule_id, seq"}, {"packages", "id"},
	{"cache_purges", "group_name, service_id"},
	{"composite_uses", "group_name, service_id, version, route_name, uses_service, uses_route"},
	{"monitoring_points", "resolution, group_name, service_id, route_id, start_at"},
}

// NotBackedUp are the tables a backup leaves out, each with why
// (TestBackupCoversEverySchemaTable counts them as covered).
var NotBackedUp = map[string]string{
	"call_logs": "the calls gateways answered: kept a day or so to answer support questions, as large as the traffic, and worth nothing to a restored install",
}

// backupHeader opens a backup: what wrote it and the schema its rows fit.
type backupHeader struct {
	Format        string    `json:"format"` // backupFormat
	SchemaVersion int64     `json:"schema_version"`
	TakenAt       time.Time `json:"taken_at"`
	From          string    `json:"from"` // the dialect: sqlite, postgres
}

// backupTable starts a table's rows, one JSON array each.
type backupTable struct {
	Table   string   `json:"table"`
	Columns []string `json:"columns"`
	Rows    int      `json:"rows"`
}

const backupFormat = "portico-backup-1"

// Backup writes the store's whole state to w, gzipped JSON lines: a
// header, then each table with its rows. It reads one consistent
// snapshot (a read transaction) while the control plane keeps running.
func (s *SQL) Backup(ctx context.Context, w io.Writer) error {
	version, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(w)
	enc := json.NewEncoder(zw)
	if err := enc.Encode(backupHeader{Format: backupFormat, SchemaVersion: version, TakenAt: time.Now().UTC(), From: s.dialect.name}); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	sqlTx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return s.unavailable(fmt.Errorf("backup: begin: %w", err))
	}
	defer func() { _ = sqlTx.Rollback() }()
	for _, t := range backupTables {
		if err := backupRows(ctx, sqlTx, enc, t.name, t.order); err != nil {
			return s.unavailable(fmt.Errorf("backup of table %s: %w", t.name, err))
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

func backupRows(ctx context.Context, tx *sql.Tx, enc *json.Encoder, table, order string) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, "SELECT * FROM "+table+" ORDER BY "+order)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	if err := enc.Encode(backupTable{Table: table, Columns: cols, Rows: n}); err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	written := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			switch x := v.(type) {
			case int32:
				vals[i] = int64(x)
			case []byte:
				vals[i] = string(x)
			case nil, int64, string:
			default:
				return fmt.Errorf("column %s holds a %T, which a backup does not carry", cols[i], v)
			}
		}
		if err := enc.Encode(vals); err != nil {
			return err
		}
		written++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if written != n {
		return fmt.Errorf("read %d rows, counted %d", written, n)
	}
	return nil
}

// SchemaVersion is the newest migration applied.
func (s *SQL) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.read.QueryRowContext(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&v)
	if err != nil {
		return 0, s.unavailable(fmt.Errorf("schema version: %w", err))
	}
	return v, nil
}

// ErrNotEmpty refuses a restore into a store that already holds state.
var ErrNotEmpty = errors.New("the store is not empty")

// Restore fills an empty store (migrated, nothing written yet) with a
// backup, in one transaction: all of it or nothing. A backup of a newer
// schema than this store's is refused; an older one fits (the columns
// added since take their defaults).
func (s *SQL) Restore(ctx context.Context, r io.Reader) (err error) {
	defer func() { err = s.unavailable(err) }()
	version, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	zr, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return fmt.Errorf("restore: not a backup: %w", err)
	}
	dec := json.NewDecoder(zr)
	dec.UseNumber()
	var h backupHeader
	if err := dec.Decode(&h); err != nil || h.Format != backupFormat {
		return fmt.Errorf("restore: not a %s file (%v)", backupFormat, err)
	}
	if h.SchemaVersion > version {
		return fmt.Errorf("restore: the backup's schema (version %d) is newer than this store's (%d): restore with a newer portico", h.SchemaVersion, version)
	}
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("restore: begin: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }()
	if s.dialect.writeLock != "" {
		if _, err := sqlTx.ExecContext(ctx, s.dialect.writeLock); err != nil {
			return fmt.Errorf("restore: take the write lock: %w", err)
		}
	}
	for _, t := range backupTables[1:] {
		var n int
		if err := sqlTx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t.name).Scan(&n); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("restore: table %s holds %d rows: %w (restore into a new database or data directory, before any server starts on it)", t.name, n, ErrNotEmpty)
		}
	}
	if _, err := sqlTx.ExecContext(ctx, "DELETE FROM counters"); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	known := map[string]bool{}
	for _, t := range backupTables {
		known[t.name] = true
	}
	for {
		var t backupTable
		if err := dec.Decode(&t); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if !known[t.Table] || len(t.Columns) == 0 {
			return fmt.Errorf("restore: a table %q this store does not have", t.Table)
		}
		if err := restoreRows(ctx, sqlTx, dec, t); err != nil {
			return fmt.Errorf("restore of table %s: %w", t.Table, err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("restore: commit: %w", err)
	}
	s.changes.notify()
	return nil
}

// restoreRows inserts a table's rows, many to a statement.
func restoreRows(ctx context.Context, tx *sql.Tx, dec *json.Decoder, t backupTable) error {
	for _, c := range t.Columns {
		if !validColumn(c) {
			return fmt.Errorf("column name %q", c)
		}
	}
	perStatement := max(1, min(200, 4000/len(t.Columns)))
	var args []any
	flush := func(rows int) error {
		if rows == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString("INSERT INTO " + t.Table + " (" + strings.Join(t.Columns, ", ") + ") VALUES ")
		for r := range rows {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + placeholders(r*len(t.Columns)+1, len(t.Columns)) + ")")
		}
		_, err := tx.ExecContext(ctx, b.String(), args...)
		args = args[:0]
		return err
	}
	pending := 0
	for range t.Rows {
		var row []any
		if err := dec.Decode(&row); err != nil {
			return err
		}
		if len(row) != len(t.Columns) {
			return fmt.Errorf("a row of %d values for %d columns", len(row), len(t.Columns))
		}
		for i, v := range row {
			if n, ok := v.(json.Number); ok {
				iv, err := n.Int64()
				if err != nil {
					return fmt.Errorf("column %s: %w", t.Columns[i], err)
				}
				row[i] = iv
			}
		}
		args = append(args, row...)
		if pending++; pending == perStatement {
			if err := flush(pending); err != nil {
				return err
			}
			pending = 0
		}
	}
	return flush(pending)
}

// validColumn is a plain SQL identifier: a backup names columns, and
// nothing else may reach the statement.
func validColumn(c string) bool {
	if c == "" || len(c) > 63 {
		return false
	}
	for _, r := range c {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}
