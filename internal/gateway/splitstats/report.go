package splitstats

import (
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/gateway/window"
)

// Report is what one side of a canary gained on a gateway since its last
// report arrived: a stand-alone gateway sends these with its heartbeats,
// and its control plane adds them up with every other instance's, so the
// canary's figures and its guard see the whole group's traffic.
type Report struct {
	ID      string         `json:"id"` // the canary's id
	Target  bool           `json:"target,omitempty"`
	Buckets []window.Delta `json:"buckets"`
}

// Reporter reports what a Registry's splits gained since the last report
// that arrived (window.Reporter). One goroutine uses it.
type Reporter struct {
	reg   *Registry
	sides map[string]*[2]window.Reporter
}

// NewReporter follows reg.
func NewReporter(reg *Registry) *Reporter {
	return &Reporter{reg: reg, sides: map[string]*[2]window.Reporter{}}
}

// Report is what every split gained since the last committed report.
func (r *Reporter) Report(now time.Time) []Report {
	splits := r.reg.all()
	for id := range r.sides {
		if _, ok := splits[id]; !ok {
			delete(r.sides, id) // a canary no longer run
		}
	}
	var out []Report
	for id, s := range splits {
		rp := r.sides[id]
		if rp == nil {
			rp = &[2]window.Reporter{}
			r.sides[id] = rp
		}
		for i, target := range []bool{false, true} {
			if b := rp[i].Report(s.sides[i], now); len(b) > 0 {
				out = append(out, Report{ID: id, Target: target, Buckets: b})
			}
		}
	}
	return out
}

// Commit marks the last Report as delivered.
func (r *Reporter) Commit() {
	for _, rp := range r.sides {
		rp[0].Commit()
		rp[1].Commit()
	}
}

// all copies the registry's map of splits.
func (r *Registry) all() map[string]*Split {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]*Split, len(r.splits))
	for id, s := range r.splits {
		out[id] = s
	}
	return out
}

// HistogramShift is the layout of a split's latency histograms
// (window.NewRing): what reports are checked against.
const HistogramShift = 2

// Check refuses a report a split could not hold (window.Check).
func Check(rep Report) error {
	if rep.ID == "" || len(rep.ID) > 64 {
		return fmt.Errorf("canary id %q: want 1 to 64 characters", rep.ID)
	}
	if len(rep.Buckets) > window.MaxDeltas {
		return fmt.Errorf("canary %s: %d buckets, at most %d", rep.ID, len(rep.Buckets), window.MaxDeltas)
	}
	for _, d := range rep.Buckets {
		if err := window.Check(d, HistogramShift); err != nil {
			return fmt.Errorf("canary %s: %w", rep.ID, err)
		}
	}
	return nil
}

// Add counts a gateway's report into the split of its canary.
func (r *Registry) Add(rep Report, now time.Time) error {
	s := r.Get(rep.ID)
	for _, d := range rep.Buckets {
		if err := s.sides[side(rep.Target)].Add(d, now); err != nil {
			return fmt.Errorf("canary %s: %w", rep.ID, err)
		}
	}
	return nil
}
