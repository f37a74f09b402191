package adminapi

import (
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func upstreamResource(p, id string) string { return projectResource(p) + "/upstreams/" + id }

func (c *call) loadUpstream(tx store.Tx, project, idOrName string) (spec.Upstream, error) {
	if _, err := c.loadProject(tx, project); err != nil {
		return spec.Upstream{}, err
	}
	u, err := tx.GetUpstream(c.ctx(), project, idOrName)
	return u, onNotFound(err, "upstream %q not found in project %q", idOrName, project)
}

// checkUpstream validates a top-level upstream: it needs a name and nodes
// (or discovery) to take traffic.
func checkUpstream(u *spec.Upstream) error {
	var fe spec.FieldErrors
	if u.Name == "" {
		fe.Add("name", "is required")
	}
	fe = append(fe, u.Validate("")...)
	fe = append(fe, u.RequireNodes("")...)
	return fe.Err()
}

func (c *call) listUpstreams() (any, error) {
	return listInProject(c, "upstreams", func(tx store.Tx, p string, q store.ListQuery) ([]spec.Upstream, int, error) {
		return tx.ListUpstreams(c.ctx(), p, q)
	}, nil)
}

func (c *call) getUpstream() (any, error) {
	var u spec.Upstream
	err := c.view(func(tx store.Tx) error {
		var err error
		u, err = c.loadUpstream(tx, c.path("p"), c.path("u"))
		return err
	})
	return u, err
}

func (c *call) createUpstream() (any, error) {
	var u spec.Upstream
	if err := c.decode(&u); err != nil {
		return nil, err
	}
	p := c.path("p")
	u.ID, u.ProjectID = newID(), p
	if err := checkUpstream(&u); err != nil {
		return nil, err
	}
	err := c.tx(func(tx store.Tx) error {
		if _, err := c.loadProject(tx, p); err != nil {
			return err
		}
		now := c.s.now()
		u.CreatedAt, u.UpdatedAt = now, now
		if err := tx.CreateUpstream(c.ctx(), &u); err != nil {
			return onConflict(err, "an upstream named %q already exists in project %q", u.Name, p)
		}
		return c.auditChange(tx, "upstream.create", upstreamResource(p, u.ID), nil, u)
	})
	return u, err
}

func (c *call) patchUpstream() (any, error) { return c.updateUpstream(true) }
func (c *call) putUpstream() (any, error)   { return c.updateUpstream(false) }

func (c *call) updateUpstream(patch bool) (any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	p := c.path("p")
	var u spec.Upstream
	err = c.tx(func(tx store.Tx) error {
		old, err := c.loadUpstream(tx, p, c.path("u"))
		if err != nil {
			return err
		}
		if u, err = decodeUpdate(body, patch, old); err != nil {
			return err
		}
		u.ID, u.ProjectID, u.CreatedAt, u.UpdatedAt = old.ID, old.ProjectID, old.CreatedAt, c.s.now()
		if err := checkUpstream(&u); err != nil {
			return err
		}
		if err := tx.UpdateUpstream(c.ctx(), &u); err != nil {
			return onConflict(err, "update upstream %q in project %q (is the name %q taken?)", old.Name, p, u.Name)
		}
		return c.auditChange(tx, "upstream.update", upstreamResource(p, u.ID), old, u)
	})
	return u, err
}

func (c *call) deleteUpstream() (any, error) {
	p := c.path("p")
	return nil, c.tx(func(tx store.Tx) error {
		u, err := c.loadUpstream(tx, p, c.path("u"))
		if err != nil {
			return err
		}
		if err := tx.DeleteUpstream(c.ctx(), p, u.ID); err != nil {
			return onConflict(err, "upstream %q is still used by a service of project %q", u.Name, p)
		}
		return c.auditChange(tx, "upstream.delete", upstreamResource(p, u.ID), u, nil)
	})
}

// clearServerSet clears what the server sets of an inline upstream (a
// service's, or one sent with a publish, sync, lifecycle action or canary
// target): id, project_id and the timestamps are ignored, as those of a
// project upstream are (readOnly), instead of stored as the client sent
// them.
func clearServerSet(u *spec.Upstream) {
	if u == nil {
		return
	}
	u.ID, u.ProjectID = "", ""
	u.CreatedAt, u.UpdatedAt = time.Time{}, time.Time{}
}
