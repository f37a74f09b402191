package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// Kinds of user tokens (Token.Kind).
const (
	TokenSession = "session" // a login
	TokenPAT     = "pat"     // a personal access token
	TokenInvite  = "invite"  // a one-time link that sets an invited user's password
	TokenReset   = "reset"   // a one-time link that resets a password
)

const tokenCols = "id, user_id, hash, name, kind, scope, expires_at, last_used_at, client, user_agent, created_at"

func scanToken(s scanner, extra ...any) (Token, error) {
	var tok Token
	var expires, used, created int64
	if err := s.Scan(append([]any{&tok.ID, &tok.UserID, &tok.Hash, &tok.Name, &tok.Kind, &tok.Scope, &expires, &used,
		&tok.Client, &tok.UserAgent, &created}, extra...)...); err != nil {
		return Token{}, err
	}
	tok.ExpiresAt, tok.LastUsedAt, tok.CreatedAt = fromNanos(expires), fromNanos(used), fromNanos(created)
	return tok, nil
}

// CreateToken stores a token's hash. A zero ExpiresAt never expires; an
// empty Kind is a session, an empty Scope full.
func (t *txn) CreateToken(ctx context.Context, tok *Token) error {
	if err := ensureID(&tok.ID); err != nil {
		return err
	}
	if tok.Kind == "" {
		tok.Kind = TokenSession
	}
	if tok.Scope == "" {
		tok.Scope = spec.ScopeFull
	}
	tok.CreatedAt = now()
	_, err := t.exec(ctx, `INSERT INTO tokens (`+tokenCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10)`,
		tok.ID, tok.UserID, tok.Hash, tok.Name, tok.Kind, tok.Scope, toNanos(tok.ExpiresAt),
		tok.Client, tok.UserAgent, toNanos(tok.CreatedAt))
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

// TokenByHash returns a live bearer token (a session or a personal access
// token) and its user. An expired token, a token of a disabled user and a
// one-time link are ErrNotFound, exactly like a missing one, so callers
// cannot tell them apart.
func (t *txn) TokenByHash(ctx context.Context, hash string) (Token, spec.User, error) {
	var tok Token
	var expires, used, created int64
	u, err := scanUser(t.queryRow(ctx, `SELECT u.id, u.username, u.role, u.display_name, u.email, u.disabled, u.external,
			u.password_hash <> '', u.last_login_at, u.created_at, u.updated_at,
			k.id, k.user_id, k.hash, k.name, k.kind, k.scope, k.expires_at, k.last_used_at, k.client, k.user_agent, k.created_at
		FROM tokens k JOIN users u ON u.id = k.user_id
		WHERE k.hash = $1 AND k.kind IN ('session', 'pat') AND u.disabled = 0 AND (k.expires_at = 0 OR k.expires_at > $2)`,
		hash, toNanos(now())),
		&tok.ID, &tok.UserID, &tok.Hash, &tok.Name, &tok.Kind, &tok.Scope, &expires, &used, &tok.Client, &tok.UserAgent, &created)
	if err != nil {
		return Token{}, spec.User{}, notFound(err, "token")
	}
	tok.ExpiresAt, tok.LastUsedAt, tok.CreatedAt = fromNanos(expires), fromNanos(used), fromNanos(created)
	return tok, u, nil
}

// TakeLinkToken returns and deletes a live one-time link token of kind
// (TokenInvite, TokenReset), so that it works once.
func (t *txn) TakeLinkToken(ctx context.Context, hash, kind string) (Token, error) {
	tok, err := scanToken(t.queryRow(ctx, "SELECT "+tokenCols+` FROM tokens
		WHERE hash = $1 AND kind = $2 AND (expires_at = 0 OR expires_at > $3)`, hash, kind, toNanos(now())))
	if err != nil {
		return Token{}, notFound(err, "%s link", kind)
	}
	if err := t.execOne(ctx, "take "+kind+" link", "DELETE FROM tokens WHERE id = $1", tok.ID); err != nil {
		return Token{}, err
	}
	return tok, nil
}

// ListTokens returns a user's live tokens of one kind, newest first.
func (t *txn) ListTokens(ctx context.Context, userID, kind string) ([]Token, error) {
	out := []Token{}
	err := t.each(ctx, "list tokens of user "+userID, func(rows *sql.Rows) error {
		tok, err := scanToken(rows)
		out = append(out, tok)
		return err
	}, "SELECT "+tokenCols+` FROM tokens WHERE user_id = $1 AND kind = $2 AND (expires_at = 0 OR expires_at > $3)
		ORDER BY created_at DESC, id DESC`, userID, kind, toNanos(now()))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteToken deletes the token whose SHA-256 is hash.
func (t *txn) DeleteToken(ctx context.Context, hash string) error {
	return t.execOne(ctx, "delete token", "DELETE FROM tokens WHERE hash = $1", hash)
}

// DeleteUserToken deletes one token of a user by id and kind.
func (t *txn) DeleteUserToken(ctx context.Context, userID, kind, id string) error {
	return t.execOne(ctx, fmt.Sprintf("delete %s %s of user %s", kind, id, userID),
		"DELETE FROM tokens WHERE user_id = $1 AND kind = $2 AND id = $3", userID, kind, id)
}

// DeleteUserTokens deletes a user's tokens of the given kinds (every kind
// when none is given) and answers how many went.
func (t *txn) DeleteUserTokens(ctx context.Context, userID string, kinds ...string) (int, error) {
	q, args := "DELETE FROM tokens WHERE user_id = $1", []any{userID}
	if len(kinds) > 0 {
		q += " AND kind IN (" + placeholders(2, len(kinds)) + ")"
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("delete tokens of user %s: %w", userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete tokens of user %s: %w", userID, err)
	}
	return int(n), nil
}

// TouchToken records a token's use.
func (t *txn) TouchToken(ctx context.Context, id string, at time.Time) error {
	return t.execOne(ctx, "touch token "+id, "UPDATE tokens SET last_used_at = $1 WHERE id = $2", toNanos(at), id)
}

// PruneTokens deletes tokens that expired before cutoff.
func (t *txn) PruneTokens(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := t.exec(ctx, "DELETE FROM tokens WHERE expires_at <> 0 AND expires_at < $1", toNanos(cutoff))
	if err != nil {
		return 0, fmt.Errorf("prune tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune tokens: %w", err)
	}
	return int(n), nil
}
