package adminapi

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/portico-gw/portico/internal/manifest"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// templateSide names the service template where a diff takes a version.
const templateSide = "template"

// serviceDiff answers GET …/services/{s}/diff: what changes from one
// configuration of the service to another, field by field.
type serviceDiff struct {
	From    string             `json:"from"`
	To      string             `json:"to"`
	Changes []spec.FieldChange `json:"changes"`
}

// diffService compares two versions of a service, or a version and the
// template (?to= left out or "template"; ?from=template works too).
func (c *call) diffService() (any, error) {
	q := c.r.URL.Query()
	res := serviceDiff{From: q.Get("from"), To: q.Get("to")}
	if res.To == "" {
		res.To = templateSide
	}
	var fe spec.FieldErrors
	for _, side := range []struct{ name, v string }{{"from", res.From}, {"to", res.To}} {
		switch {
		case side.v == "":
			fe.Add(side.name, "is required: a version string, or %q for the service template", templateSide)
		case side.v != templateSide && !spec.ValidVersion(side.v):
			fe.Add(side.name, "is not a version string (such as 1.0.2) nor %q", templateSide)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	err := c.view(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		names, err := c.upstreamNames(tx, s.ProjectID)
		if err != nil {
			return err
		}
		from, err := c.serviceSide(tx, &s, "from", res.From, names)
		if err != nil {
			return err
		}
		to, err := c.serviceSide(tx, &s, "to", res.To, names)
		if err != nil {
			return err
		}
		res.Changes = manifest.DiffService(from, to)
		return nil
	})
	return res, err
}

// serviceSide is one side of a diff: the template with its routes, or
// the template a version froze; an upstream reference shows the
// upstream's name.
func (c *call) serviceSide(tx store.Tx, s *spec.Service, field, side string, names map[string]string) (*spec.Service, error) {
	var out spec.Service
	if side == templateSide {
		out = *s
		if err := c.fillRoutes(tx, &out); err != nil {
			return nil, err
		}
	} else {
		v, err := tx.GetVersion(c.ctx(), s.ID, side)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fieldError(field, "service %q has no version %q", s.Name, side)
		}
		if err != nil {
			return nil, fmt.Errorf("version %s@%s: %w", s.Name, side, err)
		}
		out = v.Service
	}
	if name, ok := names[out.UpstreamID]; ok {
		out.UpstreamID = name
	}
	return &out, nil
}

// upstreamNames maps the ids of a project's upstreams to their names.
func (c *call) upstreamNames(tx store.Tx, project string) (map[string]string, error) {
	ups, err := store.All(func(q store.ListQuery) ([]spec.Upstream, int, error) { return tx.ListUpstreams(c.ctx(), project, q) })
	if err != nil {
		return nil, fmt.Errorf("upstreams of %q: %w", project, err)
	}
	names := make(map[string]string, len(ups))
	for _, u := range ups {
		names[u.ID] = u.Name
	}
	return names, nil
}

// restoreVersion copies a version back into the service template ("edit
// from this version"): the template becomes what the version froze —
// its members, plugins, upstream, OpenAPI parts and routes (matched by
// name: a route of both keeps its id, one only the template has is
// deleted, one only the version has is created) — in one transaction,
// with the checks every save of a template or route makes. The service
// keeps its id, lifecycle state and catalog folder. The template is not
// served, so nothing reaches a gateway: the next publish or submit does.
func (c *call) restoreVersion() (any, error) {
	p := c.path("p")
	var out spec.Service
	err := c.tx(func(tx store.Tx) error {
		cur, err := c.loadService(tx, p, c.path("s"))
		if err != nil {
			return err
		}
		if err := checkEdit(&cur); err != nil {
			return err
		}
		v, err := tx.GetVersion(c.ctx(), cur.ID, c.path("v"))
		if err != nil {
			return onNotFound(err, "version %q of service %q not found", c.path("v"), cur.Name)
		}
		before := cur
		if err := c.fillRoutes(tx, &before); err != nil {
			return err
		}
		now := c.s.now()
		s := v.Service
		routes := s.Routes
		s.Routes, s.AllowedActions, s.Running, s.FolderPath = nil, nil, nil, ""
		s.ID, s.ProjectID, s.State, s.FolderID, s.CreatedAt, s.UpdatedAt = cur.ID, cur.ProjectID, cur.State, cur.FolderID, cur.CreatedAt, now
		if err := c.restoreChecks(tx, v.Version, &s, routes); err != nil {
			return err
		}
		// Routes the version does not have go first, so that a route
		// renamed since frees nothing the version's need.
		keep := map[string]bool{}
		for _, r := range routes {
			keep[r.Name] = true
		}
		old := map[string]spec.Route{}
		for _, r := range before.Routes {
			if !keep[r.Name] {
				if err := tx.DeleteRoute(c.ctx(), cur.ID, r.ID); err != nil {
					return onConflict(err, "route %q of the template is still in use, so the template cannot become version %q, which has no such route", r.Name, v.Version)
				}
				continue
			}
			old[r.Name] = r
		}
		if err := tx.UpdateService(c.ctx(), &s); err != nil {
			return onConflict(err, "a service named %q already exists in project %q", s.Name, p)
		}
		for i := range routes {
			r := &routes[i]
			r.ServiceID, r.UpdatedAt = cur.ID, now
			if o, ok := old[r.Name]; ok {
				r.ID, r.CreatedAt = o.ID, o.CreatedAt
				if len(manifest.DiffService(&spec.Service{Routes: []spec.Route{o}}, &spec.Service{Routes: []spec.Route{*r}})) == 0 {
					*r = o // the same route: left as it is
					continue
				}
				if err := tx.UpdateRoute(c.ctx(), r); err != nil {
					return onConflict(err, "route %q of version %q could not replace the template's", r.Name, v.Version)
				}
				continue
			}
			r.ID, r.CreatedAt = newID(), now
			if err := tx.CreateRoute(c.ctx(), r); err != nil {
				return onConflict(err, "route %q is listed twice in version %q", r.Name, v.Version)
			}
		}
		out = s
		out.Routes = routes
		if out.Routes == nil {
			out.Routes = []spec.Route{}
		}
		resource := serviceResource(p, cur.ID) + "/versions/" + url.PathEscape(v.Version)
		if err := c.auditChange(tx, "service.restore", resource, before, out); err != nil {
			return err
		}
		withActions(&out)
		return c.withRunning(tx, &out)
	})
	return out, err
}

// restoreChecks runs on a version's template and routes the checks a save
// makes today (an upstream, a data source or a plugin may have gone since
// the version was made); the problems are named under the version's
// members, every one at once.
func (c *call) restoreChecks(tx store.Tx, version string, s *spec.Service, routes []spec.Route) error {
	var fe spec.FieldErrors
	collect := func(err error, prefix string) error {
		more, ok := errors.AsType[spec.FieldErrors](prefixed(err, prefix))
		if !ok {
			return err
		}
		fe = append(fe, more...)
		return nil
	}
	if err := c.checkService(tx, s); err != nil {
		if err := collect(err, ""); err != nil {
			return err
		}
	}
	for i := range routes {
		if err := c.checkRoute(tx, s.ProjectID, &routes[i]); err != nil {
			if err := collect(err, "routes[name="+routes[i].Name+"]."); err != nil {
				return err
			}
		}
	}
	if len(fe) == 0 {
		return nil
	}
	return withDetail(fe, "version %q cannot become the template as it is, for today's checks refuse it: %s; change the template instead", version, fieldList(fe))
}
