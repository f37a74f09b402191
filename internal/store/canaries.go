package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const canaryCols = "id, project_id, service_id, group_name, state, spec, created_at, updated_at"

func scanCanary(s scanner) (spec.Canary, error) {
	var c spec.Canary
	var doc string
	var created, updated int64
	var id, project, service, group, state string
	if err := s.Scan(&id, &project, &service, &group, &state, &doc, &created, &updated); err != nil {
		return spec.Canary{}, err
	}
	var codec jsonCodec
	codec.decode("canary", doc, &c)
	if codec.err != nil {
		return spec.Canary{}, codec.err
	}
	// The columns are the truth for what the store filters on.
	c.ID, c.ProjectID, c.ServiceID, c.Group, c.State = id, project, service, group, state
	c.CreatedAt, c.UpdatedAt = fromNanos(created), fromNanos(updated)
	return c, nil
}

// CreateCanary stores a new task. A second running task for the same
// service and group is ErrConflict.
func (t *txn) CreateCanary(ctx context.Context, c *spec.Canary) error {
	if err := ensureID(&c.ID); err != nil {
		return err
	}
	ts := now()
	c.CreatedAt, c.UpdatedAt = ts, ts
	var codec jsonCodec
	doc := codec.encode("canary", c)
	if codec.err != nil {
		return fmt.Errorf("create canary of service %s in %q: %w", c.ServiceID, c.Group, codec.err)
	}
	_, err := t.exec(ctx, "INSERT INTO canaries ("+canaryCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		c.ID, c.ProjectID, c.ServiceID, c.Group, c.State, doc, toNanos(ts), toNanos(ts))
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("service %s already has a running canary in %q: %w", c.ServiceID, c.Group, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create canary: service %s or group %q: %w", c.ServiceID, c.Group, ErrNotFound)
		}
		return fmt.Errorf("create canary of service %s in %q: %w", c.ServiceID, c.Group, err)
	}
	return nil
}

// GetCanary reads a task of a service.
func (t *txn) GetCanary(ctx context.Context, service, id string) (spec.Canary, error) {
	c, err := scanCanary(t.queryRow(ctx, "SELECT "+canaryCols+" FROM canaries WHERE service_id = $1 AND id = $2", service, id))
	if err != nil {
		return spec.Canary{}, notFound(err, "canary %s of service %s", id, service)
	}
	return c, nil
}

// UpdateCanary stores a task's new settings and state.
func (t *txn) UpdateCanary(ctx context.Context, c *spec.Canary) error {
	c.UpdatedAt = now()
	var codec jsonCodec
	doc := codec.encode("canary", c)
	if codec.err != nil {
		return fmt.Errorf("update canary %s: %w", c.ID, codec.err)
	}
	err := t.execOne(ctx, fmt.Sprintf("update canary %s", c.ID),
		"UPDATE canaries SET state = $1, spec = $2, updated_at = $3 WHERE id = $4 AND service_id = $5",
		c.State, doc, toNanos(c.UpdatedAt), c.ID, c.ServiceID)
	if err != nil && t.kind(err) == errUnique {
		return fmt.Errorf("service %s already has a running canary in %q: %w", c.ServiceID, c.Group, ErrConflict)
	}
	return err
}

// ListCanaries returns the tasks of a service, newest first; group ""
// means every group.
func (t *txn) ListCanaries(ctx context.Context, service, group string) ([]spec.Canary, error) {
	return t.canaries(ctx, fmt.Sprintf("list canaries of service %s", service),
		"SELECT "+canaryCols+` FROM canaries WHERE service_id = $1 AND ($2 = '' OR group_name = $2)
		ORDER BY created_at DESC, id DESC`, service, group)
}

// RunningCanary returns the running task of a service in a group.
func (t *txn) RunningCanary(ctx context.Context, group, service string) (spec.Canary, error) {
	c, err := scanCanary(t.queryRow(ctx, "SELECT "+canaryCols+
		" FROM canaries WHERE group_name = $1 AND service_id = $2 AND state = 'running'", group, service))
	if err != nil {
		return spec.Canary{}, notFound(err, "running canary of service %s in %q", service, group)
	}
	return c, nil
}

// ListRunningCanaries returns every running task, oldest first: what the
// guard watches.
func (t *txn) ListRunningCanaries(ctx context.Context) ([]spec.Canary, error) {
	return t.canaries(ctx, "list running canaries",
		"SELECT "+canaryCols+" FROM canaries WHERE state = 'running' ORDER BY created_at, id")
}

func (t *txn) canaries(ctx context.Context, what, q string, args ...any) ([]spec.Canary, error) {
	out := []spec.Canary{}
	err := t.each(ctx, what, func(rows *sql.Rows) error {
		c, err := scanCanary(rows)
		out = append(out, c)
		return err
	}, q, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}
