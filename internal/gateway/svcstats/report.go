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

// Report is what one service of a gateway's group gained since the
// gateway's last report arrived: a stand-alone gateway sends these with
// its heartbeats, and its control plane adds them up with every other
// instance's for the console's charts.
type Report struct {
	Service string         `json:"service"` // the service's id
	Buckets []window.Delta `json:"buckets"`
}

// Reporter reports what the series of one group gained since the last
// report that arrived (window.Reporter). One goroutine uses it.
type Reporter struct {
	reg   *Registry
	group string
	seen  map[string]*window.Reporter // by service id
}

// NewReporter follows the series of group in reg.
func NewReporter(reg *Registry, group string) *Reporter {
	return &Reporter{reg: reg, group: group, seen: map[string]*window.Reporter{}}
}

// Report is what the series of the group gained since the last committed
// report, for at most max services (the others come in a later report).
func (r *Reporter) Report(now time.Time, max int) []Report {
	series := r.reg.ofGroup(r.group)
	for service, rp := range r.seen {
		rp.Cancel()
		if _, ok := series[service]; !ok {
			delete(r.seen, service)
		}
	}
	var out []Report
	for service, s := range series {
		if len(out) == max {
			break
		}
		rp := r.seen[service]
		if rp == nil {
			rp = &window.Reporter{}
			r.seen[service] = rp
		}
		if b := rp.Report(s.ring, now); len(b) > 0 {
			out = append(out, Report{Service: service, Buckets: b})
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

// ofGroup copies the series of one group, by service id.
func (r *Registry) ofGroup(group string) map[string]*Series {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]*Series{}
	for k, s := range r.series {
		if k.group == group {
			out[k.service] = s
		}
	}
	return out
}

// Check refuses a report a series could not hold (window.Check).
func Check(rep Report) error {
	if rep.Service == "" || len(rep.Service) > 64 {
		return fmt.Errorf("service id %q: want 1 to 64 characters", rep.Service)
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

// Add counts a gateway's report into the series of its service in group.
func (r *Registry) Add(group string, rep Report, now time.Time) error {
	s := r.Get(group, rep.Service)
	for _, d := range rep.Buckets {
		if err := s.ring.Add(d, now); err != nil {
			return fmt.Errorf("service %s: %w", rep.Service, err)
		}
	}
	return nil
}
