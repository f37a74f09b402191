package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

const userCols = "id, username, role, display_name, email, disabled, external, password_hash <> '', last_login_at, created_at, updated_at"

func scanUser(s scanner, extra ...any) (spec.User, error) {
	var u spec.User
	var disabled int
	var external string
	var login, created, updated int64
	if err := s.Scan(append([]any{&u.ID, &u.Username, &u.Role, &u.DisplayName, &u.Email, &disabled, &external,
		&u.PasswordSet, &login, &created, &updated}, extra...)...); err != nil {
		return spec.User{}, err
	}
	u.Disabled = disabled != 0
	u.Source = spec.UserLocal
	if external != "" {
		u.Source = spec.UserOIDC
	}
	u.LastLoginAt, u.CreatedAt, u.UpdatedAt = fromNanos(login), fromNanos(created), fromNanos(updated)
	return u, nil
}

// CreateUser stores a user with an already hashed password ("" for none
// yet: an invited user, or one who logs in through an OpenID provider).
// external is the provider's "issuer subject" of such a user, else "".
func (t *txn) CreateUser(ctx context.Context, u *spec.User, passwordHash string) error {
	return t.createUser(ctx, u, passwordHash, "")
}

// CreateExternalUser stores a user who logs in through an OpenID
// provider, identified there by external.
func (t *txn) CreateExternalUser(ctx context.Context, u *spec.User, external string) error {
	return t.createUser(ctx, u, "", external)
}

func (t *txn) createUser(ctx context.Context, u *spec.User, passwordHash, external string) error {
	if err := ensureID(&u.ID); err != nil {
		return err
	}
	u.CreatedAt = now()
	u.UpdatedAt = u.CreatedAt
	u.PasswordSet = passwordHash != ""
	u.Source = spec.UserLocal
	if external != "" {
		u.Source = spec.UserOIDC
	}
	_, err := t.exec(ctx, `INSERT INTO users (id, username, role, password_hash, display_name, email, disabled, external,
			last_login_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9)`,
		u.ID, u.Username, u.Role, passwordHash, u.DisplayName, u.Email, boolInt(u.Disabled), external, toNanos(u.CreatedAt))
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("user %q already exists: %w", u.Username, ErrConflict)
		}
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return nil
}

// UserByName returns the user and its password hash ("" when none is set).
func (t *txn) UserByName(ctx context.Context, username string) (spec.User, string, error) {
	var hash string
	u, err := scanUser(t.queryRow(ctx, "SELECT "+userCols+", password_hash FROM users WHERE username = $1", username), &hash)
	if err != nil {
		return spec.User{}, "", notFound(err, "user %q", username)
	}
	return u, hash, nil
}

// UserByExternal returns the user an OpenID provider knows as external.
func (t *txn) UserByExternal(ctx context.Context, external string) (spec.User, error) {
	u, err := scanUser(t.queryRow(ctx, "SELECT "+userCols+" FROM users WHERE external = $1 AND external <> ''", external))
	if err != nil {
		return spec.User{}, notFound(err, "user of %q", external)
	}
	return u, nil
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

// CountActiveSuperAdmins counts enabled super_admin users, so that the
// last one cannot be disabled, demoted or deleted.
func (t *txn) CountActiveSuperAdmins(ctx context.Context) (int, error) {
	var n int
	if err := t.queryRow(ctx, "SELECT COUNT(*) FROM users WHERE role = 'super_admin' AND disabled = 0").Scan(&n); err != nil {
		return 0, fmt.Errorf("count super admins: %w", err)
	}
	return n, nil
}

// ListUsers returns users by creation; Q matches the username, display
// name or email.
func (t *txn) ListUsers(ctx context.Context, q ListQuery) ([]spec.User, int, error) {
	out := []spec.User{}
	total, err := t.page(ctx, listing{
		what:  "list users",
		cols:  userCols,
		from:  "users",
		where: likeClause(1, "username", "display_name", "email"),
		args:  []any{likePattern(q.Q)},
		order: "created_at, id",
	}, q, func(rows *sql.Rows) error {
		u, err := scanUser(rows)
		out = append(out, u)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// UpdateUser stores u's role, display name, email and disabled flag.
func (t *txn) UpdateUser(ctx context.Context, u *spec.User) error {
	u.UpdatedAt = now()
	return t.execOne(ctx, "update user "+u.Username, `UPDATE users SET role = $1, display_name = $2, email = $3,
		disabled = $4, updated_at = $5 WHERE id = $6`,
		u.Role, u.DisplayName, u.Email, boolInt(u.Disabled), toNanos(u.UpdatedAt), u.ID)
}

// SetPassword replaces a user's password hash.
func (t *txn) SetPassword(ctx context.Context, id, hash string) error {
	return t.execOne(ctx, "set password of user "+id, "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
		hash, toNanos(now()), id)
}

// TouchLogin records a successful login.
func (t *txn) TouchLogin(ctx context.Context, id string, at time.Time) error {
	return t.execOne(ctx, "touch login of user "+id, "UPDATE users SET last_login_at = $1 WHERE id = $2", toNanos(at), id)
}

// DeleteUser deletes a user with its tokens and memberships.
func (t *txn) DeleteUser(ctx context.Context, id string) error {
	return t.execOne(ctx, "delete user "+id, "DELETE FROM users WHERE id = $1", id)
}
