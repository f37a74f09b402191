package adminapi

import (
	"bytes"
	"fmt"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// promoteRequest is the optional body of publish and republish: the
// upstream production runs the promoted version with.
type promoteRequest struct {
	Upstream *spec.Upstream `json:"upstream,omitempty"`
	// DataSources maps data sources to production's own.
	DataSources map[string]string `json:"data_sources,omitempty"`
}

// lifecycleAction is the handler of POST …/actions/{action}: one store
// transaction in which release.Act checks the state table and ends every
// change in release.Commit. The body is optional; submit takes
// {version, upstream}, publish and republish {upstream}, the others {}.
func lifecycleAction(action string) func(*call) (any, error) {
	return func(c *call) (any, error) {
		body, err := c.readBody()
		if err != nil {
			return nil, err
		}
		var req release.ActionRequest
		if len(bytes.TrimSpace(body)) > 0 {
			switch action {
			case release.ActionSubmit:
				err = strictDecode(body, &req)
			case release.ActionPublish, release.ActionRepublish:
				var pr promoteRequest
				err = strictDecode(body, &pr)
				req.Upstream, req.DataSources = pr.Upstream, pr.DataSources
			default:
				var none struct{}
				err = strictDecode(body, &none)
			}
			if err != nil {
				return nil, err
			}
		}
		clearServerSet(req.Upstream)
		p := c.path("p")
		var res release.ActionResult
		err = c.tx(func(tx store.Tx) error {
			s, err := c.loadService(tx, p, c.path("s"))
			if err != nil {
				return err
			}
			if err := c.requireLifecycle(tx, action); err != nil {
				return err
			}
			if res, err = release.Act(c.ctx(), tx, c.user.Username, p, s.ID, action, req); err != nil {
				return err
			}
			if action == release.ActionPublish || action == release.ActionRepublish {
				return c.followProduction(tx, p, s.ID, res.Version)
			}
			return nil
		})
		return res, err
	}
}

// requireLifecycle checks the group permissions a lifecycle action needs
// in the project of the path: submit and withdraw change the test group;
// publish, republish, disable and enable the production group (disable
// and enable the test group too).
func (c *call) requireLifecycle(tx store.Tx, action string) error {
	p, err := c.loadProject(tx, c.path("p"))
	if err != nil {
		return err
	}
	groups := []string{p.ProductionGroup}
	switch action {
	case release.ActionSubmit, release.ActionWithdraw:
		groups = []string{p.TestGroup}
	case release.ActionDisable, release.ActionEnable:
		groups = append(groups, p.TestGroup)
	}
	for _, g := range groups {
		if err := c.requirePublish(p, g); err != nil {
			return err
		}
	}
	return nil
}

// withActions fills what the service's lifecycle state allows.
func withActions(s *spec.Service) {
	s.AllowedActions = release.AllowedActions(release.State(s))
}

// checkEdit refuses a change of the template (the service or its routes)
// when the state does not allow edit: a 409 naming the state.
func checkEdit(s *spec.Service) error { return release.CheckAction(s, release.ActionEdit) }

// groupHistory lists every release event of a gateway group, newest first;
// q matches the action, the version or the service id.
func (c *call) groupHistory() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	name := c.path("g")
	var res listResult
	err = c.view(func(tx store.Tx) error {
		if _, err := c.loadGroup(tx, name); err != nil {
			return err
		}
		items, total, err := tx.ListGroupHistory(c.ctx(), name, q)
		if err != nil {
			return fmt.Errorf("history of gateway group %q: %w", name, err)
		}
		if !c.isAdmin() {
			// The events of projects the caller may not see are left out
			// before paging, so that totals and pages tell nothing of them.
			all, err := store.All(func(all store.ListQuery) ([]spec.HistoryEvent, int, error) {
				all.Q = q.Q
				return tx.ListGroupHistory(c.ctx(), name, all)
			})
			if err != nil {
				return fmt.Errorf("history of gateway group %q: %w", name, err)
			}
			all = visibleProjects(c, all, func(e spec.HistoryEvent) string { return e.ProjectID })
			items, total = pageOf(all, store.ListQuery{Page: q.Page, PageSize: q.PageSize}, func(spec.HistoryEvent) string { return "" })
		}
		entries, err := c.withConvergence(tx, items)
		res = list(entries, total)
		return err
	})
	return res, err
}
