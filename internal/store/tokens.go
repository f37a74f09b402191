package store

import (
	"context"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

// CreateToken stores a token's hash. A zero ExpiresAt never expires.
func (t *txn) CreateToken(ctx context.Context, tok *Token) error {
	if err := ensureID(&tok.ID); err != nil {
		return err
	}
	tok.CreatedAt = now()
	_, err := t.exec(ctx, `INSERT INTO tokens (id, user_id, hash, name, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		tok.ID, tok.UserID, tok.Hash, tok.Name, toNanos(tok.ExpiresAt), toNanos(tok.CreatedAt))
	if err != nil {
		switch t.kind(err) {
		case errUnique:
			return fmt.Errorf("token %q already exists: %w", tok.Name, ErrConflict)
		case errForeignKey:
			return fmt.Errorf("create token: user %s: %w", tok.UserID, ErrNotFound)
		}
		return fmt.Errorf("create token %q: %w", tok.Name, err)
	}
	return nil
}

// TokenByHash returns a live token and its user; an expired token is
// ErrNotFound, exactly like a missing one, so callers cannot tell them apart.
func (t *txn) TokenByHash(ctx context.Context, hash string) (Token, spec.User, error) {
	var tok Token
	var expires, created int64
	u, err := scanUser(t.queryRow(ctx, `SELECT u.id, u.username, u.role, u.created_at,
			k.id, k.user_id, k.hash, k.name, k.expires_at, k.created_at
		FROM tokens k JOIN users u ON u.id = k.user_id
		WHERE k.hash = $1 AND (k.expires_at = 0 OR k.expires_at > $2)`,
		hash, toNanos(now())),
		&tok.ID, &tok.UserID, &tok.Hash, &tok.Name, &expires, &created)
	if err != nil {
		return Token{}, spec.User{}, notFound(err, "token")
	}
	tok.ExpiresAt, tok.CreatedAt = fromNanos(expires), fromNanos(created)
	return tok, u, nil
}

func (t *txn) DeleteToken(ctx context.Context, hash string) error {
	return t.execOne(ctx, "delete token", "DELETE FROM tokens WHERE hash = $1", hash)
}
