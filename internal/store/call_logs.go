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
	"unicode/utf8"

	"github.com/portico-gw/portico/internal/spec"
)

// Bounds of the call log.
const (
	// DefaultCallLogLimit and MaxCallLogLimit bound a page of
	// SearchCallRecords.
	DefaultCallLogLimit = 50
	MaxCallLogLimit     = 500
	// maxCallLogColumn caps the text of a searched column: the values come
	// from clients (a request id header) and an index entry of PostgreSQL
	// must stay under about 2.7 kB, or the whole batch is refused.
	maxCallLogColumn = 256
	// callLogColumns is the number of values one row binds; callLogRows
	// how many rows one statement inserts: SQLite resolves each numbered
	// parameter by a scan of the ones before it, so preparing 300 rows
	// (3 900 values) cost a third of a millisecond a row; 20 rows keep
	// the statement cheap to prepare and few round trips on PostgreSQL.
	callLogColumns = 13
	callLogRows    = 20
)

// CallLogCursor is where a page of SearchCallRecords ends: the time and
// id of its last record. The next page starts strictly before it.
type CallLogCursor struct {
	At time.Time
	ID int64
}

// IsZero says there is no next page (or, as a filter, that the search
// starts at the newest record).
func (c CallLogCursor) IsZero() bool { return c.ID == 0 }

// String is the cursor as the admin API hands it out: "" for none, else
// "<unix nanoseconds>.<id>".
func (c CallLogCursor) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.FormatInt(toNanos(c.At), 10) + "." + strconv.FormatInt(c.ID, 10)
}

// ParseCallLogCursor reads what CallLogCursor.String wrote; "" is the
// zero cursor.
func ParseCallLogCursor(s string) (CallLogCursor, error) {
	if s == "" {
		return CallLogCursor{}, nil
	}
	at, id, ok := strings.Cut(s, ".")
	n, err1 := strconv.ParseInt(at, 10, 64)
	i, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n < 0 || i <= 0 {
		return CallLogCursor{}, fmt.Errorf("call log cursor %q: not a cursor a search answered", s)
	}
	return CallLogCursor{At: fromNanos(n), ID: i}, nil
}

// CallLogFilter narrows SearchCallRecords. Empty fields do not filter.
type CallLogFilter struct {
	Group   string
	Project string // exactly this project id
	// Projects limits records to these projects when AllProjects is false
	// (a caller who may read only some projects' calls); records of no
	// project (a request no route matched) need AllProjects.
	Projects    []string
	AllProjects bool
	Service     string // the service's name as the record holds it
	ServiceID   string
	Route       string
	// StatusClass 1 to 5 selects 1xx to 5xx; Status one exact status.
	StatusClass int
	Status      int
	Consumer    string
	RequestID   string
	TraceID     string
	Since       time.Time // at or after
	Until       time.Time // before
	// Before continues a search where the previous page's Next ended.
	Before CallLogCursor
	// Limit is the page size: 0 is DefaultCallLogLimit, at most
	// MaxCallLogLimit.
	Limit int
}

// where builds the filter's WHERE clause and arguments.
func (f CallLogFilter) where() (string, []any) {
	var parts []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	for _, eq := range []struct{ col, v string }{
		{"group_name", f.Group}, {"project_id", f.Project}, {"service", f.Service}, {"service_id", f.ServiceID},
		{"route", f.Route}, {"consumer", f.Consumer}, {"request_id", f.RequestID}, {"trace_id", f.TraceID},
	} {
		if eq.v != "" {
			parts = append(parts, eq.col+" = "+arg(callLogText(eq.v)))
		}
	}
	if !f.AllProjects {
		if len(f.Projects) == 0 {
			parts = append(parts, "1 = 0")
		} else {
			ph := make([]string, len(f.Projects))
			for i, p := range f.Projects {
				ph[i] = arg(p)
			}
			parts = append(parts, "project_id IN ("+strings.Join(ph, ", ")+")")
		}
	}
	if f.StatusClass > 0 {
		parts = append(parts, "status >= "+arg(f.StatusClass*100)+" AND status < "+arg(f.StatusClass*100+100))
	}
	if f.Status > 0 {
		parts = append(parts, "status = "+arg(f.Status))
	}
	if !f.Since.IsZero() {
		parts = append(parts, "at >= "+arg(toNanos(f.Since)))
	}
	if !f.Until.IsZero() {
		parts = append(parts, "at < "+arg(toNanos(f.Until)))
	}
	if !f.Before.IsZero() {
		// Row values keep the keyset condition one index range on both
		// databases.
		parts = append(parts, "(at, id) < ("+arg(toNanos(f.Before.At))+", "+arg(f.Before.ID)+")")
	}
	if len(parts) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(parts, " AND "), args
}

// InsertCallRecords stores calls gateways answered, many rows to a
// statement, with ids taken in one range; it sets each record's ID. A
// record without a time is stamped now. Searched columns keep at most
// 256 bytes of valid UTF-8 without NUL (they come from clients); the
// record's JSON keeps everything.
func (t *txn) InsertCallRecords(ctx context.Context, recs []spec.CallRecord) error {
	if len(recs) == 0 {
		return nil
	}
	var last int64
	err := t.queryRow(ctx, `INSERT INTO counters (name, value) VALUES ('call_logs', $1)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING value`, int64(len(recs))).Scan(&last)
	if err != nil {
		return fmt.Errorf("insert call records: ids: %w", err)
	}
	first := last - int64(len(recs)) + 1
	stamp := now()
	args := make([]any, 0, min(len(recs), callLogRows)*callLogColumns)
	rows := 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO call_logs (id, group_name, at, request_id, trace_id, project_id, service, service_id,
			route, consumer, status, latency_ms, record) VALUES `)
		for r := range rows {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + placeholders(r*callLogColumns+1, callLogColumns) + ")")
		}
		if _, err := t.exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert call records: %w", err)
		}
		args, rows = args[:0], 0
		return nil
	}
	for i := range recs {
		r := &recs[i]
		if r.Time.IsZero() {
			r.Time = stamp
		}
		r.Time = r.Time.UTC()
		// JSON has no NaN or infinity: a broken clock reading must not
		// refuse the batch.
		r.LatencyMs = finite(r.LatencyMs)
		r.UpstreamLatencyMs = finite(r.UpstreamLatencyMs)
		r.ID = 0 // the row's id column holds it
		body, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("insert call records: encode %s: %w", r.RequestID, err)
		}
		r.ID = first + int64(i)
		args = append(args, r.ID, callLogText(r.Group), toNanos(r.Time), callLogText(r.RequestID), callLogText(r.TraceID),
			callLogText(r.Project), callLogText(r.Service), callLogText(r.ServiceID), callLogText(r.Route),
			callLogText(r.Consumer), r.Status, r.LatencyMs, string(body))
		if rows++; rows == callLogRows {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// finite is f, or 0 for NaN and the infinities.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// callLogText is s as a searched column holds it: valid UTF-8 without
// NUL (PostgreSQL refuses both in TEXT), at most maxCallLogColumn bytes.
// Filters go through it too, so a long request id still finds its call.
func callLogText(s string) string {
	if len(s) <= maxCallLogColumn && utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= maxCallLogColumn {
		return s
	}
	cut := maxCallLogColumn
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// scanCallRecord reads the id and record columns.
func scanCallRecord(s scanner) (spec.CallRecord, error) {
	var id int64
	var body string
	if err := s.Scan(&id, &body); err != nil {
		return spec.CallRecord{}, err
	}
	var r spec.CallRecord
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return spec.CallRecord{}, fmt.Errorf("call record %d: %w", id, err)
	}
	r.ID = id
	return r, nil
}

// SearchCallRecords returns one page of the records f selects, newest
// first (by time, then id), and the cursor of the next page (zero when
// this one is the last).
func (t *txn) SearchCallRecords(ctx context.Context, f CallLogFilter) ([]spec.CallRecord, CallLogCursor, error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultCallLogLimit
	case limit > MaxCallLogLimit:
		limit = MaxCallLogLimit
	}
	where, args := f.where()
	out := make([]spec.CallRecord, 0, min(limit, 64))
	var ats []int64
	q := fmt.Sprintf("SELECT id, record, at FROM call_logs WHERE %s ORDER BY at DESC, id DESC LIMIT %d", where, limit+1)
	err := t.each(ctx, "search call records", func(rows *sql.Rows) error {
		var id, at int64
		var body string
		if err := rows.Scan(&id, &body, &at); err != nil {
			return err
		}
		var r spec.CallRecord
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			return fmt.Errorf("call record %d: %w", id, err)
		}
		r.ID = id
		out = append(out, r)
		ats = append(ats, at)
		return nil
	}, q, args...)
	if err != nil {
		return nil, CallLogCursor{}, err
	}
	if len(out) <= limit {
		return out, CallLogCursor{}, nil
	}
	out = out[:limit]
	// The cursor holds the column's time, which orders the rows, rather
	// than the record's (the same instant, read back from JSON).
	return out, CallLogCursor{At: fromNanos(ats[limit-1]), ID: out[limit-1].ID}, nil
}

// CallRecord returns one stored record; a missing one is ErrNotFound.
func (t *txn) CallRecord(ctx context.Context, id int64) (spec.CallRecord, error) {
	r, err := scanCallRecord(t.queryRow(ctx, "SELECT id, record FROM call_logs WHERE id = $1", id))
	if err != nil {
		return spec.CallRecord{}, notFound(err, "call record %d", id)
	}
	return r, nil
}

// PruneCallRecords deletes the records older than olderThan and, in each
// gateway group, those past its newest keepPerGroup (0: no count limit),
// and answers how many went. Records of groups that no longer exist go
// with age alone.
func (t *txn) PruneCallRecords(ctx context.Context, olderThan time.Time, keepPerGroup int) (int64, error) {
	var total int64
	del := func(q string, args ...any) error {
		res, err := t.exec(ctx, q, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		total += n
		return err
	}
	if err := del("DELETE FROM call_logs WHERE at < $1", toNanos(olderThan)); err != nil {
		return total, fmt.Errorf("prune call records: %w", err)
	}
	if keepPerGroup <= 0 {
		return total, nil
	}
	var groups []string
	err := t.each(ctx, "prune call records: groups", func(rows *sql.Rows) error {
		var g string
		err := rows.Scan(&g)
		groups = append(groups, g)
		return err
	}, "SELECT name FROM gateway_groups ORDER BY name")
	if err != nil {
		return total, err
	}
	for _, g := range groups {
		// The newest record past the count; it and everything older go.
		var at, id int64
		err := t.queryRow(ctx, `SELECT at, id FROM call_logs WHERE group_name = $1
			ORDER BY at DESC, id DESC LIMIT 1 OFFSET $2`, g, keepPerGroup).Scan(&at, &id)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return total, fmt.Errorf("prune call records of group %s: %w", g, err)
		}
		if err := del("DELETE FROM call_logs WHERE group_name = $1 AND (at, id) <= ($2, $3)", g, at, id); err != nil {
			return total, fmt.Errorf("prune call records of group %s: %w", g, err)
		}
	}
	return total, nil
}
