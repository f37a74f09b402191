package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/portico-gw/portico/internal/spec"
)

// GetCachePurges answers the purges of service's proxy-cache in group;
// none yet is the zero value.
func (t *txn) GetCachePurges(ctx context.Context, group, service string) (spec.CachePurges, error) {
	var p spec.CachePurges
	var purged string
	err := t.queryRow(ctx, "SELECT epoch, purged FROM cache_purges WHERE group_name = $1 AND service_id = $2", group, service).
		Scan(&p.Epoch, &purged)
	if errors.Is(err, sql.ErrNoRows) {
		return spec.CachePurges{}, nil
	}
	if err != nil {
		return spec.CachePurges{}, fmt.Errorf("cache purges of service %s in %q: %w", service, group, err)
	}
	var c jsonCodec
	c.decode("purged keys", purged, &p.Keys)
	return p, c.err
}

// PutCachePurges stores the purges of service's proxy-cache in group.
// Only release.PurgeCache calls it, inside the commit that publishes them.
func (t *txn) PutCachePurges(ctx context.Context, group, service string, p *spec.CachePurges) error {
	var c jsonCodec
	keys := p.Keys
	if keys == nil {
		keys = []spec.PurgedCacheKey{}
	}
	purged := c.encode("purged keys", keys)
	if c.err != nil {
		return c.err
	}
	_, err := t.exec(ctx, `INSERT INTO cache_purges (group_name, service_id, epoch, purged, updated_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (group_name, service_id) DO UPDATE SET epoch = excluded.epoch, purged = excluded.purged, updated_at = excluded.updated_at`,
		group, service, p.Epoch, purged, toNanos(now()))
	if err != nil {
		if t.kind(err) == errForeignKey {
			return fmt.Errorf("cache purges of service %s in %q: group or service: %w", service, group, ErrNotFound)
		}
		return fmt.Errorf("cache purges of service %s in %q: %w", service, group, err)
	}
	return nil
}

// attachCachePurges gives each deployed service its proxy-cache purges
// in the group, if it has any.
func (t *txn) attachCachePurges(ctx context.Context, group string, out []spec.DeployedService, f serviceFilter) error {
	what := fmt.Sprintf("cache purges in %q", group)
	byService := map[string]*spec.CachePurges{}
	scan := func(rows *sql.Rows) error {
		var id, purged string
		p := &spec.CachePurges{}
		if err := rows.Scan(&id, &p.Epoch, &purged); err != nil {
			return err
		}
		var c jsonCodec
		c.decode("purged keys", purged, &p.Keys)
		if c.err != nil {
			return c.err
		}
		byService[id] = p
		return nil
	}
	const q = "SELECT service_id, epoch, purged FROM cache_purges WHERE group_name = $1"
	if f.all {
		if err := t.each(ctx, what, scan, q, group); err != nil {
			return err
		}
	} else {
		for chunk := range slices.Chunk(f.ids, bindChunk) {
			if err := t.each(ctx, what, scan, q+" AND service_id IN ("+placeholders(2, len(chunk))+")", stringArgs(group, chunk)...); err != nil {
				return err
			}
		}
	}
	for i := range out {
		if p, ok := byService[out[i].Service.ID]; ok && (p.Epoch != "" || len(p.Keys) > 0) {
			out[i].Cache = p
		}
	}
	return nil
}
