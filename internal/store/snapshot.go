package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

// Snapshot assembles what the named groups run. Unknown names are skipped
// (a gateway may be started for a group created later); the order of the
// groups is the order given.
func (t *txn) Snapshot(ctx context.Context, groups []string) (spec.Snapshot, error) {
	snap := spec.Snapshot{Groups: []spec.GroupSnapshot{}}
	seen := make(map[string]bool, len(groups))
	for _, name := range groups {
		if seen[name] {
			continue
		}
		seen[name] = true
		g, err := t.GetGroup(ctx, name)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return spec.Snapshot{}, fmt.Errorf("snapshot: %w", err)
		}
		services, err := t.deployedServices(ctx, name)
		if err != nil {
			return spec.Snapshot{}, fmt.Errorf("snapshot: %w", err)
		}
		consumers, err := t.groupConsumers(ctx, services)
		if err != nil {
			return spec.Snapshot{}, fmt.Errorf("snapshot: %w", err)
		}
		dataSources, err := t.groupDataSources(ctx, name, services)
		if err != nil {
			return spec.Snapshot{}, fmt.Errorf("snapshot: %w", err)
		}
		snap.Groups = append(snap.Groups, spec.GroupSnapshot{Group: g, Services: services, Consumers: consumers,
			DataSources: dataSources})
		snap.Revision = max(snap.Revision, g.Revision)
	}
	return snap, nil
}

// deployedServices joins a group's deployments with the versions they run:
// the service comes frozen from the version, routes included, and the
// upstream from the deployment; the path of the service's folder is read
// now (a folder's path change moves its services' URLs).
func (t *txn) deployedServices(ctx context.Context, group string) ([]spec.DeployedService, error) {
	out := []spec.DeployedService{}
	err := t.each(ctx, fmt.Sprintf("services deployed in %q", group), func(rows *sql.Rows) error {
		var ds spec.DeployedService
		var upstream, service string
		if err := rows.Scan(&ds.ProjectID, &ds.Version, &upstream, &service); err != nil {
			return err
		}
		var c jsonCodec
		c.decode("upstream", upstream, &ds.Upstream)
		c.decode("service", service, &ds.Service)
		if c.err != nil {
			return c.err
		}
		out = append(out, ds)
		return nil
	}, `SELECT d.project_id, d.version, d.upstream, v.service
		FROM deployments d
		JOIN services s ON s.id = d.service_id
		JOIN versions v ON v.service_id = d.service_id AND v.version = d.version
		WHERE d.group_name = $1
		ORDER BY d.project_id, s.name, d.service_id`, group)
	if err != nil {
		return nil, err
	}
	cache := map[string]string{}
	for i := range out {
		if err := t.fillFolderPath(ctx, &out[i].Service, cache); err != nil {
			return nil, fmt.Errorf("services deployed in %q: %w", group, err)
		}
	}
	if err := t.attachCanaries(ctx, group, out); err != nil {
		return nil, err
	}
	return out, nil
}

// attachCanaries gives each deployed service the running canary task of
// the group, if it has one.
func (t *txn) attachCanaries(ctx context.Context, group string, out []spec.DeployedService) error {
	running, err := t.canaries(ctx, fmt.Sprintf("running canaries in %q", group),
		"SELECT "+canaryCols+" FROM canaries WHERE group_name = $1 AND state = 'running'", group)
	if err != nil {
		return err
	}
	if len(running) == 0 {
		return nil
	}
	byService := make(map[string]*spec.Canary, len(running))
	for i := range running {
		byService[running[i].ServiceID] = &running[i]
	}
	for i := range out {
		if c, ok := byService[out[i].Service.ID]; ok {
			out[i].Canary = c.Route()
		}
	}
	return nil
}
