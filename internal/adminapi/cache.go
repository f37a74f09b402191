package adminapi

import (
	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/store"
)

// purgeCacheResponse is what a purge did, with how far the group's
// instances got (as a publish answers): once they serve the revision,
// none answers from what was purged.
type purgeCacheResponse struct {
	release.PurgeCacheResult
	Convergence convergence `json:"convergence"`
}

// purgeCache empties a service's proxy-cache in one gateway group, whole
// or by key. A purge is a release (release.PurgeCache): it needs the
// permission to publish into the group's stage, as every other change of
// what the group's gateways serve does.
func (c *call) purgeCache() (any, error) {
	var req release.PurgeCacheRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	wait, err := c.waitParam()
	if err != nil {
		return nil, err
	}
	p := c.path("p")
	var resp purgeCacheResponse
	err = c.tx(func(tx store.Tx) error {
		s, err := c.loadService(tx, p, c.path("s"))
		if err != nil {
			return err
		}
		if req.Group != "" {
			if err := c.requirePublishIn(tx, req.Group); err != nil {
				return err
			}
		}
		resp.PurgeCacheResult, err = release.PurgeCache(c.ctx(), tx, c.user.Username, p, s.ID, req)
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
