package consumer

import (
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// The plans of a group's applications are found by service (then
// application) and by subscription.
func TestPlans(t *testing.T) {
	gold := spec.ConsumerPlan{Service: "s1", Subscription: "sub-1", Plan: "gold", Quotas: []spec.Quota{{Count: 5, Period: spec.QuotaDay}}}
	ix := New([]spec.Consumer{
		{ID: "a1", Name: "subscriber", Subscriptions: []string{"s1", "s2"}, Plans: []spec.ConsumerPlan{
			gold, {Service: "s2", Subscription: "sub-2"},
		}},
		{ID: "a2", Name: "project app", ProjectID: "p1"},
	})
	if got := ix.Plans("s1"); len(got) != 1 || got["a1"] == nil || got["a1"].Plan != "gold" || got["a1"].Quotas[0].Count != 5 {
		t.Errorf("Plans(s1) = %v", got)
	}
	if got := ix.Plans("s2"); len(got) != 1 || got["a1"].Subscription != "sub-2" {
		t.Errorf("Plans(s2) = %v", got)
	}
	if ix.Plans("s3") != nil {
		t.Error("plans for a service nobody subscribed to")
	}
	if cp := ix.Subscription("sub-1"); cp == nil || cp.Service != "s1" {
		t.Errorf("Subscription(sub-1) = %+v", cp)
	}
	if ix.Subscription("sub-9") != nil {
		t.Error("an unknown subscription found")
	}
	var none *Index
	if none.Plans("s1") != nil || none.Subscription("sub-1") != nil || New(nil).Plans("s1") != nil {
		t.Error("an empty index found plans")
	}
}
