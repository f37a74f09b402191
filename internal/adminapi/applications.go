package adminapi

import (
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Applications: project-owned ones are a project's call
// credentials, read and changed by those holding application:read and
// application:write in the project; user-owned ones subscribe to services
// and are their owner's alone (a super_admin sees every one). Every change that alters what gateways admit ends in
// release.CommitConsumers, the one road of consumers to gateways.

func applicationResource(id string) string { return "/applications/" + id }

// loadApplication reads an application the caller may see: their own, or
// a project's call-credential application where they hold
// application:read (application:write for a request that changes
// something). One they may not see is answered like a missing one.
func (c *call) loadApplication(tx store.Tx, id string) (spec.Application, error) {
	a, err := tx.GetApplication(c.ctx(), id)
	if err != nil {
		return a, onNotFound(err, "application %q not found", id)
	}
	switch {
	case c.isAdmin():
	case a.ProjectID == "":
		if a.Owner != c.user.ID {
			return a, withDetail(fmt.Errorf("application %s of another owner: %w", id, store.ErrNotFound), "application %q not found", id)
		}
	case !c.who.Has(rbac.ApplicationRead, a.ProjectID):
		return a, withDetail(fmt.Errorf("application %s of project %s: %w", id, a.ProjectID, store.ErrNotFound), "application %q not found", id)
	case !readOnlyMethod(c.r.Method):
		if err := c.who.Check(rbac.ApplicationWrite, a.ProjectID); err != nil {
			return a, err
		}
	}
	return a, nil
}

// commitConsumers hands a consumer change to the gateways.
func (c *call) commitConsumers(tx store.Tx, what, resource string) error {
	if _, err := release.CommitConsumers(c.ctx(), tx, c.user.Username, what, resource); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (c *call) listApplications() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	f := store.ApplicationFilter{ProjectID: c.r.URL.Query().Get("project")}
	switch {
	case c.isAdmin():
	case f.ProjectID != "":
		// A project's call credentials, for those who may read them.
		if err := c.require(rbac.ApplicationRead, f.ProjectID); err != nil {
			return nil, err
		}
	default:
		f = store.ApplicationFilter{Owner: c.user.ID}
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		items, total, err := tx.ListApplications(c.ctx(), f, q)
		if err != nil {
			return fmt.Errorf("list applications: %w", err)
		}
		res = list(items, total)
		return nil
	})
	return res, err
}

func (c *call) getApplication() (any, error) {
	var a spec.Application
	err := c.view(func(tx store.Tx) error {
		var err error
		a, err = c.loadApplication(tx, c.path("a"))
		return err
	})
	return a, err
}

// checkApplication validates a and, for a project-owned one, that the
// project and every service it is narrowed to exist.
func (c *call) checkApplication(tx store.Tx, a *spec.Application) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if a.ProjectID == "" {
		return nil
	}
	if err := c.require(rbac.ApplicationWrite, a.ProjectID); err != nil {
		return err
	}
	_, err := tx.GetProject(c.ctx(), a.ProjectID)
	if errors.Is(err, store.ErrNotFound) {
		return fieldError("project", "project %q does not exist", a.ProjectID)
	}
	if err != nil {
		return fmt.Errorf("check project %q: %w", a.ProjectID, err)
	}
	var fe spec.FieldErrors
	for i, id := range a.Services {
		s, err := tx.GetService(c.ctx(), a.ProjectID, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			fe.Add(fmt.Sprintf("services[%d]", i), "service %q does not exist in project %q", id, a.ProjectID)
		case err != nil:
			return fmt.Errorf("check services: %w", err)
		default:
			a.Services[i] = s.ID // a name is accepted, the id is kept
		}
	}
	return fe.Err()
}

func (c *call) createApplication() (any, error) {
	var a spec.Application
	if err := c.decode(&a); err != nil {
		return nil, err
	}
	a.ID, a.Owner = newID(), c.user.ID
	err := c.tx(func(tx store.Tx) error {
		if err := c.checkApplication(tx, &a); err != nil {
			return err
		}
		if err := tx.CreateApplication(c.ctx(), &a); err != nil {
			return onConflict(err, "an application named %q already exists for this owner", a.Name)
		}
		return c.auditChangeIn(tx, a.ProjectID, "application.create", applicationResource(a.ID), nil, a)
	})
	return a, err
}

func (c *call) patchApplication() (any, error) { return c.updateApplication(true) }
func (c *call) putApplication() (any, error)   { return c.updateApplication(false) }

// updateApplication changes name, description and (project-owned) services;
// the owner cannot change.
func (c *call) updateApplication(patch bool) (any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	var a spec.Application
	err = c.tx(func(tx store.Tx) error {
		old, err := c.loadApplication(tx, c.path("a"))
		if err != nil {
			return err
		}
		if a, err = decodeUpdate(body, patch, old); err != nil {
			return err
		}
		if a.ProjectID != old.ProjectID {
			return fieldError("project", "the owner of an application cannot change")
		}
		a.ID, a.Owner, a.CreatedAt = old.ID, old.Owner, old.CreatedAt
		if err := c.checkApplication(tx, &a); err != nil {
			return err
		}
		if err := tx.UpdateApplication(c.ctx(), &a); err != nil {
			return onConflict(err, "an application named %q already exists for this owner", a.Name)
		}
		if err := c.auditChangeIn(tx, a.ProjectID, "application.update", applicationResource(a.ID), old, a); err != nil {
			return err
		}
		return c.commitConsumers(tx, "application.update", applicationResource(a.ID))
	})
	return a, err
}

// deleteApplication removes an application, its credentials and
// subscriptions; gateways stop admitting it with the next revision.
func (c *call) deleteApplication() (any, error) {
	return nil, c.tx(func(tx store.Tx) error {
		a, err := c.loadApplication(tx, c.path("a"))
		if err != nil {
			return err
		}
		if err := tx.DeleteApplication(c.ctx(), a.ID); err != nil {
			return onNotFound(err, "application %q not found", a.ID)
		}
		if err := c.auditChangeIn(tx, a.ProjectID, "application.delete", applicationResource(a.ID), a, nil); err != nil {
			return err
		}
		return c.commitConsumers(tx, "application.delete", applicationResource(a.ID))
	})
}
