package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const groupCols = "name, path_prefix, description, revision, created_at, updated_at, time_zone, public_url, trace_sample_ratio"

func scanGroup(s scanner) (spec.GatewayGroup, error) {
	var g spec.GatewayGroup
	var created, updated int64
	var ratio sql.NullFloat64
	if err := s.Scan(&g.Name, &g.PathPrefix, &g.Description, &g.Revision, &created, &updated, &g.TimeZone, &g.PublicURL, &ratio); err != nil {
		return spec.GatewayGroup{}, err
	}
	g.CreatedAt, g.UpdatedAt = fromNanos(created), fromNanos(updated)
	if ratio.Valid {
		g.TraceSampleRatio = &ratio.Float64
	}
	return g, nil
}

// CreateGroup stores a gateway group. Its revision starts at g.Revision
// (normally 0) and afterwards changes only through BumpRevision. Its
// change log is complete from the first global revision after now, not
// from 0: a gateway that still holds a revision of an earlier group of the
// same name, the last one included, must reload it whole (ChangedSince).
// Its route-shape index is complete: it runs nothing yet.
func (t *txn) CreateGroup(ctx context.Context, g *spec.GatewayGroup) error {
	ts := now()
	g.CreatedAt, g.UpdatedAt, g.TimeZone = ts, ts, zoneOrUTC(g.TimeZone)
	var global int64
	if err := t.queryRow(ctx, "SELECT value FROM counters WHERE name = 'revision'").Scan(&global); err != nil {
		return fmt.Errorf("create gateway group %q: read the revision: %w", g.Name, err)
	}
	_, err := t.exec(ctx, "INSERT INTO gateway_groups ("+groupCols+`, changes_from, route_shapes_complete)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)`,
		g.Name, g.PathPrefix, g.Description, g.Revision, toNanos(ts), toNanos(ts), zoneOrUTC(g.TimeZone), g.PublicURL, nullRatio(g.TraceSampleRatio), max(global+1, g.Revision))
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("gateway group %q already exists: %w", g.Name, ErrConflict)
		}
		return fmt.Errorf("create gateway group %q: %w", g.Name, err)
	}
	return nil
}

func (t *txn) GetGroup(ctx context.Context, name string) (spec.GatewayGroup, error) {
	g, err := scanGroup(t.queryRow(ctx, "SELECT "+groupCols+" FROM gateway_groups WHERE name = $1", name))
	if err != nil {
		return spec.GatewayGroup{}, notFound(err, "gateway group %q", name)
	}
	return g, nil
}

func (t *txn) ListGroups(ctx context.Context, q ListQuery) ([]spec.GatewayGroup, int, error) {
	out := []spec.GatewayGroup{}
	total, err := t.page(ctx, listing{
		what:  "list gateway groups",
		cols:  groupCols,
		from:  "gateway_groups",
		where: likeClause(1, "name"),
		args:  []any{likePattern(q.Q)},
		order: "created_at, name",
	}, q, func(rows *sql.Rows) error {
		g, err := scanGroup(rows)
		out = append(out, g)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// zoneOrUTC is the zone a group stores: UTC unless one is named.
func zoneOrUTC(z string) string {
	if z == "" {
		return "UTC"
	}
	return z
}

// nullRatio stores an unset trace sample ratio as NULL.
func nullRatio(r *float64) sql.NullFloat64 {
	if r == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *r, Valid: true}
}

// UpdateGroup replaces the path prefix, description, time zone, public
// URL and trace sample ratio; the revision is
// left alone (and read back into g), since only BumpRevision moves it.
func (t *txn) UpdateGroup(ctx context.Context, g *spec.GatewayGroup) error {
	ts := now()
	g.TimeZone = zoneOrUTC(g.TimeZone)
	var created int64
	err := t.queryRow(ctx, `UPDATE gateway_groups SET path_prefix = $2, description = $3, updated_at = $4,
			time_zone = $5, public_url = $6, trace_sample_ratio = $7
		WHERE name = $1 RETURNING created_at, revision`,
		g.Name, g.PathPrefix, g.Description, toNanos(ts), zoneOrUTC(g.TimeZone), g.PublicURL, nullRatio(g.TraceSampleRatio)).Scan(&created, &g.Revision)
	if err != nil {
		return notFound(err, "update gateway group %q", g.Name)
	}
	g.CreatedAt, g.UpdatedAt = fromNanos(created), ts
	return nil
}

// DeleteGroup removes a group; one that still has deployments is
// ErrConflict.
func (t *txn) DeleteGroup(ctx context.Context, name string) error {
	err := t.execOne(ctx, fmt.Sprintf("delete gateway group %q", name), "DELETE FROM gateway_groups WHERE name = $1", name)
	if err != nil && t.kind(err) == errForeignKey {
		return fmt.Errorf("delete gateway group %q: services are still deployed in it: %w", name, ErrConflict)
	}
	return err
}
