package adminapi

import (
	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// setVersionRouting runs other versions of the service beside the one a
// group runs, named by a header, query parameter or path segment (version
// routing); release.SetVersionRouting validates, records history and
// audit and ends in Commit.
func (c *call) setVersionRouting() (any, error) {
	var req release.VersionRoutingRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	for i := range req.Versions {
		clearServerSet(req.Versions[i].Upstream)
	}
	return c.release("version-routing", func(tx store.Tx, project, service string) (spec.Deployment, error) {
		return release.SetVersionRouting(c.ctx(), tx, c.user.Username, project, service, req)
	})
}

// deleteVersionRouting stops the versions running beside the group's own
// (?group=).
func (c *call) deleteVersionRouting() (any, error) {
	group := c.r.URL.Query().Get("group")
	if group == "" {
		return nil, fieldError("group", "is required: the gateway group whose other versions stop")
	}
	return c.release("version-routing", func(tx store.Tx, project, service string) (spec.Deployment, error) {
		return release.DeleteVersionRouting(c.ctx(), tx, c.user.Username, project, service, group)
	})
}
