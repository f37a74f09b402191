package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/feed"
	"github.com/portico-gw/portico/internal/gateway/splitstats"
	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// gatewayFigures are the canary and per-service figures of every gateway
// of this control plane: what the embedded gateway counts, and what
// stand-alone gateways report with their heartbeats, read added up — so
// a canary's figures and its guard see the whole group's traffic, and the
// console charts it. They live in this process: a control plane that
// restarts starts them again from what is reported next.
type gatewayFigures struct {
	splits, reportedSplits     *splitstats.Registry
	services, reportedServices *svcstats.Registry
}

func newGatewayFigures() *gatewayFigures {
	return &gatewayFigures{splits: splitstats.NewRegistry(), reportedSplits: splitstats.NewRegistry(),
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

// ServicePoints is a service's series in a group, for GET
// …/services/{s}/stats and the console's charts.
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

// addReported counts a heartbeat's figures of group in. Figures of a
// canary that no longer runs in the group, or of a service not deployed
// there, are dropped: the gateway may not have heard yet, and nothing
// else may make this process keep series.
func (f *gatewayFigures) addReported(ctx context.Context, st store.Store, group string, hb *feed.Heartbeat, now time.Time) error {
	if f == nil || len(hb.Canaries)+len(hb.Services) == 0 {
		return nil
	}
	running, deployed := map[string]bool{}, map[string]bool{}
	inGroup := map[string]bool{}
	err := st.View(ctx, func(tx store.Tx) error {
		if len(hb.Canaries) > 0 {
			cs, err := tx.ListRunningCanaries(ctx)
			if err != nil {
				return err
			}
			for _, c := range cs {
				running[c.ID] = true
				inGroup[c.ID] = c.Group == group
			}
		}
		if len(hb.Services) > 0 {
			ds, err := tx.ListDeploymentsByGroup(ctx, group)
			if err != nil {
				return err
			}
			for _, d := range ds {
				deployed[d.ServiceID] = true
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("figures of group %s: %w", group, err)
	}
	if len(hb.Canaries) > 0 {
		f.reportedSplits.Retain(running)
	}
	for _, r := range hb.Canaries {
		if inGroup[r.ID] {
			if err := f.reportedSplits.Add(r, now); err != nil {
				return err
			}
		}
	}
	for _, r := range hb.Services {
		if deployed[r.Service] {
			if err := f.reportedServices.Add(group, r, now); err != nil {
				return err
			}
		}
	}
	return nil
}
