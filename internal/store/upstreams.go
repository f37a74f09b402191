package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const upstreamCols = `id, project_id, name, scheme, load_balancer, hash_on, nodes, discovery, timeout,
	retries, pass_host, upstream_host, url, tls_verify, tls, checks, retry_policy, created_at, updated_at`

func scanUpstream(s scanner) (spec.Upstream, error) {
	var u spec.Upstream
	var nodes, discovery, timeout, tlsJSON, checks, retryPolicy string
	var retries, tlsVerify sql.NullInt64
	var created, updated int64
	if err := s.Scan(&u.ID, &u.ProjectID, &u.Name, &u.Scheme, &u.LoadBalancer, &u.HashOn,
		&nodes, &discovery, &timeout, &retries, &u.PassHost, &u.UpstreamHost, &u.URL, &tlsVerify,
		&tlsJSON, &checks, &retryPolicy, &created, &updated); err != nil {
		return spec.Upstream{}, err
	}
	if tlsVerify.Valid {
		v := tlsVerify.Int64 != 0
		u.TLSVerify = &v
	}
	var c jsonCodec
	c.decode("nodes", nodes, &u.Nodes)
	c.decode("discovery", discovery, &u.Discovery)
	c.decode("timeout", timeout, &u.Timeout)
	c.decodeOptional("tls", tlsJSON, &u.TLS)
	c.decodeOptional("checks", checks, &u.Checks)
	c.decodeOptional("retry_policy", retryPolicy, &u.RetryPolicy)
	if c.err != nil {
		return spec.Upstream{}, c.err
	}
	if retries.Valid {
		r := int(retries.Int64)
		u.Retries = &r
	}
	u.CreatedAt, u.UpdatedAt = fromNanos(created), fromNanos(updated)
	return u, nil
}

// upstreamArgs are the columns after id and project_id, in upstreamCols
// order, up to and excluding the timestamps.
func upstreamArgs(u *spec.Upstream) ([]any, error) {
	var retries sql.NullInt64
	if u.Retries != nil {
		retries = sql.NullInt64{Int64: int64(*u.Retries), Valid: true}
	}
	var tlsVerify sql.NullInt64
	if u.TLSVerify != nil {
		tlsVerify.Valid = true
		if *u.TLSVerify {
			tlsVerify.Int64 = 1
		}
	}
	var c jsonCodec
	args := []any{u.Name, u.Scheme, u.LoadBalancer, u.HashOn,
		c.encode("nodes", u.Nodes), c.encode("discovery", u.Discovery), c.encode("timeout", u.Timeout),
		retries, u.PassHost, u.UpstreamHost, u.URL, tlsVerify,
		c.encode("tls", u.TLS), c.encode("checks", u.Checks), c.encode("retry_policy", u.RetryPolicy)}
	return args, c.err
}

func (t *txn) CreateUpstream(ctx context.Context, u *spec.Upstream) error {
	if err := ensureID(&u.ID); err != nil {
		return err
	}
	cols, err := upstreamArgs(u)
	if err != nil {
		return fmt.Errorf("create upstream %q: %w", u.Name, err)
	}
	ts := now()
	u.CreatedAt, u.UpdatedAt = ts, ts
	args := append(append([]any{u.ID, u.ProjectID}, cols...), toNanos(ts), toNanos(ts))
	_, err = t.exec(ctx, "INSERT INTO upstreams ("+upstreamCols+") VALUES ("+placeholders(1, len(args))+")", args...)
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("upstream %q already exists in project %q: %w", u.Name, u.ProjectID, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create upstream %q: project %q: %w", u.Name, u.ProjectID, ErrNotFound)
		}
		return fmt.Errorf("create upstream %q: %w", u.Name, err)
	}
	return nil
}

// GetUpstream finds an upstream of the project by id, else by name.
func (t *txn) GetUpstream(ctx context.Context, project, idOrName string) (spec.Upstream, error) {
	u, err := scanUpstream(t.queryRow(ctx, "SELECT "+upstreamCols+` FROM upstreams
		WHERE project_id = $1 AND (id = $2 OR name = $2)
		ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1`, project, idOrName))
	if err != nil {
		return spec.Upstream{}, notFound(err, "upstream %q in project %q", idOrName, project)
	}
	return u, nil
}

func (t *txn) ListUpstreams(ctx context.Context, project string, q ListQuery) ([]spec.Upstream, int, error) {
	out := []spec.Upstream{}
	total, err := t.page(ctx, listing{
		what:  fmt.Sprintf("list upstreams of project %q", project),
		cols:  upstreamCols,
		from:  "upstreams",
		where: "project_id = $1 AND " + likeClause(2, "name"),
		args:  []any{project, likePattern(q.Q)},
		order: "created_at, id",
	}, q, func(rows *sql.Rows) error {
		u, err := scanUpstream(rows)
		out = append(out, u)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// UpdateUpstream replaces upstream u.ID of project u.ProjectID.
func (t *txn) UpdateUpstream(ctx context.Context, u *spec.Upstream) error {
	cols, err := upstreamArgs(u)
	if err != nil {
		return fmt.Errorf("update upstream %q: %w", u.ID, err)
	}
	ts := now()
	args := append(append([]any{u.ID, u.ProjectID}, cols...), toNanos(ts))
	var created int64
	err = t.queryRow(ctx, `UPDATE upstreams SET name = $3, scheme = $4, load_balancer = $5, hash_on = $6,
			nodes = $7, discovery = $8, timeout = $9, retries = $10, pass_host = $11,
			upstream_host = $12, url = $13, tls_verify = $14, tls = $15, checks = $16, retry_policy = $17,
			updated_at = $18
		WHERE id = $1 AND project_id = $2 RETURNING created_at`, args...).Scan(&created)
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("upstream %q already exists in project %q: %w", u.Name, u.ProjectID, ErrConflict)
		}
		return notFound(err, "update upstream %s in project %q", u.ID, u.ProjectID)
	}
	u.CreatedAt, u.UpdatedAt = fromNanos(created), ts
	return nil
}

// DeleteUpstream removes an upstream no service refers to.
func (t *txn) DeleteUpstream(ctx context.Context, project, id string) error {
	var users int
	err := t.queryRow(ctx, "SELECT COUNT(*) FROM services WHERE project_id = $1 AND upstream_id = $2", project, id).Scan(&users)
	if err != nil {
		return fmt.Errorf("delete upstream %s: %w", id, err)
	}
	if users > 0 {
		return fmt.Errorf("delete upstream %s: %d services use it: %w", id, users, ErrConflict)
	}
	return t.execOne(ctx, fmt.Sprintf("delete upstream %s in project %q", id, project),
		"DELETE FROM upstreams WHERE project_id = $1 AND id = $2", project, id)
}
