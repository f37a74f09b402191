package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const deploymentCols = "d.group_name, d.project_id, d.service_id, d.version, d.upstream, d.updated_at, d.version_routing"

func scanDeployment(s scanner) (spec.Deployment, error) {
	var d spec.Deployment
	var upstream string
	var routing sql.NullString
	var updated int64
	if err := s.Scan(&d.Group, &d.ProjectID, &d.ServiceID, &d.Version, &upstream, &updated, &routing); err != nil {
		return spec.Deployment{}, err
	}
	var c jsonCodec
	c.decode("upstream", upstream, &d.Upstream)
	if routing.Valid {
		d.VersionRouting = &spec.VersionRouting{}
		c.decode("version routing", routing.String, d.VersionRouting)
	}
	if c.err != nil {
		return spec.Deployment{}, c.err
	}
	d.UpdatedAt = fromNanos(updated)
	return d, nil
}

// PutDeployment makes d what runs for its service in its group, replacing
// any earlier deployment there. The group, service and version must exist.
func (t *txn) PutDeployment(ctx context.Context, d *spec.Deployment) error {
	var c jsonCodec
	upstream := c.encode("upstream", d.Upstream)
	if c.err != nil {
		return fmt.Errorf("deploy service %s to %q: %w", d.ServiceID, d.Group, c.err)
	}
	d.UpdatedAt = now()
	_, err := t.exec(ctx, `INSERT INTO deployments (group_name, project_id, service_id, version, upstream, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (group_name, service_id) DO UPDATE SET project_id = excluded.project_id,
			version = excluded.version, upstream = excluded.upstream, updated_at = excluded.updated_at`,
		d.Group, d.ProjectID, d.ServiceID, d.Version, upstream, toNanos(d.UpdatedAt))
	if err != nil {
		if t.kind(err) == errForeignKey {
			return fmt.Errorf("deploy service %s version %q to %q: group, service or version: %w",
				d.ServiceID, d.Version, d.Group, ErrNotFound)
		}
		return fmt.Errorf("deploy service %s version %q to %q: %w", d.ServiceID, d.Version, d.Group, err)
	}
	return nil
}

// SetVersionRouting sets (nil: deletes) the versions the deployment of
// service in group runs beside its own. Publishing a version keeps them.
func (t *txn) SetVersionRouting(ctx context.Context, group, service string, vr *spec.VersionRouting) error {
	var routing any
	if vr != nil {
		var c jsonCodec
		routing = c.encode("version routing", vr)
		if c.err != nil {
			return fmt.Errorf("version routing of service %s in %q: %w", service, group, c.err)
		}
	}
	return t.execOne(ctx, fmt.Sprintf("set the version routing of service %s in %q", service, group),
		"UPDATE deployments SET version_routing = $3 WHERE group_name = $1 AND service_id = $2", group, service, routing)
}

func (t *txn) GetDeployment(ctx context.Context, group, service string) (spec.Deployment, error) {
	d, err := scanDeployment(t.queryRow(ctx, "SELECT "+deploymentCols+" FROM deployments d WHERE d.group_name = $1 AND d.service_id = $2",
		group, service))
	if err != nil {
		return spec.Deployment{}, notFound(err, "deployment of service %s in %q", service, group)
	}
	return d, nil
}

func (t *txn) DeleteDeployment(ctx context.Context, group, service string) error {
	return t.execOne(ctx, fmt.Sprintf("delete deployment of service %s in %q", service, group),
		"DELETE FROM deployments WHERE group_name = $1 AND service_id = $2", group, service)
}

// ListDeploymentsByGroup returns a group's deployments ordered by project,
// then service name: the order of the group's snapshot.
func (t *txn) ListDeploymentsByGroup(ctx context.Context, group string) ([]spec.Deployment, error) {
	return t.deployments(ctx, fmt.Sprintf("list deployments in %q", group),
		"SELECT "+deploymentCols+` FROM deployments d JOIN services s ON s.id = d.service_id
		WHERE d.group_name = $1 ORDER BY d.project_id, s.name, d.service_id`, group)
}

// ListDeploymentsByService returns where a service runs, by group name.
func (t *txn) ListDeploymentsByService(ctx context.Context, service string) ([]spec.Deployment, error) {
	return t.deployments(ctx, fmt.Sprintf("list deployments of service %s", service),
		"SELECT "+deploymentCols+" FROM deployments d WHERE d.service_id = $1 ORDER BY d.group_name", service)
}

func (t *txn) deployments(ctx context.Context, what, q string, args ...any) ([]spec.Deployment, error) {
	out := []spec.Deployment{}
	err := t.each(ctx, what, func(rows *sql.Rows) error {
		d, err := scanDeployment(rows)
		out = append(out, d)
		return err
	}, q, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}
