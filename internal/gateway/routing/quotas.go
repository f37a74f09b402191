package routing

import (
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// Plan quotas: every route of a service some application of the group
// holds a plan for counts that application's calls after the route's
// authentication (addService, compilePlugins). The plans come with the
// group's consumers (spec.Consumer.Plans, indexed by consumer.New), so
// they change only with a whole snapshot; a delta's services are compiled
// against the plans the table holds.

// SubscriptionPlan is the plan of a subscription as group's table holds
// it, and the group's time zone; ok is false when the group is not served
// or holds no such subscription.
func (t *Table) SubscriptionPlan(group, subscription string) (plan spec.ConsumerPlan, zone *time.Location, ok bool) {
	gp := t.groups[group]
	if gp == nil {
		return spec.ConsumerPlan{}, nil, false
	}
	cp := gp.consumers.Subscription(subscription)
	if cp == nil {
		return spec.ConsumerPlan{}, nil, false
	}
	return *cp, gp.zone, true
}

// HasSubscription reports whether group's table holds the subscription
// (the counts of the others may go).
func (t *Table) HasSubscription(group, subscription string) bool {
	gp := t.groups[group]
	return gp != nil && gp.consumers.Subscription(subscription) != nil
}
