package controlplane

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/gateway/window"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// TestMonitoringRollups: what gateways report through the figures log is
// folded once into 10-s, minute and hour rollups per service and route;
// ServiceMetrics answers the last 15 minutes from the rings and older
// spans from the rollups at the window's resolution, with percentiles
// read off merged histograms; retention removes 10-s rows past an hour.
func TestMonitoringRollups(t *testing.T) {
	// Early in an hour the hour being filled is read from the rings;
	// later from the rollups: the answers are the same.
	for _, now := range []time.Time{time.Date(2026, 12, 4, 10, 5, 0, 0, time.UTC), time.Date(2026, 12, 4, 10, 35, 0, 0, time.UTC)} {
		t.Run(now.Format("15:04"), func(t *testing.T) { testMonitoringRollups(t, now) })
	}
}

func testMonitoringRollups(t *testing.T, now time.Time) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, storetest.SQLiteDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := newGatewayFigures()
	slot := func(d time.Duration) uint64 { return uint64(window.Slot(svcstats.HistogramShift, d)) }
	// receive logs and counts a report of n requests of service s1 (route
	// r1 as well when route), the errors errs, all of latency lat.
	receive := func(at time.Time, n, errs uint64, lat time.Duration, route bool) {
		t.Helper()
		d := window.Delta{Requests: n, Errors: errs, Latency: [][2]uint64{{slot(lat), n}}, Upstream: [][2]uint64{{slot(lat / 2), n}}}
		rep := figureReport{Services: []svcstats.Report{{Service: "s1", Buckets: []window.Delta{d}}}}
		if route {
			rep.Services = append(rep.Services, svcstats.Report{Service: "s1", Route: "r1", Buckets: []window.Delta{d}})
		}
		row, err := f.logRow("prod", rep, at)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Tx(ctx, func(tx store.Tx) error { return tx.AddFigureReport(ctx, row) }); err != nil {
			t.Fatal(err)
		}
		if err := f.count("prod", rep, nil, at); err != nil {
			t.Fatal(err)
		}
	}
	receive(now.Add(-3*time.Hour), 100, 0, 10*time.Millisecond, false)
	receive(now.Add(-40*time.Minute), 10, 10, time.Second, true)
	receive(now, 7, 1, 20*time.Millisecond, true) // in the rings
	for range 2 {                                 // a second fold finds nothing new
		if err := foldMonitoring(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	sum := func(pts []svcstats.Point) (requests, errs uint64) {
		for _, p := range pts {
			requests += p.Requests
			errs += p.Errors
		}
		return
	}
	metrics := func(route string, win time.Duration) []svcstats.Point {
		t.Helper()
		var pts []svcstats.Point
		err := st.View(ctx, func(tx store.Tx) error {
			var err error
			var total svcstats.Point
			pts, total, err = f.ServiceMetrics(ctx, tx, "prod", "s1", route, win, now)
			if r, _ := sum(pts); total.Requests != r {
				t.Errorf("the total holds %d requests, the points %d", total.Requests, r)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return pts
	}
	for _, tt := range []struct {
		name             string
		route            string
		win, step        time.Duration
		requests, errors uint64
	}{
		{"service, an hour", "", time.Hour, 10 * time.Second, 17, 11},
		{"service, a day", "", 24 * time.Hour, time.Minute, 117, 11},
		{"service, 30 days", "", 30 * 24 * time.Hour, time.Hour, 117, 11}, // the current hour from the rollups: the newest report is folded
		{"route, an hour", "r1", time.Hour, 10 * time.Second, 17, 11},
		{"route, a day", "r1", 24 * time.Hour, time.Minute, 17, 11},
	} {
		pts := metrics(tt.route, tt.win)
		if want := int(tt.win / tt.step); len(pts) != want {
			t.Errorf("%s: %d points, want %d", tt.name, len(pts), want)
		}
		if len(pts) > 1 && pts[1].At.Sub(pts[0].At) != tt.step {
			t.Errorf("%s: points %v apart, want %v", tt.name, pts[1].At.Sub(pts[0].At), tt.step)
		}
		if r, e := sum(pts); r != tt.requests || e != tt.errors {
			t.Errorf("%s: %d requests, %d errors; want %d, %d", tt.name, r, e, tt.requests, tt.errors)
		}
	}
	// Over 30 days the 3-hours-old and the 40-minutes-old spans are in
	// different hours or the same; either way the merged histogram's p95
	// is the slow requests' (10 of 110 took a second).
	var merged store.MonitoringRow
	if err := st.View(ctx, func(tx store.Tx) error {
		totals, err := tx.MonitoringRows(ctx, store.MonitoringQuery{Resolution: time.Hour, Group: "prod", ServiceID: "s1",
			From: now.Add(-4 * time.Hour), To: now.Add(time.Hour)})
		for _, r := range totals {
			merged.Requests += r.Requests
			merged.Latency = append(merged.Latency, r.Latency...)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sorted := window.SumOfCounts(svcstats.HistogramShift, merged.Requests, 0, merged.Latency, nil)
	if p := sorted.PercentileMs(0.95); math.Abs(p-1000) > 250 {
		t.Errorf("p95 over the hours = %.1f ms, want about 1000", p)
	}
	day := metrics("", 24*time.Hour)
	for _, p := range day {
		if p.Requests == 10 && (p.UpstreamP50Ms < 375 || p.UpstreamP50Ms > 625) {
			t.Errorf("the 40-minutes-old minute's upstream p50 = %.1f ms, want about 500", p.UpstreamP50Ms)
		}
	}

	if err := pruneMonitoring(ctx, st, now); err != nil {
		t.Fatal(err)
	}
	var left []store.MonitoringRow
	_ = st.View(ctx, func(tx store.Tx) error {
		left, err = tx.MonitoringRows(ctx, store.MonitoringQuery{Resolution: window.BucketSpan, Group: "prod", ServiceID: "s1",
			From: now.Add(-4 * time.Hour), To: now.Add(time.Hour)})
		return err
	})
	if len(left) != 2 {
		t.Errorf("%d 10-s rows after the retention, want the 40-minutes-old one and the newest", len(left))
	}
	var routes []string
	_ = st.View(ctx, func(tx store.Tx) error {
		routes, err = f.ServiceRoutes(ctx, tx, "prod", "s1", now.Add(-24*time.Hour))
		return err
	})
	if len(routes) != 1 || routes[0] != "r1" {
		t.Errorf("routes with figures = %v, want [r1]", routes)
	}
}
