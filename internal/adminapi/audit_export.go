package adminapi

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// The audit log's export: GET /audit-events/export streams the events the
// filters select as JSON lines, oldest first, written as they are read.
// One request sends at most maxExportLines events; when more remain, its
// last line is an exportNext instead of an event, saying how to go on.
// A client loops until a response ends without one.

const (
	// maxExportLines bounds one export request, so that one call holds
	// neither the store nor the control plane for long: 100 000 events
	// are some 50 MB of JSON.
	maxExportLines = 100_000
	// exportBatch is how many events one read transaction takes: the
	// transaction ends before they are written, so a slow client holds no
	// snapshot of the database open.
	exportBatch = 1000
)

// exportNext is the last line of an export that stopped at its bound:
// the query of the same export from after the last event sent (ids only
// grow, so nothing is missed or sent twice).
type exportNext struct {
	NextAfterID int64  `json:"next_after_id"`
	Next        string `json:"next"`
}

// exportAuditEvents streams the selected events. The first batch is read
// before anything is sent, so that a bad filter or an unavailable store
// is still a problem answer with its status; a failure later cuts the
// response (the client sees an incomplete body, not a short export that
// looks whole).
func (c *call) exportAuditEvents() (any, error) {
	f, ferr := c.auditFilter()
	q := c.r.URL.Query()
	f.Q = q.Get("q")
	limit, lerr := intParam(q.Get("limit"), "limit", 1, maxExportLines, maxExportLines)
	after, aerr := intParam(q.Get("after_id"), "after_id", 0, math.MaxInt, 0)
	if err := fieldErrors(ferr, lerr, aerr); err != nil {
		return nil, err
	}
	f.AfterID = int64(after)
	// One event more than the bound is read, to know whether more remain.
	batch, err := c.auditBatch(f, min(exportBatch, limit+1))
	if err != nil {
		return nil, err
	}
	h := c.w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(c.w)
	flush := http.NewResponseController(c.w)
	sent := 0
	for {
		asked := min(exportBatch, limit-sent+1)
		for _, e := range batch {
			if sent == limit {
				next := exportNext{NextAfterID: f.AfterID, Next: c.exportNextURL(f.AfterID)}
				if err := enc.Encode(next); err != nil {
					c.s.log.Debug("audit export: the client went away", "err", err)
				}
				return rawAnswer{streamed: true}, nil
			}
			if err := enc.Encode(e); err != nil {
				c.s.log.Debug("audit export: the client went away", "err", err)
				return rawAnswer{streamed: true}, nil
			}
			sent++
			f.AfterID = e.ID
		}
		if len(batch) < asked {
			return rawAnswer{streamed: true}, nil
		}
		_ = flush.Flush() // a writer that cannot flush sends when its buffer fills
		if batch, err = c.auditBatch(f, min(exportBatch, limit-sent+1)); err != nil {
			if c.ctx().Err() != nil { // the client went away: no one is left to tell
				c.s.log.Debug("audit export: the client went away", "err", err)
				return rawAnswer{streamed: true}, nil
			}
			c.s.log.Error("audit export failed after its start; the response is cut", "after_id", f.AfterID, "err", err)
			// The status and earlier lines are sent: aborting the
			// response is the one way left to tell the client it is
			// incomplete (net/http closes the connection without logging).
			panic(http.ErrAbortHandler)
		}
	}
}

// auditBatch reads up to n events after f.AfterID, oldest first, in one
// read transaction.
func (c *call) auditBatch(f store.AuditFilter, n int) ([]spec.AuditEvent, error) {
	out := make([]spec.AuditEvent, 0, n)
	err := c.view(func(tx store.Tx) error {
		_, err := tx.ScanAudit(c.ctx(), f, n, func(e spec.AuditEvent) error {
			out = append(out, e)
			return nil
		})
		return err
	})
	return out, err
}

// exportNextURL is this request's path and query with after_id set.
func (c *call) exportNextURL(after int64) string {
	v := c.r.URL.Query()
	v.Set("after_id", strconv.FormatInt(after, 10))
	return c.r.URL.Path + "?" + v.Encode()
}

// intParam parses an integer query parameter between lo and hi; "" is def.
func intParam(v, name string, lo, hi, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fieldError(name, "must be an integer between %d and %d", lo, hi)
	}
	return n, nil
}
