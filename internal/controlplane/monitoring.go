package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/gateway/window"
	"github.com/portico-gw/portico/internal/store"
)

// Monitoring over an hour, a day and 30 days.
//
// The rings (gatewayFigures) hold the last 15 minutes at 10 seconds;
// older figures come from the store's rollups (monitoring_points): spans
// of 10 s kept an hour, of 1 minute kept a day and of 1 hour kept 30
// days, per group, service and route (route "" is the whole service),
// each with mergeable histograms so a percentile over a day is read off
// the day's histogram. Memory stays at the rings' (svcstats' doc
// comment); disk at most 360 + 1440 + 720 rows per series, each a few
// hundred bytes (up to about 1 MB per series over 30 days).
//
// The rollups are folded from the figures log, not from the rings: the
// log holds what every gateway of every control plane reported, in id
// order (ids are taken in commit order), and each of its deltas is exact
// (a gateway reports a figure once). The housekeeping job (one control
// plane of the store at a time, store.Lead) reads the rows past the last
// one it folded, every minute, and adds each delta to its 10-s, minute
// and hour rows in one transaction with the new cursor (store setting
// monitoringCursor): every report is counted once in every resolution,
// late ones included, and no span is ever recomputed. Because the job
// runs before the log's retention (15 minutes), a fold interrupted for
// longer than that loses what was pruned meanwhile.

// monitoringCursor names the store setting holding the id of the last
// figures log row folded into the rollups.
const monitoringCursor = "monitoring_folded_through"

// foldBatch bounds the log rows one fold transaction reads.
const foldBatch = 500

// rollupSpans are the resolutions the rollups keep.
var rollupSpans = []time.Duration{svcstats.BucketSpan, svcstats.MinuteSpan, svcstats.HourSpan}

// rollupKey names one rollup row.
type rollupKey struct {
	span                  time.Duration
	group, service, route string
	start                 int64 // Unix nanoseconds
}

// rollup is one row being added up.
type rollup struct {
	requests, errors  uint64
	latency, upstream []uint64
}

// foldMonitoring adds the figures log's rows past the cursor to the
// rollups, foldBatch rows per transaction, until none are left.
func foldMonitoring(ctx context.Context, st store.Store) error {
	for {
		var n int
		err := st.Tx(ctx, func(tx store.Tx) error {
			var err error
			n, err = foldOnce(ctx, tx)
			return err
		})
		if err != nil {
			return fmt.Errorf("fold the figures log into the monitoring rollups: %w", err)
		}
		if n < foldBatch {
			return nil
		}
	}
}

// foldOnce folds up to foldBatch rows and moves the cursor past them; it
// answers how many it read.
func foldOnce(ctx context.Context, tx store.Tx) (int, error) {
	var through int64
	switch v, err := tx.GetSetting(ctx, monitoringCursor); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return 0, err
	default:
		if through, err = strconv.ParseInt(v, 10, 64); err != nil {
			return 0, fmt.Errorf("setting %s %q: %w", monitoringCursor, v, err)
		}
	}
	rows, err := tx.FigureReportsAfter(ctx, through, time.Time{}, foldBatch)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	sums := map[rollupKey]*rollup{}
	for _, r := range rows {
		var rep figureReport
		if err := json.Unmarshal([]byte(r.Body), &rep); err != nil {
			return 0, fmt.Errorf("figures log row %d: %w", r.ID, err)
		}
		reported := window.Epoch(r.ReportedAt)
		for _, s := range rep.Services {
			for _, d := range s.Buckets {
				at := time.Unix(0, (reported-d.Age)*int64(window.BucketSpan))
				for _, span := range rollupSpans {
					k := rollupKey{span, r.Group, s.Service, s.Route, at.Truncate(span).UnixNano()}
					sum := sums[k]
					if sum == nil {
						n := window.Slots(svcstats.HistogramShift)
						sum = &rollup{latency: make([]uint64, n), upstream: make([]uint64, n)}
						sums[k] = sum
					}
					sum.add(d)
				}
			}
		}
	}
	out := make([]store.MonitoringRow, 0, len(sums))
	for k, s := range sums {
		out = append(out, store.MonitoringRow{Resolution: k.span, Group: k.group, ServiceID: k.service, RouteID: k.route,
			Start: time.Unix(0, k.start), Requests: s.requests, Errors: s.errors, Latency: pairsOf(s.latency), Upstream: pairsOf(s.upstream)})
	}
	if err := tx.AddMonitoringRows(ctx, out); err != nil {
		return 0, err
	}
	return len(rows), tx.PutSetting(ctx, monitoringCursor, strconv.FormatInt(rows[len(rows)-1].ID, 10))
}

// add counts a delta in; slots past the histogram (not from a checked
// report) are left out.
func (s *rollup) add(d window.Delta) {
	s.requests += d.Requests
	s.errors += d.Errors
	for _, p := range d.Latency {
		if p[0] < uint64(len(s.latency)) {
			s.latency[p[0]] += p[1]
		}
	}
	for _, p := range d.Upstream {
		if p[0] < uint64(len(s.upstream)) {
			s.upstream[p[0]] += p[1]
		}
	}
}

func pairsOf(h []uint64) [][2]uint64 {
	var out [][2]uint64
	for i, n := range h {
		if n > 0 {
			out = append(out, [2]uint64{uint64(i), n})
		}
	}
	return out
}

// pruneMonitoring removes the rollups past their resolution's retention.
func pruneMonitoring(ctx context.Context, st store.Store, now time.Time) error {
	return st.Tx(ctx, func(tx store.Tx) error {
		for _, span := range rollupSpans {
			if _, err := tx.PruneMonitoringRows(ctx, span, now.Add(-svcstats.Retention(span)-span)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ServiceMetrics is the figures of a service (routeID "") or one of its
// routes in group over the window ending at now, in points of the
// window's resolution (svcstats.Resolution), oldest first, the span
// being filled last, and the whole window as one point (percentiles of
// the merged histograms). A span the rings still hold whole (the last 15
// minutes) is read from them, live; an older one from the rollups read
// in tx. The admin API's GET …/services/{s}/metrics.
func (f *gatewayFigures) ServiceMetrics(ctx context.Context, tx store.Tx, group, serviceID, routeID string, win time.Duration, now time.Time) ([]svcstats.Point, svcstats.Point, error) {
	span, err := svcstats.Resolution(win)
	if err != nil {
		return nil, svcstats.Point{}, err
	}
	end := now.Truncate(span).Add(span)
	n := int((win + span - 1) / span)
	start := end.Add(-time.Duration(n) * span)
	rows, err := tx.MonitoringRows(ctx, store.MonitoringQuery{Resolution: span, Group: group, ServiceID: serviceID,
		RouteID: routeID, Routes: routeID != "", From: start, To: end})
	if err != nil {
		return nil, svcstats.Point{}, fmt.Errorf("metrics of service %s in group %s: %w", serviceID, group, err)
	}
	stored := make(map[int64]store.MonitoringRow, len(rows))
	for _, r := range rows {
		stored[r.Start.UnixNano()] = r
	}
	var series []*svcstats.Series
	for _, reg := range []*svcstats.Registry{f.services, f.reportedServices} {
		if s, ok := reg.LookupRoute(group, serviceID, routeID); ok {
			series = append(series, s)
		}
	}
	out := make([]svcstats.Point, n)
	var total window.Sum
	for i := range out {
		at := start.Add(time.Duration(i) * span)
		sum, ok := svcstats.Span(series, at, at.Add(span), now)
		if !ok {
			r := stored[at.UnixNano()]
			sum = window.SumOfCounts(svcstats.HistogramShift, r.Requests, r.Errors, r.Latency, r.Upstream)
		}
		out[i] = svcstats.PointOf(at, sum)
		total.Add(sum)
	}
	return out, svcstats.PointOf(start, total), nil
}

// ServiceRoutes lists the routes of a service in group that have
// figures since `since`, from the rollups (read in tx) and the rings.
func (f *gatewayFigures) ServiceRoutes(ctx context.Context, tx store.Tx, group, serviceID string, since time.Time) ([]string, error) {
	span, err := svcstats.Resolution(time.Since(since))
	if err != nil {
		span = svcstats.HourSpan
	}
	totals, err := tx.MonitoringTotals(ctx, store.MonitoringQuery{Resolution: span, Group: group, ServiceID: serviceID, Routes: true,
		From: since.Truncate(span), To: time.Now().Add(span)})
	if err != nil {
		return nil, fmt.Errorf("routes with figures of service %s in group %s: %w", serviceID, group, err)
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range totals {
		if !seen[t.RouteID] {
			seen[t.RouteID] = true
			out = append(out, t.RouteID)
		}
	}
	for _, reg := range []*svcstats.Registry{f.services, f.reportedServices} {
		for _, r := range reg.Routes(group, serviceID) {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// The admin API reads service metrics through Config.Stats.
var _ adminapi.MonitoringSource = (*gatewayFigures)(nil)
