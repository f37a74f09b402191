package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// txn is the Tx of a SQL store.
type txn struct {
	tx *sql.Tx
	d  *dialect
	// bumped records that BumpRevision ran, so Store.Tx wakes watchers once
	// the commit has succeeded.
	bumped bool
	// savepoint says the statement savepoint of the last write is still
	// open (PostgreSQL): the next write releases it in the same round trip
	// that opens its own, and the commit releases the last.
	savepoint bool
}

var _ Tx = (*txn)(nil)

func (t *txn) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if !t.d.savepoints {
		return t.tx.ExecContext(ctx, q, args...)
	}
	// PostgreSQL aborts the whole transaction at a failed statement; the
	// store's callers may go on after a conflict or a missing parent, as
	// SQLite lets them, so each write can be undone alone.
	// One round trip opens it (no arguments: the simple protocol, which
	// takes two statements), releasing the previous write's first.
	open := "SAVEPOINT statement"
	if t.savepoint {
		open = "RELEASE SAVEPOINT statement; SAVEPOINT statement"
	}
	if _, err := t.tx.ExecContext(ctx, open); err != nil {
		return nil, fmt.Errorf("savepoint: %w", err)
	}
	t.savepoint = true
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		// The savepoint stays open, undone to where it started.
		if _, rbErr := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT statement"); rbErr != nil {
			return nil, errors.Join(err, fmt.Errorf("roll back to savepoint: %w", rbErr))
		}
		return nil, err
	}
	return res, nil
}

func (t *txn) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, q, args...)
}

// kind classifies a driver error for the dialect.
func (t *txn) kind(err error) errKind { return t.d.classify(err) }

// execOne runs a statement that must touch exactly one row; none is
// ErrNotFound with the message what. Driver errors keep their type, so
// callers can still classify them.
func (t *txn) execOne(ctx context.Context, what string, q string, args ...any) error {
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: rows affected: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// nextID takes the next value of a counter row, making the row when it is
// missing (a store restored from a backup older than the counter). The
// row lock it takes is held to commit, which serializes the writers of
// that counter (harmless on SQLite, which has one writer anyway).
func (t *txn) nextID(ctx context.Context, counter string) (int64, error) {
	var v int64
	err := t.queryRow(ctx, `INSERT INTO counters (name, value) VALUES ($1, 1)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, counter).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("next %s id: %w", counter, err)
	}
	return v, nil
}

// newID returns a time-ordered UUID.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return id.String(), nil
}

// ensureID fills an empty id.
func ensureID(id *string) error {
	if *id != "" {
		return nil
	}
	v, err := newID()
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// now is the time stamped on writes: UTC, without a monotonic reading, so
// what the caller holds equals what a later read returns.
func now() time.Time { return time.Now().UTC() }

// Timestamps are stored as unix nanoseconds; the zero time is 0.
func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// jsonCodec renders nested fields to and from TEXT columns and keeps the
// first error, so a row with many such fields reads as a flat list.
type jsonCodec struct{ err error }

// encode renders v; nil becomes "null".
func (c *jsonCodec) encode(field string, v any) string {
	if c.err != nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		c.err = fmt.Errorf("encode %s: %w", field, err)
		return ""
	}
	return string(b)
}

// decode reads text into v.
func (c *jsonCodec) decode(field, text string, v any) {
	if c.err != nil {
		return
	}
	if err := json.Unmarshal([]byte(text), v); err != nil {
		c.err = fmt.Errorf("decode %s: %w", field, err)
	}
}

// decodeOptional reads text into v; "" (a column added later, of rows
// from before) leaves v as it is.
func (c *jsonCodec) decodeOptional(field, text string, v any) {
	if text != "" {
		c.decode(field, text, v)
	}
}

// nullString stores "" as NULL, for optional foreign keys.
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// placeholders returns "$start, $start+1, …" for n arguments.
func placeholders(start, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(start + i))
	}
	return b.String()
}

// Paging defaults of ListQuery.
const (
	defaultPageSize = 20
	maxPageSize     = 500
)

// limits turns a ListQuery into LIMIT and OFFSET.
func limits(q ListQuery) (limit, offset int) {
	page, size := q.Page, q.PageSize
	if page < 1 {
		page = 1
	}
	switch {
	case size <= 0:
		size = defaultPageSize
	case size > maxPageSize:
		size = maxPageSize
	}
	// A page beyond any table must stay beyond it, not wrap negative (which
	// SQL reads as offset 0, the first page).
	if page-1 > math.MaxInt32/size {
		return size, math.MaxInt32
	}
	return size, (page - 1) * size
}

// likePattern matches names containing q, case-insensitively, when compared
// with LOWER(column) LIKE pattern ESCAPE '\'.
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(q)) + "%"
}

// likeClause is the filter of a list on some columns, using placeholder n.
func likeClause(n int, columns ...string) string {
	parts := make([]string, len(columns))
	for i, c := range columns {
		parts[i] = fmt.Sprintf(`LOWER(%s) LIKE $%d ESCAPE '\'`, c, n)
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// listing is one paged query: columns from a table, filtered by where (which
// uses $1…$len(args)), in a stable order.
type listing struct {
	what  string // for error messages: "list upstreams of project x"
	cols  string
	from  string
	where string
	args  []any
	order string
}

// page counts the matches and scans one page of them.
func (t *txn) page(ctx context.Context, l listing, q ListQuery, scan func(*sql.Rows) error) (int, error) {
	var total int
	if err := t.queryRow(ctx, "SELECT COUNT(*) FROM "+l.from+" WHERE "+l.where, l.args...).Scan(&total); err != nil {
		return 0, fmt.Errorf("%s: count: %w", l.what, err)
	}
	limit, offset := limits(q)
	n := len(l.args)
	query := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT $%d OFFSET $%d",
		l.cols, l.from, l.where, l.order, n+1, n+2)
	args := append(append([]any(nil), l.args...), limit, offset)
	if err := t.each(ctx, l.what, scan, query, args...); err != nil {
		return 0, err
	}
	return total, nil
}

// each runs a query and calls scan for every row.
func (t *txn) each(ctx context.Context, what string, scan func(*sql.Rows) error, q string, args ...any) error {
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// notFound turns sql.ErrNoRows into ErrNotFound with a message.
func notFound(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", msg, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}
