package adminapi

import (
	"fmt"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// CanaryFigures reads the live per-side figures of a running canary from
// the gateways that run it (the embedded gateway's registry in `portico
// server`).
type CanaryFigures interface {
	CanaryFigures(id string) ([]spec.CanaryWindow, bool)
}

// canaryResponse is a task plus the group's config revision after the
// change (what gateways report once they applied it).
type canaryResponse struct {
	spec.Canary
	Revision int64 `json:"revision,omitempty"`
}

// withFigures fills a running task's live figures.
func (c *call) withFigures(t *spec.Canary) {
	if t.State != spec.CanaryRunning || c.s.figures == nil {
		return
	}
	if f, ok := c.s.figures.CanaryFigures(t.ID); ok {
		t.Figures = f
	}
}

// finalFigures are the figures a task keeps when it ends.
func (c *call) finalFigures(id string) []spec.CanaryWindow {
	if c.s.figures == nil {
		return nil
	}
	f, _ := c.s.figures.CanaryFigures(id)
	return f
}

// canaryAction runs one change of a canary task on the service of the path
// and answers the task with the group's new revision.
func (c *call) canaryAction(act func(tx store.Tx, project, service string) (spec.Canary, error)) (any, error) {
	p := c.path("p")
	var resp canaryResponse
	err := c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, p, c.path("s"))
		if err != nil {
			return err
		}
		t, err := act(tx, p, s.ID)
		if err != nil {
			return onNotFound(err, "canary %q of service %q not found", c.path("c"), s.Name)
		}
		// A canary moves traffic of its group: the group's stage decides
		// who may (checked inside the transaction, so a refusal undoes it).
		if err := c.requirePublishIn(tx, t.Group); err != nil {
			return err
		}
		g, err := tx.GetGroup(c.ctx(), t.Group)
		if err != nil {
			return fmt.Errorf("read group %q: %w", t.Group, err)
		}
		c.withFigures(&t)
		resp = canaryResponse{Canary: t, Revision: g.Revision}
		return nil
	})
	return resp, err
}

func (c *call) createCanary() (any, error) {
	var req release.CanaryCreate
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	clearServerSet(req.Target.Upstream)
	return c.canaryAction(func(tx store.Tx, project, service string) (spec.Canary, error) {
		return release.CreateCanary(c.ctx(), tx, c.user.Username, project, service, req)
	})
}

func (c *call) patchCanary() (any, error) {
	var req release.CanaryPatch
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return c.canaryAction(func(tx store.Tx, project, service string) (spec.Canary, error) {
		return release.UpdateCanary(c.ctx(), tx, c.user.Username, project, service, c.path("c"), req)
	})
}

func (c *call) cancelCanary() (any, error) {
	return c.canaryAction(func(tx store.Tx, project, service string) (spec.Canary, error) {
		return release.CancelCanary(c.ctx(), tx, c.user.Username, project, service, c.path("c"), "", c.finalFigures(c.path("c")))
	})
}

func (c *call) promoteCanary() (any, error) {
	var req release.CanaryPromote
	if c.r.ContentLength != 0 {
		if err := c.decode(&req); err != nil {
			return nil, err
		}
	}
	return c.canaryAction(func(tx store.Tx, project, service string) (spec.Canary, error) {
		return release.PromoteCanary(c.ctx(), tx, c.user.Username, project, service, c.path("c"), req, c.finalFigures(c.path("c")))
	})
}

// listCanaries answers the service's canary tasks, newest first, running
// ones with their live figures; ?group= and ?state= narrow the list.
func (c *call) listCanaries() (any, error) {
	q, err := c.listQuery()
	if err != nil {
		return nil, err
	}
	group, state := c.r.URL.Query().Get("group"), c.r.URL.Query().Get("state")
	switch state {
	case "", spec.CanaryRunning, spec.CanaryCancelled, spec.CanaryCompleted:
	default:
		return nil, fieldError("state", "must be running, cancelled or completed")
	}
	q.Q = ""
	var res listResult
	err = c.view(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		all, err := tx.ListCanaries(c.ctx(), s.ID, group)
		if err != nil {
			return err
		}
		var kept []spec.Canary
		for _, t := range all {
			if state == "" || t.State == state {
				kept = append(kept, t)
			}
		}
		page, total := pageOf(kept, q, func(spec.Canary) string { return "" })
		for i := range page {
			c.withFigures(&page[i])
		}
		res = list(page, total)
		return nil
	})
	return res, err
}

func (c *call) getCanary() (any, error) {
	var out spec.Canary
	err := c.view(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		t, err := tx.GetCanary(c.ctx(), s.ID, c.path("c"))
		if err != nil {
			return onNotFound(err, "canary %q of service %q not found", c.path("c"), s.Name)
		}
		c.withFigures(&t)
		out = t
		return nil
	})
	return out, err
}
