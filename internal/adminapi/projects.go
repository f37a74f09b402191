package adminapi

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func projectResource(id string) string { return "/projects/" + id }

// loadProject reads a project, answering 404 with its id.
func (c *call) loadProject(tx store.Tx, id string) (spec.Project, error) {
	p, err := tx.GetProject(c.ctx(), id)
	return p, onNotFound(err, "project %q not found", id)
}

func (c *call) listProjects() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		items, total, err := tx.ListProjects(c.ctx(), q)
		if err != nil {
			return fmt.Errorf("list projects: %w", err)
		}
		if !c.isAdmin() {
			// Only the caller's projects, paged after filtering.
			all, err := store.All(func(all store.ListQuery) ([]spec.Project, int, error) {
				all.Q = q.Q
				return tx.ListProjects(c.ctx(), all)
			})
			if err != nil {
				return fmt.Errorf("list projects: %w", err)
			}
			all = visibleProjects(c, all, func(p spec.Project) string { return p.ID })
			items, total = pageOf(all, store.ListQuery{Page: q.Page, PageSize: q.PageSize}, func(spec.Project) string { return "" })
		}
		res = list(items, total)
		return nil
	})
	return res, err
}

func (c *call) getProject() (any, error) {
	var p spec.Project
	err := c.view(func(tx store.Tx) error {
		var err error
		p, err = c.loadProject(tx, c.path("p"))
		return err
	})
	return p, err
}

// checkProject fills defaults and validates, including that the release
// stage groups exist.
func (c *call) checkProject(tx store.Tx, p *spec.Project) error {
	if p.Name == "" {
		p.Name = p.ID
	}
	if p.TestGroup == "" {
		p.TestGroup = spec.DefaultGroup
	}
	if p.ProductionGroup == "" {
		p.ProductionGroup = spec.DefaultGroup
	}
	if err := p.Validate(); err != nil {
		return err
	}
	var fe spec.FieldErrors
	for _, f := range []struct{ field, group string }{{"test_group", p.TestGroup}, {"production_group", p.ProductionGroup}} {
		_, err := tx.GetGroup(c.ctx(), f.group)
		switch {
		case errors.Is(err, store.ErrNotFound):
			fe.Add(f.field, "gateway group %q does not exist", f.group)
		case err != nil:
			return fmt.Errorf("check %s: %w", f.field, err)
		}
	}
	return fe.Err()
}

func (c *call) createProject() (any, error) {
	var p spec.Project
	if err := c.decode(&p); err != nil {
		return nil, err
	}
	if p.Webhook != nil {
		return nil, fieldError("webhook", "is set with PUT /projects/{p}/webhook once the project exists")
	}
	if p.ListingApprover != "" && p.ListingApprover != spec.ApproverProjectAdmin {
		if err := c.who.Check(rbac.MarketManage, ""); err != nil {
			return nil, err
		}
	}
	err := c.tx(func(tx store.Tx) error {
		if err := c.checkProject(tx, &p); err != nil {
			return err
		}
		now := c.s.now()
		p.CreatedAt, p.UpdatedAt = now, now
		if err := tx.CreateProject(c.ctx(), &p); err != nil {
			return onConflict(err, "project %q already exists", p.ID)
		}
		return c.auditChange(tx, "project.create", projectResource(p.ID), nil, p)
	})
	return p, err
}

func (c *call) patchProject() (any, error) { return c.updateProject(true) }
func (c *call) putProject() (any, error)   { return c.updateProject(false) }

// updateProject applies a merge patch (patch) or a whole replacement; id
// and created_at stay those of the stored project.
func (c *call) updateProject(patch bool) (any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	var p spec.Project
	err = c.tx(func(tx store.Tx) error {
		old, err := c.loadProject(tx, c.path("p"))
		if err != nil {
			return err
		}
		if p, err = decodeUpdate(body, patch, old); err != nil {
			return err
		}
		p.ID, p.CreatedAt, p.UpdatedAt = old.ID, old.CreatedAt, c.s.now()
		if !reflect.DeepEqual(p.Webhook, old.Webhook) && !(p.Webhook == nil && !patch) {
			return fieldError("webhook", "is changed with PUT /projects/{p}/webhook")
		}
		p.Webhook = old.Webhook
		if p.ListingApprover == "" {
			p.ListingApprover = spec.ApproverProjectAdmin
		}
		if p.ListingApprover != old.ListingApprover {
			// Who approves a project's listings is not the project's
			// own decision: its admins could approve themselves.
			if err := c.who.Check(rbac.MarketManage, ""); err != nil {
				return err
			}
		}
		if err := c.checkProject(tx, &p); err != nil {
			return err
		}
		if err := tx.UpdateProject(c.ctx(), &p); err != nil {
			return onConflict(err, "update project %q", p.ID)
		}
		return c.auditChange(tx, "project.update", projectResource(p.ID), old, p)
	})
	return p, err
}

func (c *call) deleteProject() (any, error) {
	id := c.path("p")
	if id == spec.DefaultProject {
		return nil, withDetail(store.ErrConflict, "project %q cannot be deleted", id)
	}
	return nil, c.tx(func(tx store.Tx) error {
		p, err := c.loadProject(tx, id)
		if err != nil {
			return err
		}
		one := store.ListQuery{Page: 1, PageSize: 1}
		if _, n, err := tx.ListServices(c.ctx(), id, one); err != nil {
			return fmt.Errorf("delete project %q: count services: %w", id, err)
		} else if n > 0 {
			return withDetail(store.ErrConflict, "project %q still has %d service(s); delete them first", id, n)
		}
		if _, n, err := tx.ListUpstreams(c.ctx(), id, one); err != nil {
			return fmt.Errorf("delete project %q: count upstreams: %w", id, err)
		} else if n > 0 {
			return withDetail(store.ErrConflict, "project %q still has %d upstream(s); delete them first", id, n)
		}
		if err := tx.DeleteProject(c.ctx(), id); err != nil {
			return onConflict(err, "project %q is still in use", id)
		}
		return c.auditChange(tx, "project.delete", projectResource(id), p, nil)
	})
}
