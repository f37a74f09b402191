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
	res, conv, err := changeInGroup(c, req.Group, func(tx store.Tx, project, service string) (release.UnpublishResult, error) {
		return release.Unpublish(c.ctx(), tx, c.user.Username, project, service, req)
	}, func(r release.UnpublishResult) int64 { return r.Revision })
	if err != nil {
		return nil, err
	}
	return unpublishResponse{UnpublishResult: res, Convergence: conv}, nil
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
