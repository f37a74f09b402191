package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
)

// CatalogFilter narrows the catalog: Q matches a service's name or
// description, Folder keeps a folder's services, Tag a label ("key" or
// "key=value"), Project one project's.
type CatalogFilter struct {
	Q, Folder, Tag, Project string
}

const listingCols = "service_id, project_id, version, auto_approve, listed_by, listed_at, updated_at"

func scanListing(s scanner) (spec.Listing, error) {
	var l spec.Listing
	var auto int
	var listed, updated int64
	if err := s.Scan(&l.ServiceID, &l.ProjectID, &l.Version, &auto, &l.ListedBy, &listed, &updated); err != nil {
		return spec.Listing{}, err
	}
	l.AutoApprove, l.ListedAt, l.UpdatedAt = auto != 0, fromNanos(listed), fromNanos(updated)
	return l, nil
}

// PutListing lists a service in the catalog, or changes its listing.
func (t *txn) PutListing(ctx context.Context, l *spec.Listing) error {
	ts := now()
	if l.ListedAt.IsZero() {
		l.ListedAt = ts
	}
	l.UpdatedAt = ts
	_, err := t.exec(ctx, `INSERT INTO listings (`+listingCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (service_id) DO UPDATE SET version = excluded.version, auto_approve = excluded.auto_approve,
			listed_by = excluded.listed_by, updated_at = excluded.updated_at`,
		l.ServiceID, l.ProjectID, l.Version, boolInt(l.AutoApprove), l.ListedBy, toNanos(l.ListedAt), toNanos(ts))
	if err != nil {
		if t.kind(err) == errForeignKey {
			return fmt.Errorf("list service %s: %w", l.ServiceID, ErrNotFound)
		}
		return fmt.Errorf("list service %s: %w", l.ServiceID, err)
	}
	return nil
}

// GetListing reads a service's listing; an unlisted service is ErrNotFound.
func (t *txn) GetListing(ctx context.Context, service string) (spec.Listing, error) {
	l, err := scanListing(t.queryRow(ctx, "SELECT "+listingCols+" FROM listings WHERE service_id = $1", service))
	if err != nil {
		return spec.Listing{}, notFound(err, "listing of service %s", service)
	}
	return l, nil
}

// DeleteListing removes a service from the catalog.
func (t *txn) DeleteListing(ctx context.Context, service string) error {
	return t.execOne(ctx, "delist service "+service, "DELETE FROM listings WHERE service_id = $1", service)
}

// ListCatalog pages through the listed services that are published (a
// disabled one stays listed but hidden), by name.
func (t *txn) ListCatalog(ctx context.Context, f CatalogFilter, q ListQuery) ([]spec.Service, int, error) {
	where := "state = '" + spec.StatePublished + "' AND id IN (SELECT service_id FROM listings) AND " +
		likeClause(1, "name", "description")
	args := []any{likePattern(f.Q)}
	if f.Folder != "" {
		args = append(args, f.Folder)
		where += fmt.Sprintf(" AND folder_id = $%d", len(args))
	}
	if f.Project != "" {
		args = append(args, f.Project)
		where += fmt.Sprintf(" AND project_id = $%d", len(args))
	}
	if f.Tag != "" {
		// labels hold a JSON object as encoding/json writes it: "k":"v"
		// pairs with no space, so a tag is a substring of the text.
		k, v, hasValue := strings.Cut(f.Tag, "=")
		pat := jsonString(k) + ":"
		if hasValue {
			pat += jsonString(v)
		}
		r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
		args = append(args, "%"+r.Replace(pat)+"%")
		where += fmt.Sprintf(` AND labels LIKE $%d ESCAPE '\'`, len(args))
	}
	out := []spec.Service{}
	total, err := t.page(ctx, listing{
		what: "list the catalog", cols: serviceCols, from: "services",
		where: where, args: args, order: "name, project_id, id",
	}, q, func(rows *sql.Rows) error {
		s, err := scanService(rows)
		out = append(out, s)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

func jsonString(s string) string {
	var c jsonCodec
	return c.encode("tag", s)
}

const planCols = "id, service_id, project_id, name, description, quotas, created_at, updated_at"

func scanPlan(s scanner) (spec.Plan, error) {
	var p spec.Plan
	var quotas string
	var created, updated int64
	if err := s.Scan(&p.ID, &p.ServiceID, &p.ProjectID, &p.Name, &p.Description, &quotas, &created, &updated); err != nil {
		return spec.Plan{}, err
	}
	var c jsonCodec
	c.decode("quotas", quotas, &p.Quotas)
	p.CreatedAt, p.UpdatedAt = fromNanos(created), fromNanos(updated)
	return p, c.err
}

// CreatePlan stores a plan of a service; a second plan of the name is
// ErrConflict.
func (t *txn) CreatePlan(ctx context.Context, p *spec.Plan) error {
	if err := ensureID(&p.ID); err != nil {
		return err
	}
	ts := now()
	p.CreatedAt, p.UpdatedAt = ts, ts
	var c jsonCodec
	quotas := c.encode("quotas", p.Quotas)
	if c.err != nil {
		return c.err
	}
	_, err := t.exec(ctx, "INSERT INTO plans ("+planCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		p.ID, p.ServiceID, p.ProjectID, p.Name, p.Description, quotas, toNanos(ts), toNanos(ts))
	switch {
	case err == nil:
		return nil
	case t.kind(err) == errUnique:
		return fmt.Errorf("plan %q of service %s already exists: %w", p.Name, p.ServiceID, ErrConflict)
	case t.kind(err) == errForeignKey:
		return fmt.Errorf("plan %q: service %s: %w", p.Name, p.ServiceID, ErrNotFound)
	}
	return fmt.Errorf("create plan %q: %w", p.Name, err)
}

// GetPlan reads a plan of a service by id or name.
func (t *txn) GetPlan(ctx context.Context, service, idOrName string) (spec.Plan, error) {
	p, err := scanPlan(t.queryRow(ctx, "SELECT "+planCols+" FROM plans WHERE service_id = $1 AND (id = $2 OR name = $2)",
		service, idOrName))
	if err != nil {
		return spec.Plan{}, notFound(err, "plan %q of service %s", idOrName, service)
	}
	return p, nil
}

// ListPlans lists a service's plans by name.
func (t *txn) ListPlans(ctx context.Context, service string) ([]spec.Plan, error) {
	out := []spec.Plan{}
	err := t.each(ctx, "list plans of service "+service, func(rows *sql.Rows) error {
		p, err := scanPlan(rows)
		out = append(out, p)
		return err
	}, "SELECT "+planCols+" FROM plans WHERE service_id = $1 ORDER BY name, id", service)
	return out, err
}

// UpdatePlan replaces a plan's name, description and quotas.
func (t *txn) UpdatePlan(ctx context.Context, p *spec.Plan) error {
	ts := now()
	var c jsonCodec
	quotas := c.encode("quotas", p.Quotas)
	if c.err != nil {
		return c.err
	}
	var created int64
	err := t.queryRow(ctx, `UPDATE plans SET name = $3, description = $4, quotas = $5, updated_at = $6
		WHERE service_id = $1 AND id = $2 RETURNING created_at`,
		p.ServiceID, p.ID, p.Name, p.Description, quotas, toNanos(ts)).Scan(&created)
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("plan %q of service %s already exists: %w", p.Name, p.ServiceID, ErrConflict)
		}
		return notFound(err, "update plan %s", p.ID)
	}
	p.CreatedAt, p.UpdatedAt = fromNanos(created), ts
	return nil
}

// DeletePlan removes a plan no subscription uses; one in use is
// ErrConflict.
func (t *txn) DeletePlan(ctx context.Context, service, id string) error {
	var n int
	if err := t.queryRow(ctx, "SELECT COUNT(*) FROM subscriptions WHERE plan_id = $1", id).Scan(&n); err != nil {
		return fmt.Errorf("delete plan %s: %w", id, err)
	}
	if n > 0 {
		return fmt.Errorf("delete plan %s: %d subscriptions use it: %w", id, n, ErrConflict)
	}
	return t.execOne(ctx, "delete plan "+id, "DELETE FROM plans WHERE service_id = $1 AND id = $2", service, id)
}
