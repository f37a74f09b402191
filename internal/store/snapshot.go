package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

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
		gs, err := t.groupSnapshot(ctx, g, serviceFilter{all: true})
		if err != nil {
			return spec.Snapshot{}, fmt.Errorf("snapshot: %w", err)
		}
		snap.Groups = append(snap.Groups, gs)
		snap.Revision = max(snap.Revision, g.Revision)
	}
	return snap, nil
}

// SnapshotServices assembles, for one group, exactly what Snapshot would
// carry for the given services: the group row (Group), the deployed ones
// among ids in Services (ids not deployed there are simply absent; the
// order is Snapshot's), their running canaries attached, folder paths
// filled, sql routes' data-source references resolved exactly as Snapshot
// resolves them, and in DataSources the data sources those services use
// (passwords sealed, as Snapshot carries them; in the order the services
// first use them). Consumers is the group's whole consumer list, exactly as
// Snapshot carries it. A missing group is ErrNotFound.
//
// Its cost follows len(ids) and the applications (consumers are found
// by scanning applications and subscriptions with lookups by key into the
// group's deployments, groupConsumers), never the number of services
// deployed in the group: every other query looks the ids up by key.
func (t *txn) SnapshotServices(ctx context.Context, group string, ids []string) (spec.GroupSnapshot, error) {
	g, err := t.GetGroup(ctx, group)
	if err != nil {
		return spec.GroupSnapshot{}, fmt.Errorf("snapshot of services: %w", err)
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	gs, err := t.groupSnapshot(ctx, g, serviceFilter{ids: slices.Compact(ids)})
	if err != nil {
		return spec.GroupSnapshot{}, fmt.Errorf("snapshot of services in %q: %w", group, err)
	}
	return gs, nil
}

// serviceFilter selects the deployed services a group snapshot carries:
// every one, or those among ids (sorted, unique).
type serviceFilter struct {
	all bool
	ids []string
}

// groupSnapshot is the one assembly behind Snapshot and SnapshotServices,
// so that a partial snapshot cannot drift from the whole one.
func (t *txn) groupSnapshot(ctx context.Context, g spec.GatewayGroup, f serviceFilter) (spec.GroupSnapshot, error) {
	services, err := t.deployedServices(ctx, g.Name, f)
	if err != nil {
		return spec.GroupSnapshot{}, err
	}
	consumers, err := t.groupConsumers(ctx, g.Name)
	if err != nil {
		return spec.GroupSnapshot{}, err
	}
	dataSources, err := t.groupDataSources(ctx, g.Name, services)
	if err != nil {
		return spec.GroupSnapshot{}, err
	}
	certificates, err := t.ListCertificates(ctx, g.Name)
	if err != nil {
		return spec.GroupSnapshot{}, err
	}
	for i := range certificates {
		certificates[i].Group, certificates[i].CreatedAt, certificates[i].UpdatedAt = "", time.Time{}, time.Time{}
	}
	if len(certificates) == 0 {
		certificates = nil // as the snapshot of a group without any has always read
	}
	registries, err := t.groupRegistries(ctx, g.Name)
	if err != nil {
		return spec.GroupSnapshot{}, err
	}
	return spec.GroupSnapshot{Group: g, Services: services, Consumers: consumers, DataSources: dataSources, Certificates: certificates,
		Registries: registries}, nil
}

// deployedQuery joins a group's deployments ($1) with the versions they
// run; snapshotOrder is the order of a group's services in its snapshot
// (and in ListDeploymentsByGroup).
const (
	deployedQuery = `SELECT d.project_id, d.version, d.upstream, v.service, s.name, d.service_id, d.version_routing
		FROM deployments d
		JOIN services s ON s.id = d.service_id
		JOIN versions v ON v.service_id = d.service_id AND v.version = d.version
		WHERE d.group_name = $1`
	snapshotOrder = " ORDER BY d.project_id, s.name, d.service_id"
)

// deployedServices joins a group's deployments with the versions they run:
// the service comes frozen from the version, routes included, and the
// upstream from the deployment; the path of the service's folder is read
// now (a folder's path change moves its services' URLs).
func (t *txn) deployedServices(ctx context.Context, group string, f serviceFilter) ([]spec.DeployedService, error) {
	type row struct {
		ds       spec.DeployedService
		name, id string // the live service's name and id: the order's keys
	}
	var found []row
	what := fmt.Sprintf("services deployed in %q", group)
	scan := func(rows *sql.Rows) error {
		var r row
		var upstream, service string
		var routing sql.NullString
		if err := rows.Scan(&r.ds.ProjectID, &r.ds.Version, &upstream, &service, &r.name, &r.id, &routing); err != nil {
			return err
		}
		var c jsonCodec
		c.decode("upstream", upstream, &r.ds.Upstream)
		c.decode("service", service, &r.ds.Service)
		if routing.Valid {
			r.ds.VersionRouting = &spec.VersionRouting{}
			c.decode("version routing", routing.String, r.ds.VersionRouting)
		}
		if c.err != nil {
			return c.err
		}
		found = append(found, r)
		return nil
	}
	if f.all {
		if err := t.each(ctx, what, scan, deployedQuery+snapshotOrder, group); err != nil {
			return nil, err
		}
	} else {
		for chunk := range slices.Chunk(f.ids, bindChunk) {
			q := deployedQuery + " AND d.service_id IN (" + placeholders(2, len(chunk)) + ")" + snapshotOrder
			if err := t.each(ctx, what, scan, q, stringArgs(group, chunk)...); err != nil {
				return nil, err
			}
		}
		if len(f.ids) > bindChunk {
			// Each chunk came in the database's order; across chunks
			// this is the same order for SQLite's binary collation (a
			// PostgreSQL store must compare these columns with "C").
			slices.SortStableFunc(found, func(a, b row) int {
				return cmp.Or(cmp.Compare(a.ds.ProjectID, b.ds.ProjectID), cmp.Compare(a.name, b.name), cmp.Compare(a.id, b.id))
			})
		}
	}
	out := make([]spec.DeployedService, len(found))
	cache := map[string]string{}
	for i := range found {
		out[i] = found[i].ds
		if err := t.fillFolderPath(ctx, &out[i].Service, cache); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if err := t.attachVersions(ctx, &out[i], found[i].id, cache); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	if err := t.attachCanaries(ctx, group, out, f); err != nil {
		return nil, err
	}
	if err := t.attachCachePurges(ctx, group, out, f); err != nil {
		return nil, err
	}
	return out, nil
}

// attachCanaries gives each deployed service the running canary task of
// the group, if it has one. A partial snapshot reads only its services'
// tasks (canaries_one_running is keyed on service and group).
func (t *txn) attachCanaries(ctx context.Context, group string, out []spec.DeployedService, f serviceFilter) error {
	what := fmt.Sprintf("running canaries in %q", group)
	const q = "SELECT " + canaryCols + " FROM canaries WHERE group_name = $1 AND state = 'running'"
	var running []spec.Canary
	if f.all {
		var err error
		if running, err = t.canaries(ctx, what, q, group); err != nil {
			return err
		}
	} else {
		for chunk := range slices.Chunk(f.ids, bindChunk) {
			cs, err := t.canaries(ctx, what, q+" AND service_id IN ("+placeholders(2, len(chunk))+")", stringArgs(group, chunk)...)
			if err != nil {
				return err
			}
			running = append(running, cs...)
		}
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

// stringArgs is first followed by ids, as bind arguments.
func stringArgs(first any, ids []string) []any {
	args := make([]any, 0, len(ids)+1)
	args = append(args, first)
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}

// attachVersions gives a deployed service whose deployment routes other
// versions those versions, frozen as published, each with its upstream
// (its own, else the deployment's). A routed version that is the one the
// deployment runs now (a publish made it the default) is left out: the
// default answers for it.
func (t *txn) attachVersions(ctx context.Context, ds *spec.DeployedService, serviceID string, folders map[string]string) error {
	vr := ds.VersionRouting
	if vr == nil {
		return nil
	}
	for _, rv := range vr.Versions {
		if rv.Version == ds.Version {
			continue
		}
		v, err := t.GetVersion(ctx, serviceID, rv.Version)
		if err != nil {
			return fmt.Errorf("version %s routed beside %s: %w", rv.Version, ds.Version, err)
		}
		dv := spec.DeployedVersion{Version: rv.Version, Match: rv.MatchOf(), Service: v.Service, Upstream: ds.Upstream}
		if rv.Upstream != nil {
			dv.Upstream = *rv.Upstream
		}
		if err := t.fillFolderPath(ctx, &dv.Service, folders); err != nil {
			return err
		}
		ds.Versions = append(ds.Versions, dv)
	}
	if len(ds.Versions) == 0 {
		ds.VersionRouting = nil
	}
	return nil
}
