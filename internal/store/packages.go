package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

// Packages imported into a project (migration 00030): the record of every
// import, refused or applied, with the uploaded zip kept until the
// package is published.

const packageCols = `id, project_id, name, description, source_project, exported_at, services, uses, state, reason,
	errors, unmapped, mapping, result, attempts, size, created_by, created_at, updated_by, updated_at`

func scanPackage(s scanner) (spec.Package, error) {
	var p spec.Package
	var exported, created, updated int64
	var services, uses, errs, unmapped, mapping, result string
	if err := s.Scan(&p.ID, &p.Project, &p.Name, &p.Description, &p.SourceProject, &exported, &services, &uses,
		&p.State, &p.Reason, &errs, &unmapped, &mapping, &result, &p.Attempts, &p.Size,
		&p.CreatedBy, &created, &p.UpdatedBy, &updated); err != nil {
		return spec.Package{}, err
	}
	p.ExportedAt, p.CreatedAt, p.UpdatedAt = fromNanos(exported), fromNanos(created), fromNanos(updated)
	var c jsonCodec
	c.decode("services", services, &p.Services)
	c.decode("uses", uses, &p.Uses)
	c.decode("errors", errs, &p.Errors)
	c.decode("unmapped", unmapped, &p.Unmapped)
	c.decode("mapping", mapping, &p.Mapping)
	c.decode("result", result, &p.Result)
	return p, c.err
}

// packageJSON renders the nested fields of p in the order of the columns
// services, uses, errors, unmapped, mapping, result.
func packageJSON(p *spec.Package) ([]any, error) {
	var c jsonCodec
	out := []any{
		c.encode("services", p.Services), c.encode("uses", p.Uses), c.encode("errors", p.Errors),
		c.encode("unmapped", p.Unmapped), c.encode("mapping", p.Mapping), c.encode("result", p.Result),
	}
	return out, c.err
}

// CreatePackage records an uploaded package with its zip; it sets the
// id (when empty), Size, Attempts 0 and both timestamps. A missing
// project is ErrNotFound.
func (t *txn) CreatePackage(ctx context.Context, p *spec.Package, content []byte) error {
	if err := ensureID(&p.ID); err != nil {
		return err
	}
	ts := now()
	p.CreatedAt, p.UpdatedAt, p.Size = ts, ts, len(content)
	if p.UpdatedBy == "" {
		p.UpdatedBy = p.CreatedBy
	}
	js, err := packageJSON(p)
	if err != nil {
		return fmt.Errorf("create package %q: %w", p.Name, err)
	}
	args := append([]any{p.ID, p.Project, p.Name, p.Description, p.SourceProject, toNanos(p.ExportedAt)}, js[:2]...)
	args = append(args, p.State, p.Reason)
	args = append(args, js[2:]...)
	args = append(args, p.Attempts, p.Size, base64.StdEncoding.EncodeToString(content),
		p.CreatedBy, toNanos(ts), p.UpdatedBy, toNanos(ts))
	_, err = t.exec(ctx, `INSERT INTO packages (id, project_id, name, description, source_project, exported_at,
		services, uses, state, reason, errors, unmapped, mapping, result, attempts, size, content,
		created_by, created_at, updated_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`, args...)
	if err != nil {
		if t.kind(err) == errForeignKey {
			return fmt.Errorf("create package %q: project %q: %w", p.Name, p.Project, ErrNotFound)
		}
		return fmt.Errorf("create package %q: %w", p.Name, err)
	}
	return nil
}

// GetPackage reads one package of a project, without its zip.
func (t *txn) GetPackage(ctx context.Context, project, id string) (spec.Package, error) {
	p, err := scanPackage(t.queryRow(ctx, "SELECT "+packageCols+" FROM packages WHERE project_id = $1 AND id = $2", project, id))
	if err != nil {
		return spec.Package{}, notFound(err, "package %q of project %q", id, project)
	}
	return p, nil
}

// PackageContent reads a package's uploaded zip; a published one's is
// gone (nil).
func (t *txn) PackageContent(ctx context.Context, project, id string) ([]byte, error) {
	var text string
	err := t.queryRow(ctx, "SELECT content FROM packages WHERE project_id = $1 AND id = $2", project, id).Scan(&text)
	if err != nil {
		return nil, notFound(err, "package %q of project %q", id, project)
	}
	if text == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("package %q of project %q: content: %w", id, project, err)
	}
	return b, nil
}

// ListPackages pages through a project's packages, newest first; state
// "" is every state, and q matches the name, the description or the
// source project.
func (t *txn) ListPackages(ctx context.Context, project, state string, q ListQuery) ([]spec.Package, int, error) {
	where, args := "project_id = $1", []any{project}
	if state != "" {
		args = append(args, state)
		where += fmt.Sprintf(" AND state = $%d", len(args))
	}
	if q.Q != "" {
		args = append(args, likePattern(q.Q))
		where += " AND " + likeClause(len(args), "name", "description", "source_project")
	}
	out := []spec.Package{}
	total, err := t.page(ctx, listing{
		what: "list packages of project " + project, cols: packageCols, from: "packages",
		where: where, args: args, order: "created_at DESC, id DESC",
	}, q, func(rows *sql.Rows) error {
		p, err := scanPackage(rows)
		out = append(out, p)
		return err
	})
	return out, total, err
}

// UpdatePackage records an attempt's outcome: state, reason, errors,
// unmapped, mapping, result, attempts and who made it (UpdatedBy); it
// sets UpdatedAt. A published package's zip is dropped: it is not
// applied again. Name, description and source stay as uploaded.
func (t *txn) UpdatePackage(ctx context.Context, p *spec.Package) error {
	js, err := packageJSON(p)
	if err != nil {
		return fmt.Errorf("update package %s: %w", p.ID, err)
	}
	p.UpdatedAt = now()
	args := []any{p.Project, p.ID, p.State, p.Reason}
	args = append(args, js[2:]...)
	args = append(args, p.Attempts, p.UpdatedBy, toNanos(p.UpdatedAt))
	drop := ""
	if p.State == spec.PackagePublished {
		drop = ", content = ''"
	}
	return t.execOne(ctx, fmt.Sprintf("update package %s of project %q", p.ID, p.Project), `UPDATE packages
		SET state = $3, reason = $4, errors = $5, unmapped = $6, mapping = $7, result = $8, attempts = $9,
		updated_by = $10, updated_at = $11`+drop+` WHERE project_id = $1 AND id = $2`, args...)
}

// DeletePackage removes a package's record and its zip.
func (t *txn) DeletePackage(ctx context.Context, project, id string) error {
	return t.execOne(ctx, fmt.Sprintf("delete package %s of project %q", id, project),
		"DELETE FROM packages WHERE project_id = $1 AND id = $2", project, id)
}
