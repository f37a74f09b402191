package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

const gatewayInstanceCols = `id, group_name, embedded, hostname, addresses, version, engine, revision, from_cache,
	started_at, last_seen, interval_ns, requests, errors, detail, token_id, stopped, upstream_health, registries`

func scanGatewayInstance(s scanner) (spec.GatewayInstance, error) {
	var in spec.GatewayInstance
	var embedded, fromCache, stopped int
	var addrs, health, registries string
	var started, seen, interval, requests, errs int64
	err := s.Scan(&in.ID, &in.Group, &embedded, &in.Hostname, &addrs, &in.Version, &in.Engine, &in.Revision, &fromCache,
		&started, &seen, &interval, &requests, &errs, &in.Detail, &in.TokenID, &stopped, &health, &registries)
	if err != nil {
		return in, err
	}
	var c jsonCodec
	c.decode("addresses", addrs, &in.Addresses)
	c.decodeOptional("upstream_health", health, &in.UpstreamHealth)
	c.decodeOptional("registries", registries, &in.Registries)
	in.Embedded, in.FromCache, in.Stopped = embedded != 0, fromCache != 0, stopped != 0
	in.StartedAt, in.LastSeen, in.Interval = fromNanos(started), fromNanos(seen), time.Duration(interval)
	in.Requests, in.Errors = uint64(max(requests, 0)), uint64(max(errs, 0))
	return in, c.err
}

// PutGatewayInstance inserts or replaces an instance's row (a heartbeat).
// A missing group is ErrNotFound.
func (t *txn) PutGatewayInstance(ctx context.Context, in *spec.GatewayInstance) error {
	var c jsonCodec
	addrs := c.encode("addresses", in.Addresses)
	health, registries := "", ""
	if len(in.UpstreamHealth) > 0 {
		health = c.encode("upstream_health", in.UpstreamHealth)
	}
	if len(in.Registries) > 0 {
		registries = c.encode("registries", in.Registries)
	}
	if c.err != nil {
		return c.err
	}
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	_, err := t.exec(ctx, `INSERT INTO gateway_instances (`+gatewayInstanceCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
		ON CONFLICT (group_name, id) DO UPDATE SET embedded = excluded.embedded,
			hostname = excluded.hostname, addresses = excluded.addresses, version = excluded.version,
			engine = excluded.engine, revision = excluded.revision, from_cache = excluded.from_cache,
			started_at = excluded.started_at, last_seen = excluded.last_seen, interval_ns = excluded.interval_ns,
			requests = excluded.requests, errors = excluded.errors, detail = excluded.detail,
			token_id = excluded.token_id, stopped = excluded.stopped,
			upstream_health = excluded.upstream_health, registries = excluded.registries`,
		in.ID, in.Group, b(in.Embedded), in.Hostname, addrs, in.Version, in.Engine, in.Revision, b(in.FromCache),
		toNanos(in.StartedAt), toNanos(in.LastSeen), int64(in.Interval), int64(min(in.Requests, 1<<62)), int64(min(in.Errors, 1<<62)), in.Detail, in.TokenID, b(in.Stopped),
		health, registries)
	if err != nil {
		if t.kind(err) == errForeignKey {
			return fmt.Errorf("gateway instance %s: gateway group %q: %w", in.ID, in.Group, ErrNotFound)
		}
		return fmt.Errorf("gateway instance %s: %w", in.ID, err)
	}
	return nil
}

// ListGatewayInstances returns a group's instances by id (State unset).
func (t *txn) ListGatewayInstances(ctx context.Context, group string) ([]spec.GatewayInstance, error) {
	out := []spec.GatewayInstance{}
	err := t.each(ctx, "list gateway instances of group "+group, func(rows *sql.Rows) error {
		in, err := scanGatewayInstance(rows)
		out = append(out, in)
		return err
	}, "SELECT "+gatewayInstanceCols+" FROM gateway_instances WHERE group_name = $1 ORDER BY id", group)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PruneGatewayInstances removes the instances last seen before cutoff and
// answers how many.
func (t *txn) PruneGatewayInstances(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := t.exec(ctx, "DELETE FROM gateway_instances WHERE last_seen < $1", toNanos(cutoff))
	if err != nil {
		return 0, fmt.Errorf("prune gateway instances: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune gateway instances: rows affected: %w", err)
	}
	return int(n), nil
}

// CountGatewayInstances answers how many instance rows a group has.
func (t *txn) CountGatewayInstances(ctx context.Context, group string) (int, error) {
	var n int
	if err := t.queryRow(ctx, "SELECT COUNT(*) FROM gateway_instances WHERE group_name = $1", group).Scan(&n); err != nil {
		return 0, fmt.Errorf("count gateway instances of group %s: %w", group, err)
	}
	return n, nil
}
