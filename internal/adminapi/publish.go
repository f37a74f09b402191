package adminapi

import (
	"fmt"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// publishResponse is the deployment a publish made plus the group's new
// config revision (what gateways report once they applied it).
type publishResponse struct {
	spec.Deployment
	Revision    int64       `json:"revision"`
	Convergence convergence `json:"convergence"`
	// State is the service's lifecycle state after the change, and
	// Running where it runs now: a publish straight to production makes
	// a published service, not a draft serving traffic.
	State   string           `json:"state"`
	Running []spec.Placement `json:"running"`
}

// versionInfo is a version plus the gateway groups it runs in now.
type versionInfo struct {
	spec.Version
	Groups []string `json:"groups"`
}

// publish and rollback leave validation, history and audit to the release
// package, which runs inside this request's transaction.
func (c *call) publish() (any, error) {
	var req release.PublishRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	clearServerSet(req.Upstream)
	return c.release("publish", func(tx store.Tx, project, service string) (spec.Deployment, error) {
		return release.Publish(c.ctx(), tx, c.user.Username, project, service, req)
	})
}

func (c *call) rollback() (any, error) {
	var req release.RollbackRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return c.release("rollback", func(tx store.Tx, project, service string) (spec.Deployment, error) {
		return release.Rollback(c.ctx(), tx, c.user.Username, project, service, req)
	})
}

// release runs one release action on the service of the path and answers
// the deployment with the group's new revision.
func (c *call) release(action string, act func(tx store.Tx, project, service string) (spec.Deployment, error)) (any, error) {
	p := c.path("p")
	wait, err := c.waitParam()
	if err != nil {
		return nil, err
	}
	var resp publishResponse
	err = c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, p, c.path("s"))
		if err != nil {
			return err
		}
		d, err := act(tx, p, s.ID)
		if err != nil {
			return err
		}
		// Checked on the group the action changed, inside its transaction:
		// a refusal rolls everything back.
		if err := c.requirePublishIn(tx, d.Group); err != nil {
			return err
		}
		g, err := tx.GetGroup(c.ctx(), d.Group)
		if err != nil {
			return fmt.Errorf("%s: read group %q: %w", action, d.Group, err)
		}
		resp = publishResponse{Deployment: d, Revision: g.Revision}
		if s, err = tx.GetService(c.ctx(), p, s.ID); err != nil {
			return fmt.Errorf("%s: read service back: %w", action, err)
		}
		resp.State = release.State(&s)
		resp.Running, err = release.Placements(c.ctx(), tx, &s)
		return err
	})
	if err != nil {
		return nil, err
	}
	resp.Convergence = c.committedConvergence(resp.Group, resp.Revision, wait)
	return resp, nil
}

// runningGroups maps each version of a service to the groups running it.
func (c *call) runningGroups(tx store.Tx, serviceID string) (map[string][]string, error) {
	deps, err := tx.ListDeploymentsByService(c.ctx(), serviceID)
	if err != nil {
		return nil, fmt.Errorf("deployments of %s: %w", serviceID, err)
	}
	m := map[string][]string{}
	for _, d := range deps {
		m[d.Version] = append(m[d.Version], d.Group)
	}
	return m, nil
}

func withGroups(v spec.Version, running map[string][]string) versionInfo {
	g := running[v.Version]
	if g == nil {
		g = []string{}
	}
	return versionInfo{Version: v, Groups: g}
}

func (c *call) listVersions() (any, error) {
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
		vs, err := tx.ListVersions(c.ctx(), s.ID)
		if err != nil {
			return fmt.Errorf("versions of %q: %w", s.Name, err)
		}
		running, err := c.runningGroups(tx, s.ID)
		if err != nil {
			return err
		}
		page, total := pageOf(vs, q, func(v spec.Version) string { return v.Version })
		items := make([]versionInfo, len(page))
		for i, v := range page {
			items[i] = withGroups(v, running)
		}
		res = list(items, total)
		return nil
	})
	return res, err
}

func (c *call) getVersion() (any, error) {
	var out versionInfo
	err := c.view(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		v, err := tx.GetVersion(c.ctx(), s.ID, c.path("v"))
		if err != nil {
			return onNotFound(err, "version %q of service %q not found", c.path("v"), s.Name)
		}
		running, err := c.runningGroups(tx, s.ID)
		if err != nil {
			return err
		}
		out = withGroups(v, running)
		return nil
	})
	return out, err
}

// history lists the service's release history; ?group= narrows it to one
// gateway group (filtered here: the store pages by service only).
func (c *call) history() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	group := c.r.URL.Query().Get("group")
	q.Q = ""
	var res listResult
	err = c.view(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		if group == "" {
			items, total, err := tx.ListHistory(c.ctx(), s.ID, q)
			if err != nil {
				return fmt.Errorf("history of %q: %w", s.Name, err)
			}
			entries, err := c.withConvergence(tx, items)
			res = list(entries, total)
			return err
		}
		var all []spec.HistoryEvent
		for page := 1; ; page++ {
			items, total, err := tx.ListHistory(c.ctx(), s.ID, store.ListQuery{Page: page, PageSize: 500})
			if err != nil {
				return fmt.Errorf("history of %q: %w", s.Name, err)
			}
			for _, e := range items {
				if e.Group == group {
					all = append(all, e)
				}
			}
			if len(items) == 0 || page*500 >= total {
				break
			}
		}
		items, total := pageOf(all, q, func(spec.HistoryEvent) string { return "" })
		entries, err := c.withConvergence(tx, items)
		res = list(entries, total)
		return err
	})
	return res, err
}
