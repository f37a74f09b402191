package quota

import (
	"context"
	"strconv"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// PeriodUsage is a subscription's calls in the current period of one kind.
type PeriodUsage struct {
	Period string `json:"period"`
	// Limit is the plan's quota for the period; 0: none, the calls are
	// only counted (the day and the month always are).
	Limit int64 `json:"limit"`
	// Used are the calls admitted in the period; it may pass Limit by the
	// calls gateways admitted on their own counts while Redis was down.
	Used int64 `json:"used"`
	// Remaining is Limit - Used, at least 0; 0 without a quota.
	Remaining int64     `json:"remaining"`
	ResetsAt  time.Time `json:"resets_at"`
	// Local says Used is this gateway's count alone: it has no Redis, or
	// Redis did not answer.
	Local bool `json:"local,omitempty"`
}

// Usage is the usage of a subscription of group in the current periods
// of its quotas and in the current day and month (loc is the group's time
// zone), shortest period first. With Redis it is every gateway's count
// (plus what this one has not added yet); without, or when Redis fails,
// this gateway's.
func (r *Registry) Usage(ctx context.Context, group, subscription string, quotas []spec.Quota, loc *time.Location) []PeriodUsage {
	if loc == nil {
		loc = time.UTC
	}
	now := r.now()
	var limits [nPeriods]int64
	counted := [nPeriods]bool{pDay: true, pMonth: true}
	for _, q := range quotas {
		if i := periodOf(q.Period); i >= 0 && q.Count > 0 {
			counted[i] = true
			if limits[i] == 0 || q.Count < limits[i] {
				limits[i] = q.Count
			}
		}
	}
	c := r.lookup(group, subscription)
	var out []PeriodUsage
	var starts []int64
	for p := range counted {
		if !counted[p] {
			continue
		}
		start, end := bounds(p, now, loc)
		u := PeriodUsage{Period: spec.QuotaPeriods[p], Limit: limits[p], ResetsAt: time.Unix(end, 0).In(loc), Local: true}
		if c != nil {
			u.Used = c.at(p, start)
		}
		out = append(out, u)
		starts = append(starts, start)
	}
	if rem := r.remote(now); rem != nil {
		base := rem.Prefix() + "quota:" + group + ":" + subscription + ":"
		keys := make([]string, len(out))
		for i, u := range out {
			keys[i] = base + u.Period + ":" + strconv.FormatInt(starts[i], 10)
		}
		got, err := rem.Counts(ctx, keys)
		if err == nil && len(got) == len(keys) {
			for i := range out {
				out[i].Used += got[i]
				out[i].Local = false
			}
		} else if err != nil && ctx.Err() == nil {
			r.failed(now, err)
		}
	}
	for i := range out {
		if out[i].Limit > 0 {
			out[i].Remaining = max(out[i].Limit-out[i].Used, 0)
		}
	}
	return out
}
