package adminapi

import (
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func serviceResource(p, id string) string { return projectResource(p) + "/services/" + id }

// loadService reads a service template (without routes) by id or name; a
// missing project is named as such.
func (c *call) loadService(tx store.Tx, project, idOrName string) (spec.Service, error) {
	if _, err := c.loadProject(tx, project); err != nil {
		return spec.Service{}, err
	}
	s, err := tx.GetService(c.ctx(), project, idOrName)
	return s, onNotFound(err, "service %q not found in project %q", idOrName, project)
}

// checkService validates a template (the same on every path that saves
// one), clears what the server sets of an inline upstream and resolves
// upstream_id (an id or a name of the project's upstreams) to the
// upstream's id.
func (c *call) checkService(tx store.Tx, s *spec.Service) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := checkOpenAPIObject("openapi", &s.OpenAPI); err != nil {
		return err
	}
	if err := checkPlugins("plugins", s.Plugins); err != nil {
		return err
	}
	for i := range s.StreamRoutes {
		if err := checkStreamPlugins(fmt.Sprintf("stream_routes[%d].plugins", i), s.StreamRoutes[i].Plugins); err != nil {
			return err
		}
	}
	clearServerSet(s.Upstream)
	if err := c.checkFolder(tx, s); err != nil {
		return err
	}
	if s.UpstreamID == "" {
		return nil
	}
	if s.Upstream != nil {
		return fieldError("upstream", "cannot be combined with upstream_id")
	}
	u, err := tx.GetUpstream(c.ctx(), s.ProjectID, s.UpstreamID)
	if errors.Is(err, store.ErrNotFound) {
		return fieldError("upstream_id", "upstream %q does not exist in project %q", s.UpstreamID, s.ProjectID)
	}
	if err != nil {
		return fmt.Errorf("check upstream_id: %w", err)
	}
	switch {
	case s.IsStream():
		if err := spec.StreamUpstreamErrors("upstream_id", &u).Err(); err != nil {
			return fieldError("upstream_id", "upstream %q cannot take a stream service's connections: %v", u.Name, err)
		}
	case u.IsStream():
		return fieldError("upstream_id", "upstream %q is of scheme %s, which serves services of type \"stream\"", u.Name, u.Scheme)
	}
	s.UpstreamID = u.ID
	return nil
}

// prefixed moves field errors under a JSON path prefix.
func prefixed(err error, prefix string) error {
	fe, ok := errors.AsType[spec.FieldErrors](err)
	if !ok {
		return err
	}
	out := make(spec.FieldErrors, len(fe))
	for i, e := range fe {
		out[i] = spec.FieldError{Field: prefix + e.Field, Message: e.Message}
	}
	return out
}

func (c *call) listServices() (any, error) {
	return listInProject(c, "services", func(tx store.Tx, p string, q store.ListQuery) ([]spec.Service, int, error) {
		items, total, err := tx.ListServices(c.ctx(), p, q)
		if err != nil {
			return nil, 0, err
		}
		for i := range items {
			if err := c.withRunning(tx, &items[i]); err != nil {
				return nil, 0, err
			}
		}
		return items, total, nil
	}, withActions)
}

func (c *call) getService() (any, error) {
	var s spec.Service
	err := c.view(func(tx store.Tx) error {
		var err error
		if s, err = c.loadService(tx, c.path("p"), c.path("s")); err != nil {
			return err
		}
		withActions(&s)
		if err := c.withRunning(tx, &s); err != nil {
			return err
		}
		return c.fillRoutes(tx, &s)
	})
	return s, err
}

func (c *call) fillRoutes(tx store.Tx, s *spec.Service) error {
	routes, err := tx.ListRoutes(c.ctx(), s.ID)
	if err != nil {
		return fmt.Errorf("routes of service %q: %w", s.Name, err)
	}
	if routes == nil {
		routes = []spec.Route{}
	}
	s.Routes = routes
	return nil
}

// createService creates a draft template; routes given inline are created
// with it, in the same transaction.
func (c *call) createService() (any, error) {
	var s spec.Service
	if err := c.decode(&s); err != nil {
		return nil, err
	}
	p := c.path("p")
	routes := s.Routes
	s.Routes = nil
	s.ID, s.ProjectID, s.State, s.Running = newID(), p, spec.StateDraft, nil
	err := c.tx(func(tx store.Tx) error {
		if _, err := c.loadProject(tx, p); err != nil {
			return err
		}
		// Every problem of the service and its routes at once; the
		// routes get the checks of POST …/routes.
		var fe spec.FieldErrors
		collect := func(err error) error {
			more, ok := errors.AsType[spec.FieldErrors](err)
			if !ok {
				return err
			}
			fe = append(fe, more...)
			return nil
		}
		if err := c.checkService(tx, &s); err != nil {
			if err := collect(err); err != nil {
				return err
			}
		}
		if s.IsStream() && len(routes) > 0 {
			fe.Add("routes", `a service of type "stream" has no HTTP routes: its stream_routes say what it answers`)
		}
		seen := map[string]bool{}
		for i := range routes {
			prefix := fmt.Sprintf("routes[%d].", i)
			if err := c.checkRoute(tx, p, &routes[i]); err != nil {
				if err := collect(prefixed(err, prefix)); err != nil {
					return err
				}
			}
			if seen[routes[i].Name] {
				fe.Add(prefix+"name", "route %q is listed twice", routes[i].Name)
			}
			seen[routes[i].Name] = true
		}
		if err := fe.Err(); err != nil {
			return err
		}
		now := c.s.now()
		s.CreatedAt, s.UpdatedAt = now, now
		if err := tx.CreateService(c.ctx(), &s); err != nil {
			return onConflict(err, "a service named %q already exists in project %q", s.Name, p)
		}
		for i := range routes {
			r := &routes[i]
			r.ID, r.ServiceID, r.CreatedAt, r.UpdatedAt = newID(), s.ID, now, now
			if err := tx.CreateRoute(c.ctx(), r); err != nil {
				return onConflict(err, "route %q is listed twice", r.Name)
			}
		}
		s.Routes = routes
		if s.Routes == nil {
			s.Routes = []spec.Route{}
		}
		if err := c.auditChange(tx, "service.create", serviceResource(p, s.ID), nil, s); err != nil {
			return err
		}
		withActions(&s)
		return nil
	})
	return s, err
}

func (c *call) patchService() (any, error) { return c.updateService(true) }
func (c *call) putService() (any, error)   { return c.updateService(false) }

// updateService changes the template only: what runs in gateway groups
// changes when a version is published.
func (c *call) updateService(patch bool) (any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	p := c.path("p")
	var s spec.Service
	err = c.tx(func(tx store.Tx) error {
		old, err := c.loadService(tx, p, c.path("s"))
		if err != nil {
			return err
		}
		old.Routes = nil
		if err := checkEdit(&old); err != nil {
			return err
		}
		if s, err = decodeUpdate(body, patch, old); err != nil {
			return err
		}
		if s.Routes != nil {
			return fieldError("routes", "routes are changed under %s/routes", serviceResource(p, old.ID))
		}
		s.ID, s.ProjectID, s.State, s.CreatedAt, s.UpdatedAt = old.ID, old.ProjectID, old.State, old.CreatedAt, c.s.now()
		s.Running = nil
		if err := c.checkService(tx, &s); err != nil {
			return err
		}
		if s.IsStream() && !old.IsStream() {
			if err := c.fillRoutes(tx, &old); err != nil {
				return err
			}
			if len(old.Routes) > 0 {
				return fieldError("type", "service %q has %d HTTP route(s); delete them before it becomes a stream service", old.Name, len(old.Routes))
			}
		}
		if err := tx.UpdateService(c.ctx(), &s); err != nil {
			return onConflict(err, "a service named %q already exists in project %q", s.Name, p)
		}
		s.AllowedActions = nil
		if err := c.auditChange(tx, "service.update", serviceResource(p, s.ID), old, s); err != nil {
			return err
		}
		withActions(&s)
		return c.fillRoutes(tx, &s)
	})
	return s, err
}

func (c *call) deleteService() (any, error) {
	p := c.path("p")
	return nil, c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, p, c.path("s"))
		if err != nil {
			return err
		}
		if err := release.CheckAction(&s, release.ActionDelete); err != nil {
			return err
		}
		deps, err := tx.ListDeploymentsByService(c.ctx(), s.ID)
		if err != nil {
			return fmt.Errorf("delete service %q: %w", s.Name, err)
		}
		if len(deps) > 0 {
			groups := make([]string, len(deps))
			for i, d := range deps {
				groups[i] = d.Group
			}
			return withDetail(store.ErrConflict, "service %q still runs in gateway group(s) %q; take it off first", s.Name, groups)
		}
		if err := release.CheckDelete(c.ctx(), tx, &s); err != nil {
			return err
		}
		// The routes go with it: the audit keeps them.
		if err := c.fillRoutes(tx, &s); err != nil {
			return err
		}
		if err := tx.DeleteService(c.ctx(), p, s.ID); err != nil {
			return onConflict(err, "service %q is still in use", s.Name)
		}
		return c.auditChange(tx, "service.delete", serviceResource(p, s.ID), s, nil)
	})
}
