package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

const registryCols = "id, group_name, spec, sealed, created_at, updated_at"

func scanRegistry(s scanner) (spec.Registry, error) {
	var r spec.Registry
	var body, sealed string
	var created, updated int64
	if err := s.Scan(&r.ID, &r.Group, &body, &sealed, &created, &updated); err != nil {
		return spec.Registry{}, err
	}
	var codec jsonCodec
	codec.decode("registry", body, &r)
	if codec.err != nil {
		return spec.Registry{}, codec.err
	}
	r.Sealed = sealed
	r.CreatedAt, r.UpdatedAt = fromNanos(created), fromNanos(updated)
	return r, nil
}

// registryBody is the stored JSON: no credential in any form (only
// has_password and has_token say one is sealed), no status (what
// gateways report is kept with them), and nothing the columns hold.
func registryBody(r *spec.Registry) (string, error) {
	b := r.Redacted()
	b.ID, b.Group, b.Status, b.CreatedAt, b.UpdatedAt = "", "", nil, r.CreatedAt, r.UpdatedAt
	out, err := json.Marshal(b)
	return string(out), err
}

// CreateRegistry stores r; r.Sealed is its sealed credentials ("" none),
// r.Password and r.Token are not stored. A missing group is ErrNotFound,
// a name the group already has ErrConflict.
func (t *txn) CreateRegistry(ctx context.Context, r *spec.Registry) error {
	if err := ensureID(&r.ID); err != nil {
		return err
	}
	ts := now()
	r.CreatedAt, r.UpdatedAt = ts, ts
	body, err := registryBody(r)
	if err != nil {
		return fmt.Errorf("create registry %q: %w", r.Name, err)
	}
	_, err = t.exec(ctx, `INSERT INTO registries (id, group_name, name, spec, sealed, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.ID, r.Group, r.Name, body, r.Sealed, toNanos(ts), toNanos(ts))
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("gateway group %q already has a registry named %q: %w", r.Group, r.Name, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create registry %q: gateway group %q: %w", r.Name, r.Group, ErrNotFound)
		}
		return fmt.Errorf("create registry %q: %w", r.Name, err)
	}
	return nil
}

// GetRegistry finds a registry of the group by id, else by name; Sealed
// is filled (callers redact).
func (t *txn) GetRegistry(ctx context.Context, group, idOrName string) (spec.Registry, error) {
	r, err := scanRegistry(t.queryRow(ctx, "SELECT "+registryCols+` FROM registries
		WHERE group_name = $1 AND (id = $2 OR name = $2)
		ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1`, group, idOrName))
	if err != nil {
		return spec.Registry{}, notFound(err, "registry %q of group %q", idOrName, group)
	}
	return r, nil
}

// ListRegistries returns a group's registries in creation order, with
// Sealed filled (callers redact).
func (t *txn) ListRegistries(ctx context.Context, group string) ([]spec.Registry, error) {
	out := []spec.Registry{}
	err := t.each(ctx, "list registries of group "+group, func(rows *sql.Rows) error {
		r, err := scanRegistry(rows)
		out = append(out, r)
		return err
	}, "SELECT "+registryCols+" FROM registries WHERE group_name = $1 ORDER BY created_at, id", group)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateRegistry replaces registry r.ID of r.Group, its sealed
// credentials included.
func (t *txn) UpdateRegistry(ctx context.Context, r *spec.Registry) error {
	ts := now()
	r.UpdatedAt = ts
	body, err := registryBody(r)
	if err != nil {
		return fmt.Errorf("update registry %q: %w", r.Name, err)
	}
	var created int64
	err = t.queryRow(ctx, `UPDATE registries SET name = $3, spec = $4, sealed = $5, updated_at = $6
		WHERE id = $1 AND group_name = $2 RETURNING created_at`,
		r.ID, r.Group, r.Name, body, r.Sealed, toNanos(ts)).Scan(&created)
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("gateway group %q already has a registry named %q: %w", r.Group, r.Name, ErrConflict)
		}
		return notFound(err, "update registry %s of group %q", r.ID, r.Group)
	}
	r.CreatedAt = fromNanos(created)
	return nil
}

// DeleteRegistry removes a registry of a group.
func (t *txn) DeleteRegistry(ctx context.Context, group, id string) error {
	return t.execOne(ctx, fmt.Sprintf("delete registry %s of group %q", id, group),
		"DELETE FROM registries WHERE group_name = $1 AND id = $2", group, id)
}

// groupRegistries are a group's registries as its snapshot carries them:
// credentials sealed (Sealed), never in clear, without what only the
// admin API shows.
func (t *txn) groupRegistries(ctx context.Context, group string) ([]spec.Registry, error) {
	registries, err := t.ListRegistries(ctx, group)
	if err != nil {
		return nil, err
	}
	if len(registries) == 0 {
		return nil, nil // as the snapshot of a group without any has always read
	}
	for i := range registries {
		r := &registries[i]
		r.Group, r.Password, r.Token, r.Secret, r.Status = "", "", "", "", nil
		r.CreatedAt, r.UpdatedAt = time.Time{}, time.Time{}
	}
	return registries, nil
}
