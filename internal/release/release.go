// Package release changes what gateway groups run: publish, rollback (and,
// later, sync, lifecycle actions and canaries). Every change ends in Commit,
// which validates the resulting snapshot with the gateway's own compiler,
// bumps the groups' revision and records history and audit, inside the
// caller's transaction.
package release

import (
	"context"
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// ErrState is returned (wrapped) when the service's state does not allow an action.
var ErrState = errors.New("action not allowed in this state")

// PublishRequest is the body of POST …/publish.
type PublishRequest struct {
	Group    string         `json:"group"`
	Version  string         `json:"version"`
	Upstream *spec.Upstream `json:"upstream,omitempty"` // nodes for this group; else the service's upstream
	// DataSources maps a data source of the service's sql routes to the
	// group's own ({source: target}, ids or names); left out: the group's
	// map stays as it is (datasources.go).
	DataSources map[string]string `json:"data_sources,omitempty"`
}

// RollbackRequest is the body of POST …/rollback.
type RollbackRequest struct {
	Group   string `json:"group"`
	Version string `json:"version"`
}

// Publish snapshots the service template as a new immutable version and runs
// it in req.Group with req.Upstream (or the template's upstream). A version
// string the service already has is store.ErrConflict. Invalid input is
// spec.FieldErrors. Runs inside tx; the caller commits.
// The service's lifecycle state then says where it runs (Settle).
func Publish(ctx context.Context, tx store.Tx, actor, project, service string, req PublishRequest) (spec.Deployment, error) {
	d, err := publish(ctx, tx, actor, project, service, req, spec.HistoryEvent{Action: "publish"})
	if err != nil {
		return d, err
	}
	return d, settleService(ctx, tx, project, d.ServiceID)
}

// publish is Publish recorded as the action and with the detail of ev (a
// lifecycle submit is a publish to the project's test group).
func publish(ctx context.Context, tx store.Tx, actor, project, service string, req PublishRequest, ev spec.HistoryEvent) (spec.Deployment, error) {
	var fe spec.FieldErrors
	if req.Group == "" {
		fe.Add("group", "is required")
	} else if !spec.ValidSlug(req.Group) {
		fe.Add("group", "is not a valid gateway group name")
	}
	if req.Version == "" {
		fe.Add("version", "is required")
	} else if !spec.ValidVersion(req.Version) {
		fe.Add("version", "must start with a letter or digit and hold only letters, digits, '.', '_', '+' or '-' (at most 64)")
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
	if err := requireGroup(ctx, tx, req.Group); err != nil {
		return spec.Deployment{}, err
	}
	// Immutability is the first answer a repeated version gets, whatever
	// else is wrong with the request.
	if _, err := tx.GetVersion(ctx, svc.ID, req.Version); err == nil {
		return spec.Deployment{}, errVersionExists(svc.Name, req.Version)
	} else if !errors.Is(err, store.ErrNotFound) {
		return spec.Deployment{}, fmt.Errorf("version %s@%s: %w", svc.Name, req.Version, err)
	}
	routes, err := tx.ListRoutes(ctx, svc.ID)
	if err != nil {
		return spec.Deployment{}, fmt.Errorf("routes of %s: %w", svc.Name, err)
	}
	prev, err := tx.GetDeployment(ctx, req.Group, svc.ID)
	running := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return spec.Deployment{}, fmt.Errorf("deployment of %s in %s: %w", svc.Name, req.Group, err)
	}
	up, err := resolveUpstream(ctx, tx, &svc, req.Upstream, prev, running)
	if err != nil {
		return spec.Deployment{}, err
	}
	if running && switchesKind(prev.Upstream, up) {
		return spec.Deployment{}, fmt.Errorf("service %q runs in %q with %s: switching between nodes and service discovery is done through a canary release, not a publish: %w",
			svc.Name, req.Group, upstreamKind(prev.Upstream), store.ErrConflict)
	}

	frozen := svc
	frozen.Routes = routes
	v := spec.Version{ProjectID: project, ServiceID: svc.ID, Version: req.Version, Service: frozen, CreatedBy: actor}
	if err := tx.CreateVersion(ctx, &v); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return spec.Deployment{}, errVersionExists(svc.Name, req.Version)
		}
		return spec.Deployment{}, fmt.Errorf("create version %s@%s: %w", svc.Name, req.Version, err)
	}
	d := spec.Deployment{Group: req.Group, ProjectID: project, ServiceID: svc.ID, Version: req.Version, Upstream: up}
	if err := tx.PutDeployment(ctx, &d); err != nil {
		return spec.Deployment{}, fmt.Errorf("deploy %s@%s to %s: %w", svc.Name, req.Version, req.Group, err)
	}
	if err := mapDataSources(ctx, tx, project, req.Group, svc.ID, req.DataSources); err != nil {
		return spec.Deployment{}, err
	}
	ev.ProjectID, ev.ServiceID, ev.Group, ev.Version, ev.Actor = project, svc.ID, req.Group, req.Version, actor
	if running {
		ev.FromVersion = prev.Version
	}
	if _, err := Commit(ctx, tx, ev); err != nil {
		return spec.Deployment{}, fmt.Errorf("publish %s@%s to %s: %w", svc.Name, req.Version, req.Group, err)
	}
	return tx.GetDeployment(ctx, req.Group, svc.ID)
}

// Rollback runs an earlier version of the service in the group, with the
// upstream the group runs now.
func Rollback(ctx context.Context, tx store.Tx, actor, project, service string, req RollbackRequest) (spec.Deployment, error) {
	var fe spec.FieldErrors
	if req.Group == "" {
		fe.Add("group", "is required")
	}
	if req.Version == "" {
		fe.Add("version", "is required")
	}
	if err := fe.Err(); err != nil {
		return spec.Deployment{}, err
	}
	svc, err := tx.GetService(ctx, project, service)
	if err != nil {
		return spec.Deployment{}, fmt.Errorf("service %q in project %q: %w", service, project, err)
	}
	if err := requireGroup(ctx, tx, req.Group); err != nil {
		return spec.Deployment{}, err
	}
	if _, err := tx.GetVersion(ctx, svc.ID, req.Version); err != nil {
		return spec.Deployment{}, fmt.Errorf("version %q of service %q: %w", req.Version, svc.Name, err)
	}
	d, err := tx.GetDeployment(ctx, req.Group, svc.ID)
	if errors.Is(err, store.ErrNotFound) {
		return spec.Deployment{}, fmt.Errorf("service %q does not run in group %q; publish it there first: %w", svc.Name, req.Group, store.ErrConflict)
	}
	if err != nil {
		return spec.Deployment{}, fmt.Errorf("deployment of %s in %s: %w", svc.Name, req.Group, err)
	}
	if d.Version == req.Version {
		return spec.Deployment{}, fmt.Errorf("service %q already runs version %q in group %q: %w", svc.Name, req.Version, req.Group, store.ErrConflict)
	}
	from := d.Version
	d.Version = req.Version
	if err := tx.PutDeployment(ctx, &d); err != nil {
		return spec.Deployment{}, fmt.Errorf("roll %s back to %s in %s: %w", svc.Name, req.Version, req.Group, err)
	}
	ev := spec.HistoryEvent{ProjectID: project, ServiceID: svc.ID, Group: req.Group, Action: "rollback", Version: req.Version, FromVersion: from, Actor: actor}
	if _, err := Commit(ctx, tx, ev); err != nil {
		return spec.Deployment{}, fmt.Errorf("roll %s back to %s in %s: %w", svc.Name, req.Version, req.Group, err)
	}
	return tx.GetDeployment(ctx, req.Group, svc.ID)
}

func requireGroup(ctx context.Context, tx store.Tx, group string) error {
	_, err := tx.GetGroup(ctx, group)
	if errors.Is(err, store.ErrNotFound) {
		return spec.FieldErrors{{Field: "group", Message: fmt.Sprintf("gateway group %q does not exist", group)}}
	}
	if err != nil {
		return fmt.Errorf("gateway group %q: %w", group, err)
	}
	return nil
}

// resolveUpstream picks the upstream a publish runs with: the one in the
// request, else the template's (inline or referenced), else the one the
// group runs now.
func resolveUpstream(ctx context.Context, tx store.Tx, svc *spec.Service, given *spec.Upstream, prev spec.Deployment, running bool) (spec.Upstream, error) {
	var up spec.Upstream
	field := "upstream."
	switch {
	case given != nil:
		up = *given
	case svc.Upstream != nil:
		up = *svc.Upstream
	case svc.UpstreamID != "":
		ref, err := tx.GetUpstream(ctx, svc.ProjectID, svc.UpstreamID)
		if err != nil {
			return up, fmt.Errorf("upstream %q of service %q: %w", svc.UpstreamID, svc.Name, err)
		}
		up = ref
	case running:
		up = prev.Upstream
	}
	if noUpstream(up) && answersItself(ctx, tx, svc) {
		return spec.Upstream{}, nil // every route answers without one
	}
	if err := up.RequireNodes(field).Err(); err != nil {
		return up, err
	}
	up.ID, up.ProjectID = "", ""
	up.CreatedAt, up.UpdatedAt = spec.Upstream{}.CreatedAt, spec.Upstream{}.UpdatedAt
	return up, nil
}

func upstreamKind(u spec.Upstream) string {
	if u.Discovery != nil {
		return "service discovery"
	}
	return "nodes"
}

func errVersionExists(service, version string) error {
	return fmt.Errorf("service %q already has version %q and versions are immutable; publish a new version string or roll back to it: %w", service, version, store.ErrConflict)
}
