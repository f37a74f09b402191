package release

import (
	"context"
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// SyncRequest is the body of POST …/sync (sync between groups).
type SyncRequest struct {
	FromGroup string `json:"from_group"`
	ToGroup   string `json:"to_group"`
	// Version, when given, must be the version running in FromGroup: only
	// the running version can be synced.
	Version string `json:"version,omitempty"`
	// Upstream is what the version runs with in ToGroup (nodes or
	// discovery). Left out: the upstream ToGroup runs the service with now,
	// else the version's own (inline or referenced), else FromGroup's.
	Upstream *spec.Upstream `json:"upstream,omitempty"`
	// DataSources maps data sources to ToGroup's own, as in PublishRequest.
	DataSources map[string]string `json:"data_sources,omitempty"`
}

// Sync runs the version a service runs in req.FromGroup in req.ToGroup too,
// keeping its version string (no new version is made), with the upstream
// the request gives for the target. A service not running in FromGroup, or
// a Version that is not the running one, is store.ErrConflict; invalid
// input is spec.FieldErrors. Runs inside tx and ends in Commit.
func Sync(ctx context.Context, tx store.Tx, actor, project, service string, req SyncRequest) (spec.Deployment, error) {
	var fe spec.FieldErrors
	for _, f := range []struct{ name, v string }{{"from_group", req.FromGroup}, {"to_group", req.ToGroup}} {
		if f.v == "" {
			fe.Add(f.name, "is required")
		} else if !spec.ValidSlug(f.v) {
			fe.Add(f.name, "is not a valid gateway group name")
		}
	}
	if req.FromGroup != "" && req.FromGroup == req.ToGroup {
		fe.Add("to_group", "must differ from from_group: a version is synced from one gateway group to another")
	}
	if req.Upstream != nil {
		fe = append(fe, req.Upstream.Validate("upstream.")...)
	}
	if err := fe.Err(); err != nil {
		return spec.Deployment{}, err
	}
	svc, err := tx.GetService(ctx, project, service)
	if err != nil {
		return spec.Deployment{}, fmt.Errorf("service %q in project %q: %w", service, project, err)
	}
	if err := requireGroupField(ctx, tx, "from_group", req.FromGroup); err != nil {
		return spec.Deployment{}, err
	}
	if err := requireGroupField(ctx, tx, "to_group", req.ToGroup); err != nil {
		return spec.Deployment{}, err
	}
	src, err := tx.GetDeployment(ctx, req.FromGroup, svc.ID)
	if errors.Is(err, store.ErrNotFound) {
		return spec.Deployment{}, fmt.Errorf("service %q runs no version in gateway group %q, so there is nothing to sync; publish it there first: %w",
			svc.Name, req.FromGroup, store.ErrConflict)
	}
	if err != nil {
		return spec.Deployment{}, fmt.Errorf("deployment of %s in %s: %w", svc.Name, req.FromGroup, err)
	}
	if req.Version != "" && req.Version != src.Version {
		return spec.Deployment{}, fmt.Errorf("only the running version can be synced: service %q runs version %q in gateway group %q, not %q; publish or roll back instead: %w",
			svc.Name, src.Version, req.FromGroup, req.Version, store.ErrConflict)
	}
	v, err := tx.GetVersion(ctx, svc.ID, src.Version)
	if err != nil {
		return spec.Deployment{}, fmt.Errorf("version %s@%s: %w", svc.Name, src.Version, err)
	}
	prev, err := tx.GetDeployment(ctx, req.ToGroup, svc.ID)
	running := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return spec.Deployment{}, fmt.Errorf("deployment of %s in %s: %w", svc.Name, req.ToGroup, err)
	}
	var up spec.Upstream
	switch {
	case req.Upstream != nil || running:
		up, err = resolveUpstream(ctx, tx, &spec.Service{Name: svc.Name}, req.Upstream, prev, running)
	case v.Service.Upstream != nil || v.Service.UpstreamID != "":
		up, err = resolveUpstream(ctx, tx, &v.Service, nil, prev, false)
	default:
		up, err = resolveUpstream(ctx, tx, &spec.Service{Name: svc.Name}, nil, src, true)
	}
	if err != nil {
		return spec.Deployment{}, err
	}
	if running && switchesKind(prev.Upstream, up) {
		return spec.Deployment{}, fmt.Errorf("service %q runs in %q with %s: switching between nodes and service discovery is done through a canary release, not a sync: %w",
			svc.Name, req.ToGroup, upstreamKind(prev.Upstream), store.ErrConflict)
	}
	d := spec.Deployment{Group: req.ToGroup, ProjectID: project, ServiceID: svc.ID, Version: src.Version, Upstream: up}
	if err := tx.PutDeployment(ctx, &d); err != nil {
		return spec.Deployment{}, fmt.Errorf("sync %s@%s to %s: %w", svc.Name, src.Version, req.ToGroup, err)
	}
	if err := mapDataSources(ctx, tx, project, req.ToGroup, svc.ID, req.DataSources); err != nil {
		return spec.Deployment{}, err
	}
	ev := spec.HistoryEvent{ProjectID: project, ServiceID: svc.ID, Group: req.ToGroup, Action: "sync", Version: src.Version,
		Actor: actor, Detail: fmt.Sprintf("synced from gateway group %s (version %s)", req.FromGroup, src.Version)}
	if running {
		ev.FromVersion = prev.Version
	}
	if _, err := Commit(ctx, tx, ev); err != nil {
		return spec.Deployment{}, fmt.Errorf("sync %s@%s from %s to %s: %w", svc.Name, src.Version, req.FromGroup, req.ToGroup, err)
	}
	if _, err := Settle(ctx, tx, &svc); err != nil {
		return spec.Deployment{}, err
	}
	return tx.GetDeployment(ctx, req.ToGroup, svc.ID)
}

// requireGroupField is requireGroup naming the request field.
func requireGroupField(ctx context.Context, tx store.Tx, field, group string) error {
	_, err := tx.GetGroup(ctx, group)
	if errors.Is(err, store.ErrNotFound) {
		return spec.FieldErrors{{Field: field, Message: fmt.Sprintf("gateway group %q does not exist", group)}}
	}
	if err != nil {
		return fmt.Errorf("gateway group %q: %w", group, err)
	}
	return nil
}
