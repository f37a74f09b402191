package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

// ParkDeployment keeps d (what ran for its service in its group) so that a
// later lifecycle "enable" can restore it exactly; a second park of the same
// service and group replaces the first. The group, service and version must
// exist.
func (t *txn) ParkDeployment(ctx context.Context, d *spec.Deployment) error {
	var c jsonCodec
	upstream := c.encode("upstream", d.Upstream)
	if c.err != nil {
		return fmt.Errorf("park deployment of service %s in %q: %w", d.ServiceID, d.Group, c.err)
	}
	_, err := t.exec(ctx, `INSERT INTO parked_deployments (service_id, group_name, project_id, version, upstream, parked_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (service_id, group_name) DO UPDATE SET project_id = excluded.project_id,
			version = excluded.version, upstream = excluded.upstream, parked_at = excluded.parked_at`,
		d.ServiceID, d.Group, d.ProjectID, d.Version, upstream, toNanos(now()))
	if err != nil {
		if t.kind(err) == errForeignKey {
			return fmt.Errorf("park deployment of service %s version %q in %q: group, service or version: %w",
				d.ServiceID, d.Version, d.Group, ErrNotFound)
		}
		return fmt.Errorf("park deployment of service %s in %q: %w", d.ServiceID, d.Group, err)
	}
	return nil
}

// ListParkedDeployments returns a service's parked deployments by group
// name; UpdatedAt is when each was parked.
func (t *txn) ListParkedDeployments(ctx context.Context, service string) ([]spec.Deployment, error) {
	out := []spec.Deployment{}
	err := t.each(ctx, fmt.Sprintf("list parked deployments of service %s", service), func(rows *sql.Rows) error {
		d, err := scanDeployment(rows)
		out = append(out, d)
		return err
	}, `SELECT group_name, project_id, service_id, version, upstream, parked_at, CAST(NULL AS TEXT)
		FROM parked_deployments WHERE service_id = $1 ORDER BY group_name`, service)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteParkedDeployments forgets every parked deployment of a service;
// none is not an error.
func (t *txn) DeleteParkedDeployments(ctx context.Context, service string) error {
	if _, err := t.exec(ctx, "DELETE FROM parked_deployments WHERE service_id = $1", service); err != nil {
		return fmt.Errorf("delete parked deployments of service %s: %w", service, err)
	}
	return nil
}

// ListGroupHistory returns the release events of one gateway group, newest
// first. Q matches the action, version or service id.
func (t *txn) ListGroupHistory(ctx context.Context, group string, q ListQuery) ([]spec.HistoryEvent, int, error) {
	return t.historyPage(ctx, fmt.Sprintf("list history of group %q", group),
		"group_name = $1 AND "+likeClause(2, "action", "version", "service_id"), group, q)
}

// ListServicesInState returns the services of every project in a lifecycle
// state, ordered by name then project. Q matches the name or description.
func (t *txn) ListServicesInState(ctx context.Context, state string, q ListQuery) ([]spec.Service, int, error) {
	out := []spec.Service{}
	total, err := t.page(ctx, listing{
		what:  fmt.Sprintf("list services in state %q", state),
		cols:  serviceCols,
		from:  "services",
		where: "state = $1 AND " + likeClause(2, "name", "description"),
		args:  []any{state, likePattern(q.Q)},
		order: "name, project_id, id",
	}, q, func(rows *sql.Rows) error {
		s, err := scanService(rows)
		out = append(out, s)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}
