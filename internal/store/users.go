package store

import (
	"context"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const userCols = "id, username, role, created_at"

func scanUser(s scanner, extra ...any) (spec.User, error) {
	var u spec.User
	var created int64
	if err := s.Scan(append([]any{&u.ID, &u.Username, &u.Role, &created}, extra...)...); err != nil {
		return spec.User{}, err
	}
	u.CreatedAt = fromNanos(created)
	return u, nil
}

// CreateUser stores a user with an already hashed password.
func (t *txn) CreateUser(ctx context.Context, u *spec.User, passwordHash string) error {
	if err := ensureID(&u.ID); err != nil {
		return err
	}
	u.CreatedAt = now()
	_, err := t.exec(ctx, `INSERT INTO users (id, username, role, password_hash, created_at)
		VALUES ($1, $2, $3, $4, $5)`,
		u.ID, u.Username, u.Role, passwordHash, toNanos(u.CreatedAt))
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("user %q already exists: %w", u.Username, ErrConflict)
		}
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return nil
}

// UserByName returns the user and its password hash.
func (t *txn) UserByName(ctx context.Context, username string) (spec.User, string, error) {
	var hash string
	u, err := scanUser(t.queryRow(ctx, "SELECT "+userCols+", password_hash FROM users WHERE username = $1", username), &hash)
	if err != nil {
		return spec.User{}, "", notFound(err, "user %q", username)
	}
	return u, hash, nil
}

func (t *txn) GetUser(ctx context.Context, id string) (spec.User, error) {
	u, err := scanUser(t.queryRow(ctx, "SELECT "+userCols+" FROM users WHERE id = $1", id))
	if err != nil {
		return spec.User{}, notFound(err, "user %s", id)
	}
	return u, nil
}

func (t *txn) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := t.queryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}
