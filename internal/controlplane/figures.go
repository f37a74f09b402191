package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/gateway/splitstats"
	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/gateway/window"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// gatewayFigures are the canary and per-service figures of every gateway
// of the group, added up — so a canary's figures and its guard see the
// whole group's traffic, and the console charts it — whichever control
// plane of the store a gateway reports to. What this process's embedded
// gateway counts is read live; everything else comes through the store's
// figures log: each control plane appends what it receives (a
// stand-alone gateway's heartbeat, its embedded gateway's count every
// embeddedInterval), counts its own rows in at once, and follows the log
// for the others' rows (follow). A control plane that starts reads the
// last 15 minutes of the log, so the figures outlive a restart. Service
// figures come per service and per route (svcstats); the housekeeping job
// folds the log into the store's monitoring rollups, which chart further
// back than the rings (monitoring.go).
type gatewayFigures struct {
	replica                    string // this process in the figures log
	splits, reportedSplits     *splitstats.Registry
	services, reportedServices *svcstats.Registry

	// followed is the last log row counted in; only follow uses it.
	followed int64
}

// figureReport is a row's body in the figures log.
type figureReport struct {
	Canaries []splitstats.Report `json:"canaries,omitempty"`
	Services []svcstats.Report   `json:"services,omitempty"`
}

func (r *figureReport) empty() bool { return len(r.Canaries)+len(r.Services) == 0 }

// Bounds of following the figures log: how often a control plane looks
// for other control planes' rows, and how many it reads at once.
const (
	followEvery = time.Second
	followBatch = 200
)

func newGatewayFigures() *gatewayFigures {
	return &gatewayFigures{replica: feed.NewInstanceID(), splits: splitstats.NewRegistry(), reportedSplits: splitstats.NewRegistry(),
		services: svcstats.NewRegistry(), reportedServices: svcstats.NewRegistry()}
}

// split gathers a canary's figures from both registries.
func (f *gatewayFigures) split(id string) (splitstats.Splits, bool) {
	var ss splitstats.Splits
	for _, reg := range []*splitstats.Registry{f.splits, f.reportedSplits} {
		if s, ok := reg.Lookup(id); ok {
			ss = append(ss, s)
		}
	}
	return ss, len(ss) > 0
}

// CanaryFigures are both sides over 1, 5 and 15 minutes, for the admin
// API and the guard.
func (f *gatewayFigures) CanaryFigures(id string) ([]spec.CanaryWindow, bool) {
	ss, ok := f.split(id)
	if !ok {
		return nil, false
	}
	return ss.Figures(time.Now()), true
}

// TargetFigures sums the target side over the last window, for the guard.
func (f *gatewayFigures) TargetFigures(id string, window time.Duration) (spec.SideFigures, bool) {
	ss, ok := f.split(id)
	if !ok {
		return spec.SideFigures{}, false
	}
	return ss.Side(true, window, time.Now()), true
}

// ServicePoints is a service's series in a group over the last 15
// minutes at most, from the rings (ServiceMetrics reaches further).
func (f *gatewayFigures) ServicePoints(group, serviceID string, window, step time.Duration) ([]svcstats.Point, bool) {
	var series []*svcstats.Series
	for _, reg := range []*svcstats.Registry{f.services, f.reportedServices} {
		if s, ok := reg.Lookup(group, serviceID); ok {
			series = append(series, s)
		}
	}
	if len(series) == 0 {
		return nil, false
	}
	return svcstats.Points(series, window, step, time.Now()), true
}

// checkFigures refuses (into fe) a heartbeat's figures no ring could hold.
func checkFigures(hb *feed.Heartbeat, fe *spec.FieldErrors) {
	if len(hb.Canaries) > feed.MaxCanaryReports {
		fe.Add("canaries", "must hold at most %d reports", feed.MaxCanaryReports)
		return
	}
	if len(hb.Services) > feed.MaxServiceReports {
		fe.Add("services", "must hold at most %d reports", feed.MaxServiceReports)
		return
	}
	for i, r := range hb.Canaries {
		if err := splitstats.Check(r); err != nil {
			fe.Add(fmt.Sprintf("canaries[%d]", i), "%s", err)
		}
	}
	for i, r := range hb.Services {
		if err := svcstats.Check(r); err != nil {
			fe.Add(fmt.Sprintf("services[%d]", i), "%s", err)
		}
	}
}

// received filters a heartbeat's figures of group: those of a canary
// that no longer runs in the group, or of a service not deployed there,
// are dropped — the gateway may not have heard yet, and nothing else may
// make a control plane keep series. running is the canaries running
// anywhere when the heartbeat carried canaries (nil otherwise), for
// count.
func (f *gatewayFigures) received(ctx context.Context, st store.Store, group string, hb *feed.Heartbeat) (rep figureReport, running map[string]bool, err error) {
	if f == nil || len(hb.Canaries)+len(hb.Services) == 0 {
		return rep, nil, nil
	}
	inGroup := map[string]bool{}
	var deployed map[string]bool
	err = st.View(ctx, func(tx store.Tx) error {
		if len(hb.Canaries) > 0 {
			cs, err := tx.ListRunningCanaries(ctx)
			if err != nil {
				return err
			}
			running = make(map[string]bool, len(cs))
			for _, c := range cs {
				running[c.ID] = true
				inGroup[c.ID] = c.Group == group
			}
		}
		if len(hb.Services) > 0 {
			ids := make([]string, len(hb.Services))
			for i, r := range hb.Services {
				ids[i] = r.Service
			}
			var err error
			deployed, err = tx.DeployedAmong(ctx, group, ids)
			return err
		}
		return nil
	})
	if err != nil {
		return rep, nil, fmt.Errorf("figures of group %s: %w", group, err)
	}
	for _, r := range hb.Canaries {
		if inGroup[r.ID] {
			rep.Canaries = append(rep.Canaries, r)
		}
	}
	for _, r := range hb.Services {
		if deployed[r.Service] {
			rep.Services = append(rep.Services, r)
		}
	}
	return rep, running, nil
}

// logRow is rep as a row of the figures log, received at `at`; nil when
// there is nothing to log.
func (f *gatewayFigures) logRow(group string, rep figureReport, at time.Time) (*store.FigureReport, error) {
	if f == nil || rep.empty() {
		return nil, nil
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("figures of group %s: %w", group, err)
	}
	return &store.FigureReport{Group: group, Replica: f.replica, ReportedAt: at, Body: string(b)}, nil
}

// count adds a report of group, received at `at`, to the reported
// figures; running, when not nil, are the canaries still running, and
// the figures of the others go.
func (f *gatewayFigures) count(group string, rep figureReport, running map[string]bool, at time.Time) error {
	if f == nil {
		return nil
	}
	if running != nil {
		f.reportedSplits.Retain(running)
	}
	for _, r := range rep.Canaries {
		if running != nil && !running[r.ID] {
			continue // ended since: its figures must not come back
		}
		if err := f.reportedSplits.Add(r, at); err != nil {
			return err
		}
	}
	for _, r := range rep.Services {
		if err := f.reportedServices.Add(group, r, at); err != nil {
			return err
		}
	}
	return nil
}

// follow counts in the figures log's rows written by other control
// planes of the store, every followEvery until ctx ends; at start, those
// of the last 15 minutes from every control plane (a former run of this
// one included).
func (f *gatewayFigures) follow(ctx context.Context, st store.Store, log *slog.Logger) {
	tick := time.NewTicker(followEvery)
	defer tick.Stop()
	failing := false
	for {
		err := f.catchUp(ctx, st)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			log.Warn("could not read the figures log; other control planes' figures are missing meanwhile", "err", err)
		case err == nil && failing:
			log.Info("the figures log is read again")
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// catchUp counts in the log's rows after the last one counted.
func (f *gatewayFigures) catchUp(ctx context.Context, st store.Store) error {
	for {
		var rows []store.FigureReport
		var running map[string]bool
		err := st.View(ctx, func(tx store.Tx) error {
			var err error
			rows, err = tx.FigureReportsAfter(ctx, f.followed, time.Now().Add(-window.MaxWindow), followBatch)
			if err != nil || !slices.ContainsFunc(rows, func(r store.FigureReport) bool {
				return r.Replica != f.replica && strings.Contains(r.Body, `"canaries"`)
			}) {
				return err
			}
			cs, err := tx.ListRunningCanaries(ctx)
			running = make(map[string]bool, len(cs))
			for _, c := range cs {
				running[c.ID] = true
			}
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range rows {
			f.followed = r.ID
			if r.Replica == f.replica {
				continue // counted when it was written
			}
			var rep figureReport
			if err := json.Unmarshal([]byte(r.Body), &rep); err != nil {
				return fmt.Errorf("figures log row %d: %w", r.ID, err)
			}
			if err := f.count(r.Group, rep, running, r.ReportedAt); err != nil {
				return fmt.Errorf("figures log row %d: %w", r.ID, err)
			}
		}
		if len(rows) < followBatch {
			return nil
		}
	}
}

// retain folds the log's new rows into the monitoring rollups, then
// removes the log's rows older than any window reads and the rollups past
// their retention, every minute until ctx ends (one control plane of a
// shared store does it: store.Lead). The fold goes first so that no row
// is pruned before it is folded (monitoring.go).
func (f *gatewayFigures) retain(ctx context.Context, st store.Store, log *slog.Logger) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		if err := foldMonitoring(ctx, st); err != nil && ctx.Err() == nil {
			log.Warn("could not fold the figures log into the monitoring rollups", "err", err)
		}
		if err := pruneFigures(ctx, st, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("could not remove old rows of the figures log", "err", err)
		}
		if err := pruneMonitoring(ctx, st, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("could not remove old monitoring rollups", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// pruneFigures removes the figures log's rows that no window of now
// reads.
func pruneFigures(ctx context.Context, st store.Store, now time.Time) error {
	return st.Tx(ctx, func(tx store.Tx) error {
		_, err := tx.PruneFigureReports(ctx, now.Add(-window.MaxWindow-window.BucketSpan))
		return err
	})
}

// embeddedReporters say what the embedded gateway counted since its last
// row in the figures log: its canaries once, its services per group.
type embeddedReporters struct {
	splits   *splitstats.Reporter
	services map[string]*svcstats.Reporter
}

func (f *gatewayFigures) embeddedReporters(groups []string) *embeddedReporters {
	r := &embeddedReporters{splits: splitstats.NewReporter(f.splits), services: map[string]*svcstats.Reporter{}}
	for _, g := range groups {
		r.services[g] = svcstats.NewReporter(f.services, g)
	}
	return r
}

// rows are the embedded gateway's rows for the figures log as of now,
// one per group that counted anything (canaries go with the first).
func (r *embeddedReporters) rows(f *gatewayFigures, groups []string, now time.Time) ([]*store.FigureReport, error) {
	var out []*store.FigureReport
	for i, g := range groups {
		var rep figureReport
		if i == 0 {
			rep.Canaries = r.splits.Report(now)
		}
		rep.Services = r.services[g].Report(now, feed.MaxServiceReports)
		row, err := f.logRow(g, rep, now)
		if err != nil {
			return nil, err
		}
		if row != nil {
			out = append(out, row)
		}
	}
	return out, nil
}

// commit marks the last rows as written.
func (r *embeddedReporters) commit() {
	r.splits.Commit()
	for _, s := range r.services {
		s.Commit()
	}
}
