package adminapi

import (
	"errors"
	"strconv"

	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// syncVersion runs the version a service runs in from_group in to_group too
// (sync between groups); release.Sync validates, records history and audit and ends
// in release.Commit, inside this request's transaction.
func (c *call) syncVersion() (any, error) {
	var req release.SyncRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	clearServerSet(req.Upstream)
	return c.release("sync", func(tx store.Tx, project, service string) (spec.Deployment, error) {
		return release.Sync(c.ctx(), tx, c.user.Username, project, service, req)
	})
}

// confirmed reads ?confirm=: a change that moves the URLs of running
// services needs confirm=true.
func (c *call) confirmed() (bool, error) {
	v := c.r.URL.Query().Get("confirm")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fieldError("confirm", "must be true or false")
	}
	return b, nil
}

// problemExtensions are the members a 409 adds for clients to act on: the
// route collisions of a release and the URLs a path change would move.
type problemExtensions struct {
	Conflicts []release.Conflict  `json:"conflicts,omitempty"`
	Changes   []release.URLChange `json:"changes,omitempty"`
}

// extend fills the extension members an error carries.
func (p *problem) extend(err error) {
	if ce, ok := errors.AsType[*release.ConflictError](err); ok {
		p.Conflicts = ce.Conflicts
	}
	if me, ok := errors.AsType[*release.MoveError](err); ok {
		p.Changes = me.Changes
	}
}

// allGroups names every gateway group.
func (c *call) allGroups(tx store.Tx) ([]string, error) {
	return release.GroupNames(c.ctx(), tx)
}
