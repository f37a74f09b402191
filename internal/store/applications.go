package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

// ApplicationFilter selects applications in a list. Zero fields do not
// filter; Owner limits the list to one user's own applications.
type ApplicationFilter struct {
	ProjectID string
	Owner     string
}

const applicationCols = "id, project_id, owner_id, name, description, services, created_at, updated_at"

func scanApplication(s scanner) (spec.Application, error) {
	var a spec.Application
	var project sql.NullString
	var services string
	var created, updated int64
	if err := s.Scan(&a.ID, &project, &a.Owner, &a.Name, &a.Description, &services, &created, &updated); err != nil {
		return spec.Application{}, err
	}
	a.ProjectID = project.String
	var c jsonCodec
	c.decode("services", services, &a.Services)
	if c.err != nil {
		return spec.Application{}, c.err
	}
	a.CreatedAt, a.UpdatedAt = fromNanos(created), fromNanos(updated)
	return a, nil
}

// applicationScope keeps names unique per owner: a project, or a user.
func applicationScope(a *spec.Application) string {
	if a.ProjectID != "" {
		return "project:" + a.ProjectID
	}
	return "user:" + a.Owner
}

// CreateApplication stores a; a name its owner already uses is
// ErrConflict, a missing project ErrNotFound.
func (t *txn) CreateApplication(ctx context.Context, a *spec.Application) error {
	if err := ensureID(&a.ID); err != nil {
		return err
	}
	ts := now()
	a.CreatedAt, a.UpdatedAt = ts, ts
	var c jsonCodec
	services := c.encode("services", a.Services)
	if c.err != nil {
		return fmt.Errorf("create application %q: %w", a.Name, c.err)
	}
	_, err := t.exec(ctx, "INSERT INTO applications (scope, "+applicationCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		applicationScope(a), a.ID, nullString(a.ProjectID), a.Owner, a.Name, a.Description, services, toNanos(ts), toNanos(ts))
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("application %q already exists: %w", a.Name, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create application %q: project %q: %w", a.Name, a.ProjectID, ErrNotFound)
		}
		return fmt.Errorf("create application %q: %w", a.Name, err)
	}
	return nil
}

func (t *txn) GetApplication(ctx context.Context, id string) (spec.Application, error) {
	a, err := scanApplication(t.queryRow(ctx, "SELECT "+applicationCols+" FROM applications WHERE id = $1", id))
	if err != nil {
		return spec.Application{}, notFound(err, "application %s", id)
	}
	return a, nil
}

// ListApplications pages through applications in creation order; q.Q
// filters by name.
func (t *txn) ListApplications(ctx context.Context, f ApplicationFilter, q ListQuery) ([]spec.Application, int, error) {
	where := likeClause(1, "name")
	args := []any{likePattern(q.Q)}
	if f.ProjectID != "" {
		args = append(args, f.ProjectID)
		where += fmt.Sprintf(" AND project_id = $%d", len(args))
	}
	if f.Owner != "" {
		args = append(args, f.Owner)
		where += fmt.Sprintf(" AND project_id IS NULL AND owner_id = $%d", len(args))
	}
	out := []spec.Application{}
	total, err := t.page(ctx, listing{
		what: "list applications", cols: applicationCols, from: "applications",
		where: where, args: args, order: "created_at, id",
	}, q, func(rows *sql.Rows) error {
		a, err := scanApplication(rows)
		out = append(out, a)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// UpdateApplication replaces name, description and services of a.ID (the
// owner never changes).
func (t *txn) UpdateApplication(ctx context.Context, a *spec.Application) error {
	var c jsonCodec
	services := c.encode("services", a.Services)
	if c.err != nil {
		return fmt.Errorf("update application %s: %w", a.ID, c.err)
	}
	ts := now()
	var created int64
	err := t.queryRow(ctx, `UPDATE applications SET name = $2, description = $3, services = $4, updated_at = $5
		WHERE id = $1 RETURNING created_at`, a.ID, a.Name, a.Description, services, toNanos(ts)).Scan(&created)
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("application %q already exists: %w", a.Name, ErrConflict)
		}
		return notFound(err, "update application %s", a.ID)
	}
	a.CreatedAt, a.UpdatedAt = fromNanos(created), ts
	return nil
}

// DeleteApplication removes an application with its credentials and
// subscriptions.
func (t *txn) DeleteApplication(ctx context.Context, id string) error {
	return t.execOne(ctx, "delete application "+id, "DELETE FROM applications WHERE id = $1", id)
}
