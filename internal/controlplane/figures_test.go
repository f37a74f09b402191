package controlplane

import (
	"context"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/gateway/window"
	"github.com/portico-gw/portico/internal/store"
	"github.com/portico-gw/portico/internal/store/storetest"
)

// TestFiguresSharedThroughTheLog: two control planes of one store (and a
// third started later) see the same figures: each counts its own rows at
// once and the others' by following the log, never one twice; rows older
// than the windows are not counted and the retention removes them.
func TestFiguresSharedThroughTheLog(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, storetest.SQLiteDir(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, b := newGatewayFigures(), newGatewayFigures()
	now := time.Now()
	receive := func(f *gatewayFigures, service string, requests uint64, at time.Time) {
		t.Helper()
		rep := figureReport{Services: []svcstats.Report{{Service: service, Buckets: []window.Delta{{Requests: requests}}}}}
		row, err := f.logRow("default", rep, at)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Tx(ctx, func(tx store.Tx) error { return tx.AddFigureReport(ctx, row) }); err != nil {
			t.Fatal(err)
		}
		if err := f.count("default", rep, nil, at); err != nil {
			t.Fatal(err)
		}
	}
	requests := func(f *gatewayFigures, service string) uint64 {
		t.Helper()
		pts, _ := f.ServicePoints("default", service, 5*time.Minute, 5*time.Minute)
		var n uint64
		for _, p := range pts {
			n += p.Requests
		}
		return n
	}
	receive(a, "s1", 3, now.Add(-20*time.Minute)) // older than any window
	receive(a, "s1", 5, now)
	receive(b, "s1", 7, now)
	receive(b, "s2", 11, now)
	for _, f := range []*gatewayFigures{a, b} {
		if err := f.catchUp(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	later := newGatewayFigures() // a control plane started now
	if err := later.catchUp(ctx, st); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*gatewayFigures{"a": a, "b": b, "later": later} {
		if got := requests(f, "s1"); got != 12 {
			t.Errorf("control plane %s counts %d requests of s1, want 12 (5 + 7)", name, got)
		}
		if got := requests(f, "s2"); got != 11 {
			t.Errorf("control plane %s counts %d requests of s2, want 11", name, got)
		}
		// Following again counts nothing twice.
		if err := f.catchUp(ctx, st); err != nil {
			t.Fatal(err)
		}
		if got := requests(f, "s1"); got != 12 {
			t.Errorf("control plane %s counts %d requests of s1 after a second catch-up, want 12", name, got)
		}
	}

	if err := pruneFigures(ctx, st, now); err != nil {
		t.Fatal(err)
	}
	var left []store.FigureReport
	err = st.View(ctx, func(tx store.Tx) error {
		left, err = tx.FigureReportsAfter(ctx, 0, time.Time{}, 100)
		return err
	})
	if err != nil || len(left) != 3 {
		t.Errorf("after retention the log holds %d rows (%v), want the 3 recent ones", len(left), err)
	}
}
