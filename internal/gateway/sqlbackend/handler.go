package sqlbackend

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// DefaultTimeout bounds a statement whose route sets no timeout.
const DefaultTimeout = 30 * time.Second

// maxBody bounds a JSON body a sql route binds fields from.
const maxBody = 1 << 20

// Filter is the compiled backend of one route: the last request filter,
// which answers the request itself.
type Filter struct {
	st      *Statement
	pool    *Pool // nil when compiled for validation only
	timeout time.Duration
}

// NewFilter binds a compiled statement to its pool.
func NewFilter(st *Statement, pool *Pool, timeout time.Duration) *Filter {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Filter{st: st, pool: pool, timeout: timeout}
}

// OnRequest answers from the database.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	var body map[string]json.RawMessage
	if f.st.NeedsBody() && ex.ContentLength() != 0 {
		b, err := ex.ReadBody(maxBody)
		switch {
		case errors.Is(err, plugin.ErrBodyTooLarge):
			ex.Reject(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than this API allows")
			return true
		case err != nil:
			ex.Reject(http.StatusBadRequest, "bad_request", "the request body could not be read")
			return true
		}
		if len(bytes.TrimSpace(b)) > 0 {
			if err := json.Unmarshal(b, &body); err != nil {
				ex.Reject(http.StatusBadRequest, "bad_request", "the request body must be a JSON object")
				return true
			}
		}
	}
	args, countArgs, page, err := f.st.Bind(ex, body)
	if err != nil {
		ex.Reject(http.StatusBadRequest, "bad_parameter", err.Error())
		return true
	}
	if f.pool == nil {
		ex.Reject(http.StatusServiceUnavailable, "data_source_unavailable", "the data source is not available")
		return true
	}
	release, ok := f.pool.acquire()
	if !ok {
		ex.SetResponseHeader("Retry-After", "1")
		ex.Reject(http.StatusServiceUnavailable, "data_source_busy", "every connection to the data source is in use")
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	r := &run{f: f, ctx: ctx, cancel: cancel, release: release, start: time.Now()}
	status, answer, stream, err := r.begin(args, countArgs, page)
	if err != nil {
		r.close(err)
		code, st, msg := classify(err, ctx)
		ex.Reject(st, code, msg)
		return true
	}
	ex.SetResponseHeader("Content-Type", "application/json")
	if stream {
		ex.RespondStream(status, r)
		return true
	}
	r.close(nil)
	ex.Respond(status, answer)
	return true
}

// run is one statement from its transaction's start to the end of its
// answer; when streaming it is the body the engine reads and closes.
type run struct {
	f       *Filter
	ctx     context.Context
	cancel  context.CancelFunc
	release func()
	start   time.Time
	tx      *sql.Tx
	rows    *sql.Rows
	enc     *rowEncoder
	buf     []byte
	off     int
	tail    []byte // what closes the answer after the last row
	rowsN   int
	done    bool
	once    sync.Once
	failed  bool
}

// begin runs the statement up to its first row, so that errors and
// timeouts before it are answered with a status; a stream continues in
// Read.
func (r *run) begin(args, countArgs []any, page Page) (status int, answer []byte, stream bool, err error) {
	st := r.f.st
	db := r.f.pool.DB
	r.tx, err = db.BeginTx(r.ctx, &sql.TxOptions{ReadOnly: !st.allowWrite})
	if err != nil {
		return 0, nil, false, err
	}
	total := int64(-1)
	if page.Total && st.CountQuery != "" {
		if err := r.tx.QueryRowContext(r.ctx, st.CountQuery, countArgs...).Scan(&total); err != nil {
			return 0, nil, false, err
		}
	}
	if st.exec {
		res, err := r.tx.ExecContext(r.ctx, st.Query, args...)
		if err != nil {
			return 0, nil, false, err
		}
		n, _ := res.RowsAffected()
		if err := r.tx.Commit(); err != nil {
			return 0, nil, false, err
		}
		return http.StatusOK, append(strconv.AppendInt([]byte(`{"rows_affected":`), n, 10), "}\n"...), false, nil
	}
	r.rows, err = r.tx.QueryContext(r.ctx, st.Query, args...)
	if err != nil {
		return 0, nil, false, err
	}
	cts, err := r.rows.ColumnTypes()
	if err != nil {
		return 0, nil, false, err
	}
	r.enc = newRowEncoder(cts)
	r.buf = append(r.buf, `{"items":[`...)
	if st.paged {
		r.tail = append(r.tail, `],"page":`...)
		r.tail = strconv.AppendInt(r.tail, int64(page.Page), 10)
		r.tail = append(r.tail, `,"page_size":`...)
		r.tail = strconv.AppendInt(r.tail, int64(page.Size), 10)
		if total >= 0 {
			r.tail = append(r.tail, `,"total":`...)
			r.tail = strconv.AppendInt(r.tail, total, 10)
		}
		r.tail = append(r.tail, "}\n"...)
	} else {
		r.tail = append(r.tail, "]}\n"...)
	}
	if st.allowWrite {
		// A write answers only once it is committed: read everything
		// (RETURNING rows are few), commit, then answer.
		for {
			more, err := r.fill(1 << 30)
			if err != nil {
				return 0, nil, false, err
			}
			if !more {
				break
			}
		}
		if err := r.tx.Commit(); err != nil {
			return 0, nil, false, err
		}
		return http.StatusOK, r.buf, false, nil
	}
	// The first row: a slow query times out here, while a status can still
	// say so.
	if _, err := r.fill(1); err != nil {
		return 0, nil, false, err
	}
	return http.StatusOK, nil, true, nil
}

// fill encodes rows into buf until it holds about limit bytes or the rows
// end (then it appends the tail and reports no more).
func (r *run) fill(limit int) (more bool, err error) {
	start := len(r.buf)
	for !r.done && len(r.buf)-start < limit {
		if !r.rows.Next() {
			if err := r.rows.Err(); err != nil {
				return false, err
			}
			r.done = true
			r.buf = append(r.buf, r.tail...)
			return false, nil
		}
		if r.rowsN > 0 {
			r.buf = append(r.buf, ',')
		}
		r.rowsN++
		if r.buf, err = r.enc.appendRow(r.buf, r.rows); err != nil {
			return false, err
		}
	}
	return !r.done, nil
}

// Read gives the engine the next part of the answer, scanning rows as the
// client takes them: a large result never sits in memory.
func (r *run) Read(p []byte) (int, error) {
	for r.off >= len(r.buf) {
		if r.done {
			return 0, io.EOF
		}
		r.buf, r.off = r.buf[:0], 0
		if _, err := r.fill(16 << 10); err != nil {
			r.failed = true
			return 0, err
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// Close ends the statement: rows, transaction, deadline and slot.
func (r *run) Close() error {
	var err error
	if !r.done {
		err = errors.New("answer not completed")
	}
	r.close(err)
	return nil
}

func (r *run) close(err error) {
	r.once.Do(func() {
		if r.rows != nil {
			_ = r.rows.Close()
		}
		if r.tx != nil {
			_ = r.tx.Rollback() // after a commit: ErrTxDone, harmless
		}
		r.cancel()
		r.release()
		r.f.pool.observe(time.Since(r.start), err != nil || r.failed)
	})
}

// classify maps a statement's failure to the gateway's answer. Database
// errors are not quoted: they may show the schema.
func classify(err error, ctx context.Context) (code string, status int, msg string) {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "backend_timeout", http.StatusGatewayTimeout, "the query did not finish within the route's timeout"
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "25006":
			return "read_only", http.StatusForbidden, "this API is read-only"
		case len(pe.Code) == 5 && pe.Code[:2] == "23":
			return "conflict", http.StatusConflict, "the data source refused the change: " + pe.Message
		case len(pe.Code) == 5 && pe.Code[:2] == "22":
			return "bad_parameter", http.StatusBadRequest, "the data source refused a parameter value: " + pe.Message
		}
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1792:
			return "read_only", http.StatusForbidden, "this API is read-only"
		case 1062, 1451, 1452, 1048, 1364:
			return "conflict", http.StatusConflict, "the data source refused the change: " + me.Message
		case 1264, 1265, 1292, 1366, 1406:
			return "bad_parameter", http.StatusBadRequest, "the data source refused a parameter value: " + me.Message
		}
	}
	return "data_source_error", http.StatusBadGateway, "the data source failed to answer"
}

func jsonValid(s string) bool { return json.Valid([]byte(s)) }
