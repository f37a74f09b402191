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
	res, conv, err := changeInGroup(c, req.Group, func(tx store.Tx, project, service string) (release.PurgeCacheResult, error) {
		return release.PurgeCache(c.ctx(), tx, c.user.Username, project, service, req)
	}, func(r release.PurgeCacheResult) int64 { return r.Revision })
	if err != nil {
		return nil, err
	}
	return purgeCacheResponse{PurgeCacheResult: res, Convergence: conv}, nil
}
