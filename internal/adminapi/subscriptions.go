package adminapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Subscriptions admit a user's application to a service: one listed in
// the catalog, or one of the caller's projects. A subscription waits for
// its project's approval unless the listing says auto_approve; only an
// approved one reaches the gateways. Unsubscribing needs no approval.

func subscriptionResource(id string) string { return "/subscriptions/" + id }

// QuotaUsage reads what a subscription has used of its plan (quotas) in
// the current periods of zone, counted by the gateways of group
// (quota.Registry); false when nothing this control plane reads counts
// for the group.
type QuotaUsage func(ctx context.Context, group, subscription string, quotas []spec.Quota, zone *time.Location) ([]PeriodUsage, bool)

// PeriodUsage is one period's count of a subscription.
type PeriodUsage struct {
	Period    string    `json:"period"`
	Limit     int64     `json:"limit"` // 0: no quota for this period
	Used      int64     `json:"used"`
	Remaining int64     `json:"remaining,omitempty"`
	ResetsAt  time.Time `json:"resets_at"`
}

// usageAnswer is GET /subscriptions/{id}/usage.
type usageAnswer struct {
	Subscription string        `json:"subscription"`
	Plan         string        `json:"plan,omitempty"` // the plan's name
	Group        string        `json:"group"`          // the gateway group counted (the project's production group)
	Periods      []PeriodUsage `json:"periods"`
	// Counted is false when no gateway this control plane can read counts
	// for the group yet (no Redis shared with stand-alone gateways).
	Counted bool `json:"counted"`
}

func (c *call) listSubscriptions() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	qs := c.r.URL.Query()
	f := store.SubscriptionFilter{ApplicationID: qs.Get("application"), ServiceID: qs.Get("service"),
		State: qs.Get("state"), Project: qs.Get("project")}
	subStates := []string{spec.SubscriptionPending, spec.SubscriptionApproved, spec.SubscriptionRejected, spec.SubscriptionCancelled}
	if f.State != "" && !contains(subStates, f.State) {
		return nil, fieldError("state", "must be one of %v", subStates)
	}
	// The project's people with subscription:read see who subscribes to
	// its services; everyone else their own applications'.
	if !c.isAdmin() && (f.Project == "" || !c.who.Has(rbac.SubscriptionRead, f.Project)) {
		f.Owner = c.user.ID
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		items, total, err := tx.ListSubscriptions(c.ctx(), f, q)
		if err != nil {
			return fmt.Errorf("list subscriptions: %w", err)
		}
		res = list(items, total)
		return nil
	})
	return res, err
}

// loadSubscription reads a subscription of an application the caller may
// see, or (reads only) one to a service of a project where the caller
// holds subscription:read.
func (c *call) loadSubscription(tx store.Tx, id string) (spec.Subscription, error) {
	s, err := tx.GetSubscription(c.ctx(), id)
	if err == nil {
		if _, aerr := c.loadApplication(tx, s.ApplicationID); aerr != nil {
			if !readOnlyMethod(c.r.Method) || !c.who.Has(rbac.SubscriptionRead, s.ProjectID) {
				err = aerr
			}
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return s, withDetail(err, "subscription %q not found", id)
	}
	return s, err
}

func (c *call) getSubscription() (any, error) {
	var s spec.Subscription
	err := c.view(func(tx store.Tx) error {
		var err error
		s, err = c.loadSubscription(tx, c.path("id"))
		return err
	})
	return s, err
}

// findService finds a service by id in any project (or by id or name in
// the project given).
func (c *call) findService(tx store.Tx, project, id string) (spec.Service, error) {
	if project != "" {
		return tx.GetService(c.ctx(), project, id)
	}
	projects, err := store.All(func(q store.ListQuery) ([]spec.Project, int, error) { return tx.ListProjects(c.ctx(), q) })
	if err != nil {
		return spec.Service{}, fmt.Errorf("find service %s: %w", id, err)
	}
	for _, p := range projects {
		s, err := tx.GetService(c.ctx(), p.ID, id)
		if err == nil && s.ID == id {
			return s, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return spec.Service{}, fmt.Errorf("find service %s: %w", id, err)
		}
	}
	return spec.Service{}, fmt.Errorf("service %s: %w", id, store.ErrNotFound)
}

// subscribable finds the service a subscription names (by id; by name in
// the catalog or in the project given): one the catalog lists, or one of
// the caller's projects; the rest is answered like a
// missing service. The listing is zero for an unlisted one.
func (c *call) subscribable(tx store.Tx, project, id string) (spec.Service, spec.Listing, error) {
	svc, err := c.findService(tx, project, id)
	if errors.Is(err, store.ErrNotFound) && project == "" {
		// By name: the catalog's service of that name (409 when several
		// projects list one).
		svc, err = c.findListed(tx, id, "")
	}
	var l spec.Listing
	if err == nil {
		var lerr error
		l, lerr = tx.GetListing(c.ctx(), svc.ID)
		listed := lerr == nil && svc.State == spec.StatePublished
		if lerr != nil && !errors.Is(lerr, store.ErrNotFound) {
			return svc, l, lerr
		}
		if !listed {
			l = spec.Listing{}
			if !c.who.Visible(svc.ProjectID) {
				err = fmt.Errorf("service %s of project %s: %w", svc.ID, svc.ProjectID, store.ErrNotFound)
			}
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return svc, l, fieldError("service", "service %q does not exist", id)
	}
	return svc, l, err
}

// createSubscription applies for a subscription: approved at once when
// the listing says auto_approve, else pending with a request for the
// service's project admins. Applying again after a rejection or a
// cancellation reuses the subscription.
func (c *call) createSubscription() (any, error) {
	var s spec.Subscription
	if err := c.decode(&s); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.State != "" || s.Approval != "" || s.ID != "" {
		return nil, fieldError("state", "id, state and approval are set by the server")
	}
	if len(s.Comment) > maxComment {
		return nil, fieldError("comment", "is longer than %d characters", maxComment)
	}
	comment := s.Comment
	s.Comment = ""
	err := c.tx(func(tx store.Tx) error {
		a, err := c.loadApplication(tx, s.ApplicationID)
		if errors.Is(err, store.ErrNotFound) {
			return fieldError("application", "application %q does not exist", s.ApplicationID)
		}
		if err != nil {
			return err
		}
		if a.ProjectID != "" {
			return fieldError("application", "a project's call credentials are admitted to its services without subscribing")
		}
		svc, listing, err := c.subscribable(tx, s.ProjectID, s.ServiceID)
		if err != nil {
			return err
		}
		plan, err := c.pickPlan(tx, svc, s.Plan)
		if err != nil {
			return err
		}
		old, err := tx.GetSubscriptionOf(c.ctx(), a.ID, svc.ID)
		switch {
		case err == nil && old.State == spec.SubscriptionPending:
			return withDetail(store.ErrConflict, "application %q has already requested service %q (approval %s)", a.Name, svc.Name, old.Approval)
		case err == nil && old.State == spec.SubscriptionApproved:
			return withDetail(store.ErrConflict, "application %q already subscribes to service %q", a.Name, svc.Name)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		again := err == nil
		s.ServiceID, s.ProjectID, s.Plan = svc.ID, svc.ProjectID, plan.ID
		if again {
			s.ID, s.CreatedAt = old.ID, old.CreatedAt
		} else {
			s.ID = newID()
		}
		res := subscriptionResource(s.ID)
		var req *spec.Approval
		if listing.AutoApprove {
			s.State, s.Approval = spec.SubscriptionApproved, ""
		} else {
			req = &spec.Approval{ID: newID(), Kind: spec.ApprovalSubscription, Project: svc.ProjectID, Service: svc.ID,
				ServiceName: svc.Name, Subject: s.ID, ApproverRole: spec.ApproverProjectAdmin, Comment: comment,
				Detail: map[string]string{"application": a.ID, "application_name": a.Name, "plan": plan.ID, "plan_name": plan.Name}}
			s.State, s.Approval = spec.SubscriptionPending, req.ID
		}
		if again {
			err = tx.UpdateSubscription(c.ctx(), &s)
		} else {
			err = tx.CreateSubscription(c.ctx(), &s)
		}
		if err != nil {
			return onConflict(err, "application %q already subscribes to service %q", a.Name, svc.Name)
		}
		if err := c.auditChangeIn(tx, s.ProjectID, "subscription.create", res, nil, s); err != nil {
			return err
		}
		if req == nil {
			return c.commitConsumers(tx, "subscription.create", res)
		}
		if err := c.openApproval(tx, req); err != nil {
			return err
		}
		// A project admin subscribing their own application approves it.
		got, err := tx.GetSubscription(c.ctx(), s.ID)
		s.State, s.UpdatedAt = got.State, got.UpdatedAt
		return err
	})
	return s, err
}

// pickPlan resolves the plan a subscription names (id or name); a service
// that offers plans needs one, one that offers none takes none.
func (c *call) pickPlan(tx store.Tx, svc spec.Service, name string) (spec.Plan, error) {
	plans, err := tx.ListPlans(c.ctx(), svc.ID)
	if err != nil {
		return spec.Plan{}, err
	}
	if name == "" {
		if len(plans) > 0 {
			names := make([]string, len(plans))
			for i, p := range plans {
				names[i] = p.Name
			}
			return spec.Plan{}, fieldError("plan", "is required: service %q offers plans %q", svc.Name, names)
		}
		return spec.Plan{}, nil
	}
	for _, p := range plans {
		if p.ID == name || p.Name == name {
			return p, nil
		}
	}
	return spec.Plan{}, fieldError("plan", "service %q offers no plan %q", svc.Name, name)
}

// deleteSubscription unsubscribes (no approval needed); a request still
// pending is cancelled with it. Subscription events belong to the
// service's project: its people see who uses it.
func (c *call) deleteSubscription() (any, error) {
	return nil, c.tx(func(tx store.Tx) error {
		s, err := c.loadSubscription(tx, c.path("id"))
		if err != nil {
			return err
		}
		if s.State == spec.SubscriptionPending && s.Approval != "" {
			a, err := tx.GetApproval(c.ctx(), s.Approval)
			if err == nil && a.State == spec.ApprovalPending {
				if err := c.decide(tx, &a, spec.ApprovalCancelled, "unsubscribed"); err != nil {
					return err
				}
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := tx.DeleteSubscription(c.ctx(), s.ID); err != nil {
			return onNotFound(err, "subscription %q not found", s.ID)
		}
		res := subscriptionResource(s.ID)
		if err := c.auditChangeIn(tx, s.ProjectID, "subscription.delete", res, s, nil); err != nil {
			return err
		}
		if s.State != spec.SubscriptionApproved {
			return nil // it admitted nothing
		}
		return c.commitConsumers(tx, "subscription.delete", res)
	})
}

// subscriptionUsage answers what the subscription used of its plan in the
// current periods of its project's production group.
func (c *call) subscriptionUsage() (any, error) {
	var out usageAnswer
	var quotas []spec.Quota
	zone := time.UTC
	err := c.view(func(tx store.Tx) error {
		s, err := c.loadSubscription(tx, c.path("id"))
		if err != nil {
			return err
		}
		out.Subscription = s.ID
		if s.Plan != "" {
			p, err := tx.GetPlan(c.ctx(), s.ServiceID, s.Plan)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			out.Plan, quotas = p.Name, p.Quotas
		}
		p, err := c.loadProject(tx, s.ProjectID)
		if err != nil {
			return err
		}
		out.Group = p.ProductionGroup
		g, err := tx.GetGroup(c.ctx(), p.ProductionGroup)
		if err != nil {
			return fmt.Errorf("usage: group %q: %w", p.ProductionGroup, err)
		}
		zone = g.ZoneOf()
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Periods = []PeriodUsage{}
	if c.s.quotaUsage != nil {
		if periods, ok := c.s.quotaUsage(c.ctx(), out.Group, out.Subscription, quotas, zone); ok {
			out.Periods, out.Counted = periods, true
		}
	}
	return out, nil
}
