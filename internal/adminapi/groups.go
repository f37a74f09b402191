package adminapi

import (
	"fmt"
	"sort"
	"time"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

func groupResource(name string) string { return "/gateway-groups/" + name }

func (c *call) loadGroup(tx store.Tx, name string) (spec.GatewayGroup, error) {
	g, err := tx.GetGroup(c.ctx(), name)
	return g, onNotFound(err, "gateway group %q not found", name)
}

func (c *call) listGroups() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	var res listResult
	err = c.view(func(tx store.Tx) error {
		items, total, err := tx.ListGroups(c.ctx(), q)
		if err != nil {
			return fmt.Errorf("list gateway groups: %w", err)
		}
		res = list(items, total)
		return nil
	})
	return res, err
}

func (c *call) getGroup() (any, error) {
	var g spec.GatewayGroup
	err := c.view(func(tx store.Tx) error {
		var err error
		g, err = c.loadGroup(tx, c.path("g"))
		return err
	})
	return g, err
}

func (c *call) createGroup() (any, error) {
	var g spec.GatewayGroup
	if err := c.decode(&g); err != nil {
		return nil, err
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	err := c.tx(func(tx store.Tx) error {
		now := c.s.now()
		g.Revision, g.CreatedAt, g.UpdatedAt = 0, now, now
		if err := tx.CreateGroup(c.ctx(), &g); err != nil {
			return onConflict(err, "gateway group %q already exists", g.Name)
		}
		// Its first revision: gateways of the new group get their (empty)
		// configuration and report ready.
		rev, err := release.Apply(c.ctx(), tx, release.Change{Groups: []string{g.Name},
			Audit: &release.AuditNote{Actor: c.user.Username, Action: "release.gateway_group", Resource: groupResource(g.Name),
				Detail: map[string]any{"created": true}}})
		if err != nil {
			return fmt.Errorf("create gateway group %q: %w", g.Name, err)
		}
		g.Revision = rev
		return c.auditChange(tx, "gateway_group.create", groupResource(g.Name), nil, g)
	})
	return g, err
}

func (c *call) patchGroup() (any, error) { return c.updateGroup(true) }
func (c *call) putGroup() (any, error)   { return c.updateGroup(false) }

// updateGroup changes a group; a new path_prefix changes every public URL
// of the group, so it bumps the group's revision and gateways reload. When
// services run there, their URLs move: that needs ?confirm=true, else the
// answer is 409 with the URLs that would change (release.Move).
func (c *call) updateGroup(patch bool) (any, error) {
	body, err := c.readBody()
	if err != nil {
		return nil, err
	}
	confirm, err := c.confirmed()
	if err != nil {
		return nil, err
	}
	var g spec.GatewayGroup
	err = c.tx(func(tx store.Tx) error {
		old, err := c.loadGroup(tx, c.path("g"))
		if err != nil {
			return err
		}
		if g, err = decodeUpdate(body, patch, old); err != nil {
			return err
		}
		g.Name, g.Revision, g.CreatedAt, g.UpdatedAt = old.Name, old.Revision, old.CreatedAt, c.s.now()
		if err := g.Validate(); err != nil {
			return err
		}
		before, err := tx.Snapshot(c.ctx(), []string{g.Name})
		if err != nil {
			return fmt.Errorf("update gateway group %q: %w", g.Name, err)
		}
		if err := tx.UpdateGroup(c.ctx(), &g); err != nil {
			return onConflict(err, "update gateway group %q", g.Name)
		}
		if g.PathPrefix != old.PathPrefix {
			what := fmt.Sprintf("changing the path_prefix of gateway group %q from %q to %q", g.Name, old.PathPrefix, g.PathPrefix)
			moved, err := release.Move(c.ctx(), tx, c.user.Username, what, before, confirm)
			if err != nil {
				return err
			}
			if len(moved) == 0 {
				// Nothing runs there: no service's release to record, but
				// gateways still reload the group with its new prefix.
				if _, err := release.Apply(c.ctx(), tx, release.Change{Groups: []string{g.Name},
					Audit: &release.AuditNote{Actor: c.user.Username, Action: "release.gateway_group", Resource: groupResource(g.Name),
						Detail: map[string]any{"path_prefix": g.PathPrefix, "from_path_prefix": old.PathPrefix}}}); err != nil {
					return fmt.Errorf("update gateway group %q: %w", g.Name, err)
				}
			}
			if g, err = tx.GetGroup(c.ctx(), g.Name); err != nil {
				return fmt.Errorf("update gateway group %q: %w", g.Name, err)
			}
		} else if g.TimeZone != old.TimeZone || g.PublicURL != old.PublicURL || g.TraceSampling() != old.TraceSampling() {
			// All are in the group's snapshot (the gateways count daily
			// and monthly plan quotas in its zone, sample traces at its
			// ratio): a new revision.
			if _, err := release.Apply(c.ctx(), tx, release.Change{Groups: []string{g.Name},
				Audit: &release.AuditNote{Actor: c.user.Username, Action: "release.gateway_group", Resource: groupResource(g.Name),
					Detail: map[string]any{"time_zone": g.TimeZone, "from_time_zone": old.TimeZone,
						"public_url": g.PublicURL, "from_public_url": old.PublicURL,
						"trace_sample_ratio": g.TraceSampleRatio, "from_trace_sample_ratio": old.TraceSampleRatio}}}); err != nil {
				return fmt.Errorf("update gateway group %q: %w", g.Name, err)
			}
			if g, err = tx.GetGroup(c.ctx(), g.Name); err != nil {
				return fmt.Errorf("update gateway group %q: %w", g.Name, err)
			}
		}
		return c.auditChange(tx, "gateway_group.update", groupResource(g.Name), old, g)
	})
	return g, err
}

func (c *call) deleteGroup() (any, error) {
	name := c.path("g")
	if name == spec.DefaultGroup {
		return nil, withDetail(store.ErrConflict, "gateway group %q cannot be deleted", name)
	}
	return nil, c.tx(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, name)
		if err != nil {
			return err
		}
		deps, err := tx.ListDeploymentsByGroup(c.ctx(), name)
		if err != nil {
			return fmt.Errorf("delete gateway group %q: %w", name, err)
		}
		if len(deps) > 0 {
			return withDetail(store.ErrConflict, "gateway group %q still runs %d service(s); take them off first", name, len(deps))
		}
		if err := c.groupUnused(tx, name); err != nil {
			return err
		}
		if err := tx.DeleteGroup(c.ctx(), name); err != nil {
			return onConflict(err, "gateway group %q is still in use", name)
		}
		return c.auditChange(tx, "gateway_group.delete", groupResource(name), g, nil)
	})
}

// groupUnused refuses to delete a group that a project names as its test
// or production stage: the project's lifecycle actions would have nowhere
// to go.
func (c *call) groupUnused(tx store.Tx, name string) error {
	projects, err := store.All(func(q store.ListQuery) ([]spec.Project, int, error) { return tx.ListProjects(c.ctx(), q) })
	if err != nil {
		return fmt.Errorf("delete gateway group %q: %w", name, err)
	}
	var users []string
	for _, p := range projects {
		if p.TestGroup == name || p.ProductionGroup == name {
			users = append(users, p.ID)
		}
	}
	if len(users) > 0 {
		return withDetail(store.ErrConflict, "gateway group %q is the test or production group of project(s) %q; change their test_group and production_group first", name, users)
	}
	return nil
}

// groupService is one service running in a gateway group.
type groupService struct {
	ProjectID   string        `json:"project_id"`
	ServiceID   string        `json:"service_id"`
	ServiceName string        `json:"service_name"`
	Version     string        `json:"version"`
	Upstream    spec.Upstream `json:"upstream"`
	UpdatedAt   time.Time     `json:"updated_at"`
	URLs        []string      `json:"urls"` // public paths of every route, group prefix included
	// VersionRouting, when set, runs other versions beside Version (the
	// default); Versions says how each is reached.
	VersionRouting *spec.VersionRouting `json:"version_routing,omitempty"`
	Versions       []groupVersion       `json:"versions,omitempty"`
}

// groupVersion is a version routed beside the default one, as the running
// list shows it: "header X-API-Version: v2", "query version=v2", "path
// segment v2"; the default's own entry says "default".
type groupVersion struct {
	Version  string `json:"version"`
	Selector string `json:"selector"`
}

// routedVersions lists how each version of a deployment is reached.
func routedVersions(d spec.Deployment) []groupVersion {
	vr := d.VersionRouting
	if vr == nil {
		return nil
	}
	how := func(m string) string {
		switch vr.By {
		case spec.VersionByHeader:
			return "header " + vr.Name + ": " + m
		case spec.VersionByQuery:
			return "query " + vr.Name + "=" + m
		}
		return "path segment " + m
	}
	def := "default"
	if vr.By != spec.VersionByPath {
		def += ", " + how(vr.DefaultMatchOf(d.Version))
	}
	out := []groupVersion{{Version: d.Version, Selector: def}}
	for _, v := range vr.Versions {
		if v.Version != d.Version {
			out = append(out, groupVersion{Version: v.Version, Selector: how(v.MatchOf())})
		}
	}
	return out
}

func (c *call) groupServices() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	name := c.path("g")
	var res listResult
	err = c.view(func(tx store.Tx) error {
		g, err := c.loadGroup(tx, name)
		if err != nil {
			return err
		}
		deps, err := tx.ListDeploymentsByGroup(c.ctx(), name)
		if err != nil {
			return fmt.Errorf("services of gateway group %q: %w", name, err)
		}
		all := make([]groupService, 0, len(deps))
		for _, d := range deps {
			v, err := tx.GetVersion(c.ctx(), d.ServiceID, d.Version)
			if err != nil {
				return fmt.Errorf("services of gateway group %q: version %s of %s: %w", name, d.Version, d.ServiceID, err)
			}
			urls := []string{}
			for i := range v.Service.Routes {
				urls = append(urls, spec.RoutePaths(g.PathPrefix, d.ProjectID, &v.Service, &v.Service.Routes[i])...)
			}
			all = append(all, groupService{ProjectID: d.ProjectID, ServiceID: d.ServiceID, ServiceName: v.Service.Name,
				Version: d.Version, Upstream: d.Upstream, UpdatedAt: d.UpdatedAt, URLs: urls,
				VersionRouting: d.VersionRouting, Versions: routedVersions(d)})
		}
		sort.Slice(all, func(i, j int) bool {
			if all[i].ProjectID != all[j].ProjectID {
				return all[i].ProjectID < all[j].ProjectID
			}
			return all[i].ServiceName < all[j].ServiceName
		})
		all = visibleProjects(c, all, func(s groupService) string { return s.ProjectID })
		items, total := pageOf(all, q, func(s groupService) string { return s.ServiceName })
		res = list(items, total)
		return nil
	})
	return res, err
}
