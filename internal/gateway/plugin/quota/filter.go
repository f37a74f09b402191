package quota

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// Filter enforces the plans of one service's subscribers in one group; the
// routing compiler puts it after the route's authentication.
type Filter struct {
	reg  *Registry
	zone *time.Location
	// plans by application id: who holds no plan for the service finds
	// nothing here and costs one map lookup.
	plans map[string]*compiledPlan
}

// compiledPlan is one subscription's plan, ready for requests.
type compiledPlan struct {
	group  string
	quotas []rule // by period, shortest first
	// counted are the periods counted: the quotas' and the day and month
	// (usage figures).
	counted [nPeriods]bool
	c       *counters
}

// rule is one quota with its texts made once.
type rule struct {
	p       int
	limit   int64
	text    string // limit formatted
	message string
}

// New compiles the plans of a service's subscribers in group (by
// application id) against reg's counters; nil when there are none. A quota
// of an unknown period or no count is left out (the control plane refuses
// them); of two quotas of one period the smaller counts.
func New(reg *Registry, group string, zone *time.Location, plans map[string]*spec.ConsumerPlan) *Filter {
	if len(plans) == 0 {
		return nil
	}
	if reg == nil {
		reg = NewRegistry()
	}
	if zone == nil {
		zone = time.UTC
	}
	f := &Filter{reg: reg, zone: zone, plans: make(map[string]*compiledPlan, len(plans))}
	for app, cp := range plans {
		f.plans[app] = compile(reg, group, cp)
	}
	return f
}

func compile(reg *Registry, group string, cp *spec.ConsumerPlan) *compiledPlan {
	p := &compiledPlan{group: group, c: reg.counters(group, cp.Subscription)}
	p.counted[pDay], p.counted[pMonth] = true, true
	var limits [nPeriods]int64
	for _, q := range cp.Quotas {
		i := periodOf(q.Period)
		if i < 0 || q.Count <= 0 {
			continue
		}
		if limits[i] == 0 || q.Count < limits[i] {
			limits[i] = q.Count
		}
	}
	for i, limit := range limits {
		if limit == 0 {
			continue
		}
		p.counted[i] = true
		p.quotas = append(p.quotas, rule{p: i, limit: limit, text: strconv.FormatInt(limit, 10),
			message: message(spec.QuotaPeriods[i], cp.Plan, limit)})
	}
	p.quotas = slices.Clip(p.quotas)
	return p
}

// message names the quota a refused call ran into.
func message(period, plan string, limit int64) string {
	calls := "calls"
	if limit == 1 {
		calls = "call"
	}
	of := "of this subscription's plan"
	if plan != "" {
		of = "of plan " + plan
	}
	return fmt.Sprintf("the %s quota %s (%d %s) is used up", period, of, limit, calls)
}

// OnRequest counts the call of an application holding a plan for the
// service; others pass untouched.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	c, ok := ex.Consumer()
	if !ok {
		return false
	}
	p := f.plans[c.ApplicationID]
	if p == nil {
		return false
	}
	return f.take(ex, p, ex.Arrived())
}

// periods are the bounds of the counted periods at one instant.
type periods struct{ start, end [nPeriods]int64 }

func (f *Filter) take(ex *plugin.Exchange, p *compiledPlan, now time.Time) bool {
	var at periods
	for i, counted := range p.counted {
		if counted {
			at.start[i], at.end[i] = bounds(i, now, f.zone)
		}
	}
	var counts [nPeriods]int64 // by quota, in p.quotas' order
	admitted, remote := false, false
	if len(p.quotas) > 0 && p.c.keyBase != "" { // keyBase: counters made after Use
		if rem := f.reg.remote(now); rem != nil {
			admitted, remote = f.takeRemote(rem, p, &at, now, &counts)
		}
	}
	if !remote {
		if len(p.quotas) > 0 {
			f.reg.fellBack()
		}
		admitted = p.takeLocal(&at, &counts, true)
	} else if admitted {
		p.takeLocal(&at, nil, false) // the usage-only periods
	}
	return f.answer(ex, p, &at, now, &counts, admitted)
}

// takeRemote decides in Redis; remote is false when Redis failed and the
// call must be decided here.
func (f *Filter) takeRemote(rem Remote, p *compiledPlan, at *periods, now time.Time, counts *[nPeriods]int64) (admitted, remote bool) {
	n := len(p.quotas)
	keys, limits, ttls := make([]string, n), make([]int64, n), make([]time.Duration, n)
	p.c.mu.Lock()
	for i, q := range p.quotas {
		keys[i] = p.c.current(q.p, at.start[q.p], at.end[q.p]).key
		limits[i], ttls[i] = q.limit, ttl(now, at.end[q.p], q.p)
	}
	p.c.mu.Unlock()
	// No per-request context: the Remote's own timeouts bound the call.
	got, admitted, err := rem.TakeAll(context.Background(), keys, limits, ttls)
	if err == nil && len(got) != n {
		err = fmt.Errorf("redis answered %d counts for %d quotas", len(got), n)
	}
	if err != nil {
		f.reg.failed(now, err)
		return false, false
	}
	copy(counts[:], got)
	return admitted, true
}

// takeLocal counts the call in this gateway: with quotas true it decides
// on the local counts of the quotas and counts every counted period only
// when none is used up (counts gets the quotas' counts); with quotas false
// it counts the usage-only periods (Redis counted the quotas).
func (p *compiledPlan) takeLocal(at *periods, counts *[nPeriods]int64, quotas bool) bool {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	var slots [nPeriods]*slot
	for i, counted := range p.counted {
		if counted {
			slots[i] = p.c.current(i, at.start[i], at.end[i])
		}
	}
	if quotas {
		for _, q := range p.quotas {
			if slots[q.p].n >= q.limit {
				for k, q := range p.quotas {
					counts[k] = slots[q.p].n
				}
				return false
			}
		}
	} else {
		for _, q := range p.quotas {
			slots[q.p] = nil // counted in Redis
		}
	}
	for _, s := range slots {
		if s != nil {
			s.n++
		}
	}
	if quotas {
		for k, q := range p.quotas {
			counts[k] = slots[q.p].n
		}
	}
	return true
}

// answer sets the X-RateLimit-* headers of the tightest quota and refuses
// a call a quota ran out for. Tightest: when refused, the used-up quota
// that resets last (Retry-After is when the call could pass); otherwise
// the quota with the fewest calls left, of two the one resetting later.
func (f *Filter) answer(ex *plugin.Exchange, p *compiledPlan, at *periods, now time.Time, counts *[nPeriods]int64, admitted bool) bool {
	best, bestLeft := -1, int64(0)
	for k, q := range p.quotas {
		left := max(q.limit-counts[k], 0)
		if !admitted && left > 0 {
			continue
		}
		if best < 0 || left < bestLeft || left == bestLeft && at.end[q.p] > at.end[p.quotas[best].p] {
			best, bestLeft = k, left
		}
	}
	if best < 0 {
		return false // no quota: counted for the figures only
	}
	q := &p.quotas[best]
	reset := int64(math.Ceil(time.Unix(at.end[q.p], 0).Sub(now).Seconds()))
	ex.SetResponseHeader("X-RateLimit-Limit", q.text)
	ex.SetResponseHeaderInt("X-RateLimit-Remaining", bestLeft)
	ex.SetResponseHeaderInt("X-RateLimit-Reset", reset)
	if admitted {
		return false
	}
	ex.SetResponseHeaderInt("Retry-After", max(reset, 1))
	ex.Reject(http.StatusTooManyRequests, "quota_exceeded", q.message)
	if on := f.reg.opts.OnReject; on != nil {
		if ri := ex.Route(); ri != nil {
			on(ri.Group, ri.ServiceName)
		}
	}
	return true
}
