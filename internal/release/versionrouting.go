package release

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// VersionRoutingRequest is the body of PUT …/version-routing: the group
// and how its deployment of the service runs other versions beside its
// own.
type VersionRoutingRequest struct {
	Group string `json:"group"`
	spec.VersionRouting
}

// SetVersionRouting makes the deployment of the service in req.Group run
// req.Versions beside its own version (the default), named by a header, a
// query parameter or a path segment. The service must run in the group
// and each version must exist; the change is one revision and a line in
// the group's history ("version-routing"). A later publish, sync or
// rollback keeps the routing (a routed version that becomes the default
// is served as the default). A running canary holds the service.
func SetVersionRouting(ctx context.Context, tx store.Tx, actor, project, service string, req VersionRoutingRequest) (spec.Deployment, error) {
	d, svc, err := routedDeployment(ctx, tx, project, service, req.Group)
	if err != nil {
		return spec.Deployment{}, err
	}
	vr := req.VersionRouting
	if err := vr.Validate("", d.Version).Err(); err != nil {
		return spec.Deployment{}, err
	}
	var fe spec.FieldErrors
	for i, v := range vr.Versions {
		if _, err := tx.GetVersion(ctx, svc.ID, v.Version); errors.Is(err, store.ErrNotFound) {
			fe.Add(fmt.Sprintf("versions[%d].version", i), "service %q has no version %q", svc.Name, v.Version)
		} else if err != nil {
			return spec.Deployment{}, fmt.Errorf("version %s@%s: %w", svc.Name, v.Version, err)
		}
	}
	if err := fe.Err(); err != nil {
		return spec.Deployment{}, err
	}
	if err := tx.SetVersionRouting(ctx, req.Group, svc.ID, &vr); err != nil {
		return spec.Deployment{}, err
	}
	names := make([]string, len(vr.Versions))
	for i, v := range vr.Versions {
		names[i] = v.Version + "=" + v.MatchOf()
	}
	how := vr.By
	if vr.Name != "" {
		how += " " + vr.Name
	}
	ev := spec.HistoryEvent{ProjectID: project, ServiceID: svc.ID, Group: req.Group, Action: "version-routing",
		Version: d.Version, FromVersion: d.Version, Actor: actor,
		Detail: fmt.Sprintf("by %s: %s beside the default %s", how, strings.Join(names, ", "), d.Version)}
	if _, err := Commit(ctx, tx, ev); err != nil {
		return spec.Deployment{}, fmt.Errorf("route versions of %s in %s: %w", svc.Name, req.Group, err)
	}
	return tx.GetDeployment(ctx, req.Group, svc.ID)
}

// DeleteVersionRouting stops the other versions of the service in group:
// only the deployment's own version answers again.
func DeleteVersionRouting(ctx context.Context, tx store.Tx, actor, project, service, group string) (spec.Deployment, error) {
	d, svc, err := routedDeployment(ctx, tx, project, service, group)
	if err != nil {
		return spec.Deployment{}, err
	}
	if d.VersionRouting == nil {
		return spec.Deployment{}, fmt.Errorf("service %q runs no other version beside %s in gateway group %q: %w", svc.Name, d.Version, group, store.ErrNotFound)
	}
	if err := tx.SetVersionRouting(ctx, group, svc.ID, nil); err != nil {
		return spec.Deployment{}, err
	}
	ev := spec.HistoryEvent{ProjectID: project, ServiceID: svc.ID, Group: group, Action: "version-routing",
		Version: d.Version, FromVersion: d.Version, Actor: actor, Detail: "only the default " + d.Version + " answers"}
	if _, err := Commit(ctx, tx, ev); err != nil {
		return spec.Deployment{}, fmt.Errorf("stop routing versions of %s in %s: %w", svc.Name, group, err)
	}
	return tx.GetDeployment(ctx, group, svc.ID)
}

// routedDeployment is the deployment of the service in group, which must
// exist.
func routedDeployment(ctx context.Context, tx store.Tx, project, service, group string) (spec.Deployment, spec.Service, error) {
	if group == "" {
		return spec.Deployment{}, spec.Service{}, spec.FieldErrors{{Field: "group", Message: "is required"}}
	}
	if !spec.ValidSlug(group) {
		return spec.Deployment{}, spec.Service{}, spec.FieldErrors{{Field: "group", Message: "is not a valid gateway group name"}}
	}
	svc, err := tx.GetService(ctx, project, service)
	if err != nil {
		return spec.Deployment{}, spec.Service{}, fmt.Errorf("service %q in project %q: %w", service, project, err)
	}
	if err := requireGroup(ctx, tx, group); err != nil {
		return spec.Deployment{}, spec.Service{}, err
	}
	d, err := tx.GetDeployment(ctx, group, svc.ID)
	if errors.Is(err, store.ErrNotFound) {
		return spec.Deployment{}, spec.Service{}, fmt.Errorf("service %q does not run in gateway group %q; publish it there first: %w", svc.Name, group, store.ErrConflict)
	}
	if err != nil {
		return spec.Deployment{}, spec.Service{}, fmt.Errorf("deployment of %s in %s: %w", svc.Name, group, err)
	}
	return d, svc, nil
}
