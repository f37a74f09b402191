package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const versionCols = "id, project_id, service_id, version, service, created_by, created_at"

func scanVersion(s scanner) (spec.Version, error) {
	var v spec.Version
	var service string
	var created int64
	if err := s.Scan(&v.ID, &v.ProjectID, &v.ServiceID, &v.Version, &service, &v.CreatedBy, &created); err != nil {
		return spec.Version{}, err
	}
	var c jsonCodec
	c.decode("service", service, &v.Service)
	if c.err != nil {
		return spec.Version{}, c.err
	}
	v.CreatedAt = fromNanos(created)
	return v, nil
}

// CreateVersion freezes a service (routes included) under a version string.
// Versions are never updated: a second one with the same string for the
// service is ErrConflict.
func (t *txn) CreateVersion(ctx context.Context, v *spec.Version) error {
	if err := ensureID(&v.ID); err != nil {
		return err
	}
	var c jsonCodec
	service := c.encode("service", v.Service)
	if c.err != nil {
		return fmt.Errorf("create version %q: %w", v.Version, c.err)
	}
	v.CreatedAt = now()
	_, err := t.exec(ctx, "INSERT INTO versions ("+versionCols+") VALUES ($1, $2, $3, $4, $5, $6, $7)",
		v.ID, v.ProjectID, v.ServiceID, v.Version, service, v.CreatedBy, toNanos(v.CreatedAt))
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("version %q of service %s already exists: %w", v.Version, v.ServiceID, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create version %q: service %s: %w", v.Version, v.ServiceID, ErrNotFound)
		}
		return fmt.Errorf("create version %q of service %s: %w", v.Version, v.ServiceID, err)
	}
	return nil
}

func (t *txn) GetVersion(ctx context.Context, service, version string) (spec.Version, error) {
	v, err := scanVersion(t.queryRow(ctx, "SELECT "+versionCols+" FROM versions WHERE service_id = $1 AND version = $2",
		service, version))
	if err != nil {
		return spec.Version{}, notFound(err, "version %q of service %s", version, service)
	}
	if err := t.fillFolderPath(ctx, &v.Service, nil); err != nil {
		return spec.Version{}, fmt.Errorf("version %q of service %s: %w", version, service, err)
	}
	return v, nil
}

// ListVersions returns the versions of a service, newest first.
func (t *txn) ListVersions(ctx context.Context, service string) ([]spec.Version, error) {
	out := []spec.Version{}
	err := t.each(ctx, fmt.Sprintf("list versions of service %s", service), func(rows *sql.Rows) error {
		v, err := scanVersion(rows)
		out = append(out, v)
		return err
	}, "SELECT "+versionCols+" FROM versions WHERE service_id = $1 ORDER BY created_at DESC, id DESC", service)
	if err != nil {
		return nil, err
	}
	cache := map[string]string{}
	for i := range out {
		if err := t.fillFolderPath(ctx, &out[i].Service, cache); err != nil {
			return nil, fmt.Errorf("list versions of service %s: %w", service, err)
		}
	}
	return out, nil
}
