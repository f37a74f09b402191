package adminapi

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/portico-gw/portico/internal/manifest"
	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// syncResponse answers POST …/sync: the deployment, and what changed in
// to_group field by field (what it ran before against what it runs now:
// version, template, upstream). With ?dry_run=true nothing is applied and
// the deployment and changes are what the sync would make.
type syncResponse struct {
	publishResponse
	Changes []spec.FieldChange `json:"changes"`
	Applied bool               `json:"applied"`
}

// syncVersion runs the version a service runs in from_group in to_group too
// (sync between groups); release.Sync validates, records history and audit and ends
// in release.Commit, inside this request's transaction. A dry run makes
// the same checks and writes and rolls them back.
func (c *call) syncVersion() (any, error) {
	dryRun, err := boolParam(c.r.URL.Query().Get("dry_run"), "dry_run")
	if err != nil {
		return nil, err
	}
	var req release.SyncRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	clearServerSet(req.Upstream)
	var changes []spec.FieldChange
	var preview publishResponse
	ans, err := c.release("sync", func(tx store.Tx, project, service string) (spec.Deployment, error) {
		before, err := c.deployed(tx, req.ToGroup, service)
		if err != nil {
			return spec.Deployment{}, err
		}
		d, err := release.Sync(c.ctx(), tx, c.user.Username, project, service, req)
		if err != nil {
			return d, err
		}
		after, err := c.deployed(tx, req.ToGroup, service)
		if err != nil {
			return d, err
		}
		changes = manifest.DiffService(before, after)
		if !dryRun {
			return d, nil
		}
		// What c.release checks after the change, checked here, for the
		// dry run ends before: its error rolls the transaction back.
		if err := c.requirePublishIn(tx, d.Group); err != nil {
			return d, err
		}
		preview.Deployment = d
		return d, errDryRun
	})
	if dryRun && errors.Is(err, errDryRun) {
		// The revision the group still serves: nothing was applied.
		err = c.view(func(tx store.Tx) error {
			g, err := tx.GetGroup(c.ctx(), preview.Group)
			preview.Revision = g.Revision
			return err
		})
		return syncResponse{publishResponse: preview, Changes: changes}, err
	}
	if err != nil {
		return nil, err
	}
	res, ok := ans.(publishResponse)
	if !ok {
		return nil, fmt.Errorf("sync answered %T", ans)
	}
	return syncResponse{publishResponse: res, Changes: changes, Applied: true}, nil
}

// deployed is what a gateway group runs of a service as the field-level
// diff compares it (manifest.Deployed), nil when it runs none.
func (c *call) deployed(tx store.Tx, group, serviceID string) (map[string]any, error) {
	d, err := tx.GetDeployment(c.ctx(), group, serviceID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("deployment of %s in %s: %w", serviceID, group, err)
	}
	v, err := tx.GetVersion(c.ctx(), serviceID, d.Version)
	if err != nil {
		return nil, fmt.Errorf("version %s@%s: %w", serviceID, d.Version, err)
	}
	return manifest.Deployed(&v, d.Upstream), nil
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
	// Dependencies are the composite APIs' calls a 409 would break
	// (release.DependencyError; dependencies.go).
	Dependencies []release.Dependency `json:"dependencies,omitempty"`
}

// extend fills the extension members an error carries.
func (p *problem) extend(err error) {
	if ce, ok := errors.AsType[*release.ConflictError](err); ok {
		p.Conflicts = ce.Conflicts
	}
	if me, ok := errors.AsType[*release.MoveError](err); ok {
		p.Changes = me.Changes
	}
	if de, ok := errors.AsType[*release.DependencyError](err); ok {
		p.Dependencies = de.Dependencies
	}
}

// allGroups names every gateway group.
func (c *call) allGroups(tx store.Tx) ([]string, error) {
	return release.GroupNames(c.ctx(), tx)
}
