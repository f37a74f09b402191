package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const projectCols = "id, name, description, test_group, production_group, created_at, updated_at, listing_approver, webhook_url, webhook_secret"

func scanProject(s scanner) (spec.Project, error) {
	var p spec.Project
	var created, updated int64
	var hookURL, hookSecret string
	if err := s.Scan(&p.ID, &p.Name, &p.Description, &p.TestGroup, &p.ProductionGroup, &created, &updated,
		&p.ListingApprover, &hookURL, &hookSecret); err != nil {
		return spec.Project{}, err
	}
	if hookURL != "" {
		p.Webhook = &spec.Webhook{URL: hookURL, SecretSet: hookSecret != ""}
	}
	p.CreatedAt, p.UpdatedAt = fromNanos(created), fromNanos(updated)
	return p, nil
}

// CreateProject stores a project; its ID is the slug the caller chose.
func (t *txn) CreateProject(ctx context.Context, p *spec.Project) error {
	ts := now()
	p.CreatedAt, p.UpdatedAt = ts, ts
	p.ListingApprover = approverOr(p.ListingApprover)
	_, err := t.exec(ctx, "INSERT INTO projects ("+projectCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', '')",
		p.ID, p.Name, p.Description, p.TestGroup, p.ProductionGroup, toNanos(ts), toNanos(ts), p.ListingApprover)
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("project %q already exists: %w", p.ID, ErrConflict)
		}
		return fmt.Errorf("create project %q: %w", p.ID, err)
	}
	return nil
}

func (t *txn) GetProject(ctx context.Context, id string) (spec.Project, error) {
	p, err := scanProject(t.queryRow(ctx, "SELECT "+projectCols+" FROM projects WHERE id = $1", id))
	if err != nil {
		return spec.Project{}, notFound(err, "project %q", id)
	}
	return p, nil
}

func (t *txn) ListProjects(ctx context.Context, q ListQuery) ([]spec.Project, int, error) {
	out := []spec.Project{}
	total, err := t.page(ctx, listing{
		what:  "list projects",
		cols:  projectCols,
		from:  "projects",
		where: likeClause(1, "name"),
		args:  []any{likePattern(q.Q)},
		order: "created_at, id",
	}, q, func(rows *sql.Rows) error {
		p, err := scanProject(rows)
		out = append(out, p)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// UpdateProject replaces the editable fields of project p.ID; the
// webhook changes only through SetProjectWebhook.
func (t *txn) UpdateProject(ctx context.Context, p *spec.Project) error {
	ts := now()
	p.ListingApprover = approverOr(p.ListingApprover)
	var created int64
	err := t.queryRow(ctx, `UPDATE projects SET name = $2, description = $3, test_group = $4,
			production_group = $5, updated_at = $6, listing_approver = $7
		WHERE id = $1 RETURNING created_at`,
		p.ID, p.Name, p.Description, p.TestGroup, p.ProductionGroup, toNanos(ts), p.ListingApprover).Scan(&created)
	if err != nil {
		return notFound(err, "update project %q", p.ID)
	}
	p.CreatedAt, p.UpdatedAt = fromNanos(created), ts
	return nil
}

// DeleteProject removes an empty project; one that still has upstreams or
// services is ErrConflict.
func (t *txn) DeleteProject(ctx context.Context, id string) error {
	err := t.execOne(ctx, fmt.Sprintf("delete project %q", id), "DELETE FROM projects WHERE id = $1", id)
	if err != nil && t.kind(err) == errForeignKey {
		return fmt.Errorf("delete project %q: it still has upstreams or services: %w", id, ErrConflict)
	}
	return err
}

// approverOr is who approves listings: project admins unless one is named.
func approverOr(a string) string {
	if a == "" {
		return spec.ApproverProjectAdmin
	}
	return a
}
