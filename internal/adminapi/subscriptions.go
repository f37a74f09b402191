package adminapi

import (
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Subscriptions admit a user's application to a service: one listed in
// the catalog, or one of the caller's projects. Approvals come with the
// API market; until then a subscription is approved when made.

func subscriptionResource(id string) string { return "/subscriptions/" + id }

func (c *call) listSubscriptions() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	f := store.SubscriptionFilter{ApplicationID: c.r.URL.Query().Get("application"), ServiceID: c.r.URL.Query().Get("service")}
	if !c.isAdmin() {
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

// loadSubscription reads a subscription of an application the caller may see.
func (c *call) loadSubscription(tx store.Tx, id string) (spec.Subscription, error) {
	s, err := tx.GetSubscription(c.ctx(), id)
	if err == nil {
		_, err = c.loadApplication(tx, s.ApplicationID)
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

func (c *call) createSubscription() (any, error) {
	var s spec.Subscription
	if err := c.decode(&s); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
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
		svc, err := c.findService(tx, s.ProjectID, s.ServiceID)
		if err == nil && !c.who.Visible(svc.ProjectID) && svc.State != spec.StatePublished {
			// Only what the catalog lists, or what the caller's projects
			// hold: the rest is answered like a missing service.
			err = fmt.Errorf("service %s of project %s: %w", svc.ID, svc.ProjectID, store.ErrNotFound)
		}
		if errors.Is(err, store.ErrNotFound) {
			return fieldError("service", "service %q does not exist", s.ServiceID)
		}
		if err != nil {
			return err
		}
		s.ID, s.ServiceID, s.ProjectID, s.State = newID(), svc.ID, svc.ProjectID, spec.SubscriptionApproved
		if err := tx.CreateSubscription(c.ctx(), &s); err != nil {
			return onConflict(err, "application %q already subscribes to service %q", a.Name, svc.Name)
		}
		res := subscriptionResource(s.ID)
		if err := c.auditChangeIn(tx, s.ProjectID, "subscription.create", res, nil, s); err != nil {
			return err
		}
		return c.commitConsumers(tx, "subscription.create", res)
	})
	return s, err
}

// deleteSubscription unsubscribes (no approval needed). Subscription
// events belong to the service's project: its people see who uses it.
func (c *call) deleteSubscription() (any, error) {
	return nil, c.tx(func(tx store.Tx) error {
		s, err := c.loadSubscription(tx, c.path("id"))
		if err != nil {
			return err
		}
		if err := tx.DeleteSubscription(c.ctx(), s.ID); err != nil {
			return onNotFound(err, "subscription %q not found", s.ID)
		}
		res := subscriptionResource(s.ID)
		if err := c.auditChangeIn(tx, s.ProjectID, "subscription.delete", res, s, nil); err != nil {
			return err
		}
		return c.commitConsumers(tx, "subscription.delete", res)
	})
}
