package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const certificateCols = "id, group_name, spec, sealed, is_default, created_at, updated_at"

func scanCertificate(s scanner) (spec.Certificate, error) {
	var c spec.Certificate
	var body, sealed string
	var isDefault int
	var created, updated int64
	if err := s.Scan(&c.ID, &c.Group, &body, &sealed, &isDefault, &created, &updated); err != nil {
		return spec.Certificate{}, err
	}
	var codec jsonCodec
	codec.decode("certificate", body, &c)
	if codec.err != nil {
		return spec.Certificate{}, codec.err
	}
	c.Sealed, c.Default = sealed, isDefault == 1
	c.CreatedAt, c.UpdatedAt = fromNanos(created), fromNanos(updated)
	return c, nil
}

// certificateBody is the stored JSON: no private key in any form, and
// nothing the columns hold.
func certificateBody(c *spec.Certificate) (string, error) {
	r := c.Redacted()
	r.ID, r.Group, r.Default, r.CreatedAt, r.UpdatedAt = "", "", false, c.CreatedAt, c.UpdatedAt
	b, err := json.Marshal(r)
	return string(b), err
}

// CreateCertificate stores c; c.Sealed is its sealed private key. A
// default certificate takes over from the group's previous default. A
// missing group is ErrNotFound, a name the group already has ErrConflict.
func (t *txn) CreateCertificate(ctx context.Context, c *spec.Certificate) error {
	if err := ensureID(&c.ID); err != nil {
		return err
	}
	ts := now()
	c.CreatedAt, c.UpdatedAt = ts, ts
	body, err := certificateBody(c)
	if err != nil {
		return fmt.Errorf("create certificate %q: %w", c.Name, err)
	}
	if err := t.clearDefaultCertificate(ctx, c); err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO certificates (id, group_name, name, spec, sealed, is_default, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.ID, c.Group, c.Name, body, c.Sealed, boolInt(c.Default), toNanos(ts), toNanos(ts))
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("gateway group %q already has a certificate named %q: %w", c.Group, c.Name, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create certificate %q: gateway group %q: %w", c.Name, c.Group, ErrNotFound)
		}
		return fmt.Errorf("create certificate %q: %w", c.Name, err)
	}
	return nil
}

// clearDefaultCertificate makes no other certificate of c's group its
// default, when c is.
func (t *txn) clearDefaultCertificate(ctx context.Context, c *spec.Certificate) error {
	if !c.Default {
		return nil
	}
	if _, err := t.exec(ctx, "UPDATE certificates SET is_default = 0 WHERE group_name = $1 AND id <> $2 AND is_default = 1", c.Group, c.ID); err != nil {
		return fmt.Errorf("certificate %q becomes the default of group %q: %w", c.Name, c.Group, err)
	}
	return nil
}

// GetCertificate finds a certificate of the group by id, else by name;
// Sealed is filled (callers redact).
func (t *txn) GetCertificate(ctx context.Context, group, idOrName string) (spec.Certificate, error) {
	c, err := scanCertificate(t.queryRow(ctx, "SELECT "+certificateCols+` FROM certificates
		WHERE group_name = $1 AND (id = $2 OR name = $2)
		ORDER BY CASE WHEN id = $2 THEN 0 ELSE 1 END LIMIT 1`, group, idOrName))
	if err != nil {
		return spec.Certificate{}, notFound(err, "certificate %q of group %q", idOrName, group)
	}
	return c, nil
}

// ListCertificates returns a group's certificates in creation order, with
// Sealed filled (callers redact).
func (t *txn) ListCertificates(ctx context.Context, group string) ([]spec.Certificate, error) {
	out := []spec.Certificate{}
	err := t.each(ctx, "list certificates of group "+group, func(rows *sql.Rows) error {
		c, err := scanCertificate(rows)
		out = append(out, c)
		return err
	}, "SELECT "+certificateCols+" FROM certificates WHERE group_name = $1 ORDER BY created_at, id", group)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateCertificate replaces certificate c.ID of c.Group, its sealed key
// included.
func (t *txn) UpdateCertificate(ctx context.Context, c *spec.Certificate) error {
	ts := now()
	c.UpdatedAt = ts
	body, err := certificateBody(c)
	if err != nil {
		return fmt.Errorf("update certificate %q: %w", c.Name, err)
	}
	if err := t.clearDefaultCertificate(ctx, c); err != nil {
		return err
	}
	var created int64
	err = t.queryRow(ctx, `UPDATE certificates SET name = $3, spec = $4, sealed = $5, is_default = $6, updated_at = $7
		WHERE id = $1 AND group_name = $2 RETURNING created_at`,
		c.ID, c.Group, c.Name, body, c.Sealed, boolInt(c.Default), toNanos(ts)).Scan(&created)
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("gateway group %q already has a certificate named %q: %w", c.Group, c.Name, ErrConflict)
		}
		return notFound(err, "update certificate %s of group %q", c.ID, c.Group)
	}
	c.CreatedAt = fromNanos(created)
	return nil
}

// DeleteCertificate removes a certificate of a group.
func (t *txn) DeleteCertificate(ctx context.Context, group, id string) error {
	return t.execOne(ctx, fmt.Sprintf("delete certificate %s of group %q", id, group),
		"DELETE FROM certificates WHERE group_name = $1 AND id = $2", group, id)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
