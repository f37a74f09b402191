package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

const gatewayTokenCols = "id, group_name, name, hint, expires_at, last_used_at, created_by, created_at"

func scanGatewayToken(s scanner) (spec.GatewayToken, error) {
	var g spec.GatewayToken
	var expires, used, created int64
	if err := s.Scan(&g.ID, &g.Group, &g.Name, &g.Hint, &expires, &used, &g.CreatedBy, &created); err != nil {
		return spec.GatewayToken{}, err
	}
	g.ExpiresAt, g.LastUsedAt, g.CreatedAt = fromNanos(expires), fromNanos(used), fromNanos(created)
	return g, nil
}

// CreateGatewayToken stores tok (its Token is not stored) with hash, the
// hex SHA-256 of the token. A missing group is ErrNotFound, a name the
// group already has ErrConflict.
func (t *txn) CreateGatewayToken(ctx context.Context, tok *spec.GatewayToken, hash string) error {
	if err := ensureID(&tok.ID); err != nil {
		return err
	}
	tok.CreatedAt, tok.LastUsedAt, tok.Token = now(), time.Time{}, ""
	_, err := t.exec(ctx, `INSERT INTO gateway_tokens (id, group_name, name, hash, hint, expires_at, last_used_at, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)`,
		tok.ID, tok.Group, tok.Name, hash, tok.Hint, toNanos(tok.ExpiresAt), tok.CreatedBy, toNanos(tok.CreatedAt))
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("gateway group %q already has a token named %q: %w", tok.Group, tok.Name, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create gateway token: gateway group %q: %w", tok.Group, ErrNotFound)
		}
		return fmt.Errorf("create gateway token %q: %w", tok.Name, err)
	}
	return nil
}

// GetGatewayToken returns one token of a group, expired or not.
func (t *txn) GetGatewayToken(ctx context.Context, group, id string) (spec.GatewayToken, error) {
	g, err := scanGatewayToken(t.queryRow(ctx, "SELECT "+gatewayTokenCols+" FROM gateway_tokens WHERE group_name = $1 AND id = $2", group, id))
	if err != nil {
		return g, notFound(err, "gateway token %s of group %s", id, group)
	}
	return g, nil
}

// ListGatewayTokens returns a group's tokens in creation order.
func (t *txn) ListGatewayTokens(ctx context.Context, group string) ([]spec.GatewayToken, error) {
	out := []spec.GatewayToken{}
	err := t.each(ctx, "list gateway tokens of group "+group, func(rows *sql.Rows) error {
		g, err := scanGatewayToken(rows)
		out = append(out, g)
		return err
	}, "SELECT "+gatewayTokenCols+" FROM gateway_tokens WHERE group_name = $1 ORDER BY created_at, id", group)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteGatewayToken revokes a token: the next request presenting it is
// refused.
func (t *txn) DeleteGatewayToken(ctx context.Context, group, id string) error {
	return t.execOne(ctx, fmt.Sprintf("delete gateway token %s of group %s", id, group),
		"DELETE FROM gateway_tokens WHERE group_name = $1 AND id = $2", group, id)
}

// GatewayTokenByHash returns the live token whose SHA-256 is hash; an
// expired token is ErrNotFound, exactly like a missing one.
func (t *txn) GatewayTokenByHash(ctx context.Context, hash string) (spec.GatewayToken, error) {
	g, err := scanGatewayToken(t.queryRow(ctx, "SELECT "+gatewayTokenCols+` FROM gateway_tokens
		WHERE hash = $1 AND (expires_at = 0 OR expires_at > $2)`, hash, toNanos(now())))
	if err != nil {
		return g, notFound(err, "gateway token")
	}
	return g, nil
}

// TouchGatewayToken records that a gateway presented the token at at.
func (t *txn) TouchGatewayToken(ctx context.Context, id string, at time.Time) error {
	return t.execOne(ctx, "touch gateway token "+id, "UPDATE gateway_tokens SET last_used_at = $2 WHERE id = $1", id, toNanos(at.UTC()))
}
