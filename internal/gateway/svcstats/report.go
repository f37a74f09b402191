package svcstats

import (
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/gateway/window"
)

// HistogramShift is the layout of a series' latency histogram
// (window.NewRing): percentiles within 25 %, what reports are checked
// against.
const HistogramShift = 1

// Report is what one service, or one route of a service, of a gateway's
// group gained since the gateway's last report arrived: a stand-alone
// gateway sends these with its heartbeats, and its control plane adds
// them up with every other instance's for the console's charts and the
// monitoring rollups. A service's report and its routes' are separate
// reports (the service's already holds what its routes counted); a
// gateway from before routes were counted sends no route: its reports
// are the services'.
type Report struct {
	Service string         `json:"service"`         // the service's id
	Route   string         `json:"route,omitempty"` // the route's id; "": the whole service
	Buckets []window.Delta `json:"buckets"`
}

// Reporter reports what the series of one group gained since the last
// report that arrived (window.Reporter). One goroutine uses it.
type Reporter struct {
	reg   *Registry
	group string
	seen  map[seriesID]*window.Reporter
}

// seriesID names a series within a group.
type seriesID struct{ service, route string }

// NewReporter follows the series of group in reg.
func NewReporter(reg *Registry, group string) *Reporter {
	return &Reporter{reg: reg, group: group, seen: map[seriesID]*window.Reporter{}}
}

// Report is what the series of the group gained since the last committed
// report, for at most max series (the others come in a later report).
func (r *Reporter) Report(now time.Time, max int) []Report {
	series := r.reg.ofGroup(r.group)
	for id, rp := range r.seen {
		rp.Cancel()
		if _, ok := series[id]; !ok {
			delete(r.seen, id)
		}
	}
	var out []Report
	for id, s := range series {
		if len(out) == max {
			break
		}
		rp := r.seen[id]
		if rp == nil {
			rp = &window.Reporter{}
			r.seen[id] = rp
		}
		if b := rp.Report(s.ring, now); len(b) > 0 {
			out = append(out, Report{Service: id.service, Route: id.route, Buckets: b})
		}
	}
	return out
}

// Commit marks the last Report as delivered.
func (r *Reporter) Commit() {
	for _, rp := range r.seen {
		rp.Commit()
	}
}

// ofGroup copies the series of one group.
func (r *Registry) ofGroup(group string) map[seriesID]*Series {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[seriesID]*Series{}
	for k, s := range r.series {
		if k.group == group {
			out[seriesID{k.service, k.route}] = s
		}
	}
	return out
}

// Check refuses a report a series could not hold (window.Check).
func Check(rep Report) error {
	if rep.Service == "" || len(rep.Service) > 64 {
		return fmt.Errorf("service id %q: want 1 to 64 characters", rep.Service)
	}
	if len(rep.Route) > 64 {
		return fmt.Errorf("service %s: route id %q: want at most 64 characters", rep.Service, rep.Route)
	}
	if len(rep.Buckets) > window.MaxDeltas {
		return fmt.Errorf("service %s: %d buckets, at most %d", rep.Service, len(rep.Buckets), window.MaxDeltas)
	}
	for _, d := range rep.Buckets {
		if err := window.Check(d, HistogramShift); err != nil {
			return fmt.Errorf("service %s: %w", rep.Service, err)
		}
	}
	return nil
}

// Add counts a gateway's report into the series of its service, or
// route, in group. A route's report past MaxRouteSeries is left out (its
// service's report counts it).
func (r *Registry) Add(group string, rep Report, now time.Time) error {
	s := r.GetRoute(group, rep.Service, rep.Route)
	if rep.Route != "" && s.parent == nil {
		return nil
	}
	for _, d := range rep.Buckets {
		if err := s.ring.Add(d, now); err != nil {
			return fmt.Errorf("service %s: %w", rep.Service, err)
		}
	}
	return nil
}
