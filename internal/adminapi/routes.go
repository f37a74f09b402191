package adminapi

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func routeResource(p, s, id string) string { return serviceResource(p, s) + "/routes/" + id }

func (c *call) loadRoute(tx store.Tx, project, service, idOrName string) (spec.Service, spec.Route, error) {
	s, err := c.loadService(tx, project, service)
	if err != nil {
		return s, spec.Route{}, err
	}
	r, err := tx.GetRoute(c.ctx(), s.ID, idOrName)
	return s, r, onNotFound(err, "route %q not found in service %q", idOrName, s.Name)
}

func (c *call) listRoutes() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		all, err := tx.ListRoutes(c.ctx(), s.ID)
		if err != nil {
			return fmt.Errorf("list routes of %q: %w", s.Name, err)
		}
		items, total := pageOf(all, q, func(r spec.Route) string { return r.Name })
		res = list(items, total)
		return nil
	})
	return res, err
}

func (c *call) getRoute() (any, error) {
	var r spec.Route
	err := c.view(func(tx store.Tx) error {
		var err error
		_, r, err = c.loadRoute(tx, c.path("p"), c.path("s"), c.path("r"))
		return err
	})
	return r, err
}

// checkRoute runs the save-time checks of a route, the same on every path
// that saves one (POST, PUT and PATCH …/routes, the inline routes of
// POST …/services, PUT …/config, package and OpenAPI import): the route
// on its own, its plugin configurations as the gateway compiles them
// (member names spelt exactly), openapi a JSON object, a composite
// backend's flow compiled, and a sql backend
// against its data source, which fills result_columns (and filter types)
// whatever the client sent.
func (c *call) checkRoute(tx store.Tx, project string, r *spec.Route) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := checkOpenAPIObject("openapi", &r.OpenAPI); err != nil {
		return err
	}
	if err := checkPlugins("plugins", r.Plugins); err != nil {
		return err
	}
	if err := routing.CheckComposite(r); err != nil {
		return err
	}
	return c.checkSQLRoute(tx, project, r)
}

// checkOpenAPIObject refuses an openapi member that is not a JSON object
// (the OpenAPI description's own parts, which the export merges); null is
// taken as absent.
func checkOpenAPIObject(field string, raw *json.RawMessage) error {
	t := bytes.TrimSpace(*raw)
	switch {
	case len(t) == 0 || bytes.Equal(t, []byte("null")):
		*raw = nil
		return nil
	case t[0] != '{':
		return fieldError(field, "must be a JSON object (parts of an OpenAPI 3.1 description)")
	}
	return nil
}

func (c *call) createRoute() (any, error) {
	var r spec.Route
	if err := c.decode(&r); err != nil {
		return nil, err
	}
	p := c.path("p")
	err := c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, p, c.path("s"))
		if err != nil {
			return err
		}
		if err := checkEdit(&s); err != nil {
			return err
		}
		if s.IsStream() {
			return fieldError("type", `service %q is of type "stream": its stream_routes say what it answers, it has no HTTP routes`, s.Name)
		}
		if err := c.checkRoute(tx, p, &r); err != nil {
			return err
		}
		now := c.s.now()
		r.ID, r.ServiceID, r.CreatedAt, r.UpdatedAt = newID(), s.ID, now, now
		if err := tx.CreateRoute(c.ctx(), &r); err != nil {
			return onConflict(err, "a route named %q already exists in service %q", r.Name, s.Name)
		}
		return c.auditChange(tx, "route.create", routeResource(p, s.ID, r.ID), nil, r)
	})
	return r, err
}

func (c *call) patchRoute() (any, error) { return c.updateRoute(true) }
func (c *call) putRoute() (any, error)   { return c.updateRoute(false) }

func (c *call) updateRoute(patch bool) (any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	p := c.path("p")
	var r spec.Route
	err = c.tx(func(tx store.Tx) error {
		s, old, err := c.loadRoute(tx, p, c.path("s"), c.path("r"))
		if err != nil {
			return err
		}
		if err := checkEdit(&s); err != nil {
			return err
		}
		if r, err = decodeUpdate(body, patch, old); err != nil {
			return err
		}
		r.ID, r.ServiceID, r.CreatedAt, r.UpdatedAt = old.ID, old.ServiceID, old.CreatedAt, c.s.now()
		if err := c.checkRoute(tx, p, &r); err != nil {
			return err
		}
		if err := tx.UpdateRoute(c.ctx(), &r); err != nil {
			return onConflict(err, "a route named %q already exists in service %q", r.Name, s.Name)
		}
		return c.auditChange(tx, "route.update", routeResource(p, s.ID, r.ID), old, r)
	})
	return r, err
}

func (c *call) deleteRoute() (any, error) {
	p := c.path("p")
	return nil, c.tx(func(tx store.Tx) error {
		s, r, err := c.loadRoute(tx, p, c.path("s"), c.path("r"))
		if err != nil {
			return err
		}
		if err := checkEdit(&s); err != nil {
			return err
		}
		if err := tx.DeleteRoute(c.ctx(), s.ID, r.ID); err != nil {
			return onConflict(err, "route %q is still in use", r.Name)
		}
		return c.auditChange(tx, "route.delete", routeResource(p, s.ID, r.ID), r, nil)
	})
}
