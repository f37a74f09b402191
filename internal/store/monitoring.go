package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// MonitoringRow is the figures of one service, or one route of a
// service, in a gateway group over one span of time: the monitoring
// rollups (monitoring_points) that chart an hour at 10 seconds, a day at
// 1 minute and 30 days at 1 hour. Latency and Upstream are histograms as
// (slot, count) pairs in slot order, in the layout of the gateway's
// series: the store adds them slot by slot and knows nothing else of
// them.
type MonitoringRow struct {
	Resolution        time.Duration // the span: 10 s, 1 min or 1 h
	Group             string
	ServiceID         string
	RouteID           string // "": the whole service
	Start             time.Time
	Requests, Errors  uint64
	Latency, Upstream [][2]uint64
}

// MonitoringQuery selects rollup rows of one resolution and group whose
// span starts in [From, To): of one service (ServiceID; "" every
// service), and of its routes when Routes is set, else of the whole
// service.
type MonitoringQuery struct {
	Resolution time.Duration
	Group      string
	ServiceID  string
	// RouteID narrows to one route's rows (Routes must be set).
	RouteID  string
	Routes   bool
	From, To time.Time
}

// MonitoringTotal is the requests and errors of a service or route
// summed over the rows a MonitoringQuery selects.
type MonitoringTotal struct {
	ServiceID, RouteID string
	Requests, Errors   uint64
}

// where is q's WHERE clause and arguments.
func (q MonitoringQuery) where() (string, []any) {
	clause := "resolution = $1 AND group_name = $2 AND start_at >= $3 AND start_at < $4"
	args := []any{int64(q.Resolution / time.Second), q.Group, toNanos(q.From), toNanos(q.To)}
	if q.ServiceID != "" {
		args = append(args, q.ServiceID)
		clause += fmt.Sprintf(" AND service_id = $%d", len(args))
	}
	switch {
	case !q.Routes:
		clause += " AND route_id = ''"
	case q.RouteID != "":
		args = append(args, q.RouteID)
		clause += fmt.Sprintf(" AND route_id = $%d", len(args))
	default:
		clause += " AND route_id <> ''"
	}
	return clause, args
}

// AddMonitoringRows adds each row's figures to the stored row of its
// resolution, group, service, route and start (made when missing):
// counts add, histograms add slot by slot.
func (t *txn) AddMonitoringRows(ctx context.Context, rows []MonitoringRow) error {
	for _, r := range rows {
		res := int64(r.Resolution / time.Second)
		start := toNanos(r.Start)
		var requests, errs int64
		var lat, up string
		err := t.queryRow(ctx, `SELECT requests, errors, latency, upstream FROM monitoring_points
			WHERE resolution = $1 AND group_name = $2 AND service_id = $3 AND route_id = $4 AND start_at = $5`,
			res, r.Group, r.ServiceID, r.RouteID, start).Scan(&requests, &errs, &lat, &up)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("monitoring row of %s/%s: %w", r.Group, r.ServiceID, err)
		default:
			stored, err := readHistograms(lat, up)
			if err != nil {
				return fmt.Errorf("monitoring row of %s/%s: %w", r.Group, r.ServiceID, err)
			}
			r.Requests += uint64(requests)
			r.Errors += uint64(errs)
			r.Latency = addHistograms(stored[0], r.Latency)
			r.Upstream = addHistograms(stored[1], r.Upstream)
		}
		latJSON, err := json.Marshal(orNone(r.Latency))
		if err != nil {
			return fmt.Errorf("monitoring row of %s/%s: %w", r.Group, r.ServiceID, err)
		}
		upJSON, err := json.Marshal(orNone(r.Upstream))
		if err != nil {
			return fmt.Errorf("monitoring row of %s/%s: %w", r.Group, r.ServiceID, err)
		}
		_, err = t.exec(ctx, `INSERT INTO monitoring_points
			(resolution, group_name, service_id, route_id, start_at, requests, errors, latency, upstream)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (resolution, group_name, service_id, route_id, start_at) DO UPDATE SET
			requests = excluded.requests, errors = excluded.errors, latency = excluded.latency, upstream = excluded.upstream`,
			res, r.Group, r.ServiceID, r.RouteID, start, clampInt64(r.Requests), clampInt64(r.Errors), string(latJSON), string(upJSON))
		if err != nil {
			return fmt.Errorf("monitoring row of %s/%s: %w", r.Group, r.ServiceID, err)
		}
	}
	return nil
}

// MonitoringRows returns the rows q selects, by route, then start.
func (t *txn) MonitoringRows(ctx context.Context, q MonitoringQuery) ([]MonitoringRow, error) {
	where, args := q.where()
	var out []MonitoringRow
	err := t.each(ctx, "monitoring rows", func(rows *sql.Rows) error {
		r := MonitoringRow{Resolution: q.Resolution, Group: q.Group}
		var start, requests, errs int64
		var lat, up string
		if err := rows.Scan(&r.ServiceID, &r.RouteID, &start, &requests, &errs, &lat, &up); err != nil {
			return err
		}
		h, err := readHistograms(lat, up)
		if err != nil {
			return err
		}
		r.Start, r.Requests, r.Errors, r.Latency, r.Upstream = fromNanos(start), uint64(requests), uint64(errs), h[0], h[1]
		out = append(out, r)
		return nil
	}, `SELECT service_id, route_id, start_at, requests, errors, latency, upstream FROM monitoring_points
		WHERE `+where+` ORDER BY service_id, route_id, start_at`, args...)
	return out, err
}

// MonitoringTotals sums the requests and errors of the rows q selects by
// service and route.
func (t *txn) MonitoringTotals(ctx context.Context, q MonitoringQuery) ([]MonitoringTotal, error) {
	where, args := q.where()
	var out []MonitoringTotal
	err := t.each(ctx, "monitoring totals", func(rows *sql.Rows) error {
		var m MonitoringTotal
		var requests, errs int64
		if err := rows.Scan(&m.ServiceID, &m.RouteID, &requests, &errs); err != nil {
			return err
		}
		m.Requests, m.Errors = uint64(requests), uint64(errs)
		out = append(out, m)
		return nil
	}, `SELECT service_id, route_id, CAST(SUM(requests) AS BIGINT), CAST(SUM(errors) AS BIGINT) FROM monitoring_points
		WHERE `+where+` GROUP BY service_id, route_id ORDER BY service_id, route_id`, args...)
	return out, err
}

// PruneMonitoringRows removes the rows of resolution whose span started
// before cutoff and answers how many.
func (t *txn) PruneMonitoringRows(ctx context.Context, resolution time.Duration, cutoff time.Time) (int, error) {
	res, err := t.exec(ctx, "DELETE FROM monitoring_points WHERE resolution = $1 AND start_at < $2",
		int64(resolution/time.Second), toNanos(cutoff))
	if err != nil {
		return 0, fmt.Errorf("prune monitoring rows of %v: %w", resolution, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune monitoring rows of %v: rows affected: %w", resolution, err)
	}
	return int(n), nil
}

// readHistograms decodes a row's latency and upstream columns.
func readHistograms(lat, up string) ([2][][2]uint64, error) {
	var h [2][][2]uint64
	if err := json.Unmarshal([]byte(lat), &h[0]); err != nil {
		return h, fmt.Errorf("latency histogram: %w", err)
	}
	if err := json.Unmarshal([]byte(up), &h[1]); err != nil {
		return h, fmt.Errorf("upstream histogram: %w", err)
	}
	return h, nil
}

// addHistograms adds two histograms of (slot, count) pairs in slot
// order, slot by slot.
func addHistograms(a, b [][2]uint64) [][2]uint64 {
	out := make([][2]uint64, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i][0] < b[j][0]:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j][0] < a[i][0]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, [2]uint64{a[i][0], a[i][1] + b[j][1]})
			i++
			j++
		}
	}
	return out
}

func orNone(h [][2]uint64) [][2]uint64 {
	if h == nil {
		return [][2]uint64{}
	}
	return h
}

func clampInt64(n uint64) int64 { return int64(min(n, math.MaxInt64)) }
