package adminapi

import (
	"fmt"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// unpublishResponse is what an unpublish did, with how far the group's
// instances got (as a publish answers).
type unpublishResponse struct {
	release.UnpublishResult
	Convergence convergence `json:"convergence"`
}

// unpublish takes a service off one gateway group (下线): whatever brought
// it there, the group stops answering it, the history records it, and the
// service's state then says where it still runs. It needs the permission
// to publish into that group's stage.
func (c *call) unpublish() (any, error) {
	var req release.UnpublishRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	wait, err := c.waitParam()
	if err != nil {
		return nil, err
	}
	p := c.path("p")
	var resp unpublishResponse
	err = c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, p, c.path("s"))
		if err != nil {
			return err
		}
		// Checked before anything changes, on the group named; the
		// release package checks that the group exists.
		if err := c.requirePublishIn(tx, req.Group); err != nil {
			return err
		}
		resp.UnpublishResult, err = release.Unpublish(c.ctx(), tx, c.user.Username, p, s.ID, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	if resp.Convergence, err = c.converge(resp.Group, resp.Revision, wait); err != nil {
		c.s.log.Warn("could not count a change's convergence", "group", resp.Group, "revision", resp.Revision, "err", err)
		resp.Convergence = convergence{Revision: resp.Revision, Summary: "unknown: the instances could not be read"}
	}
	return resp, nil
}

// withRunning fills where the service runs (spec.Placement), as every
// answer holding a service shows it.
func (c *call) withRunning(tx store.Tx, s *spec.Service) error {
	ps, err := release.Placements(c.ctx(), tx, s)
	if err != nil {
		return fmt.Errorf("where service %q runs: %w", s.Name, err)
	}
	s.Running = ps
	return nil
}
