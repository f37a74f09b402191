package gateway

import (
	"context"
	"sync/atomic"

	"github.com/portico-gw/portico/internal/gateway/plugin/limitcount"
	"github.com/portico-gw/portico/internal/gateway/plugin/quota"
	"github.com/portico-gw/portico/internal/gateway/routing"
)

// The gateway's Redis client counts plan quotas too.
var _ quota.Remote = (*limitcount.Redis)(nil)

// QuotaReport reads a running gateway's counts of plan quotas; empty
// before Run starts. The control plane asks it for a subscription's usage.
type QuotaReport struct {
	read atomic.Pointer[quotaState]
}

type quotaState struct {
	table *atomic.Pointer[routing.Table]
	reg   *quota.Registry
}

// Usage is the usage of a subscription in group: the current period of
// each quota of its plan, and the current day and month in the group's
// time zone, shortest first. With Redis it is the whole group's (every
// gateway sharing the Redis), otherwise this gateway's (PeriodUsage.Local).
// ok is false when the gateway does not run or its current table holds no
// such subscription in group.
func (r *QuotaReport) Usage(ctx context.Context, group, subscription string) ([]quota.PeriodUsage, bool) {
	s := r.read.Load()
	if s == nil {
		return nil, false
	}
	t := s.table.Load()
	if t == nil {
		return nil, false
	}
	plan, zone, ok := t.SubscriptionPlan(group, subscription)
	if !ok {
		return nil, false
	}
	return s.reg.Usage(ctx, group, subscription, plan.Quotas, zone), true
}
