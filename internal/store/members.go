package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

const memberCols = "m.project_id, m.user_id, u.username, m.role, m.created_at, m.updated_at"
const memberFrom = "members m JOIN users u ON u.id = m.user_id"

func scanMember(s scanner) (spec.Member, error) {
	var m spec.Member
	var created, updated int64
	if err := s.Scan(&m.Project, &m.UserID, &m.Username, &m.Role, &created, &updated); err != nil {
		return spec.Member{}, err
	}
	m.CreatedAt, m.UpdatedAt = fromNanos(created), fromNanos(updated)
	return m, nil
}

// PutMember gives a user a role in a project, replacing the one it had;
// created reports whether the user was not a member before.
func (t *txn) PutMember(ctx context.Context, m *spec.Member) (created bool, err error) {
	at := now()
	old, err := t.GetMember(ctx, m.Project, m.UserID)
	switch {
	case err == nil:
		m.CreatedAt, m.UpdatedAt = old.CreatedAt, at
		return false, t.execOne(ctx, "update member", "UPDATE members SET role = $1, updated_at = $2 WHERE project_id = $3 AND user_id = $4",
			m.Role, toNanos(at), m.Project, m.UserID)
	case !errors.Is(err, ErrNotFound):
		return false, err
	}
	m.CreatedAt, m.UpdatedAt = at, at
	_, err = t.exec(ctx, "INSERT INTO members (project_id, user_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
		m.Project, m.UserID, m.Role, toNanos(at))
	if err != nil {
		if t.kind(err) == errForeignKey {
			return false, fmt.Errorf("add member %s to project %q: %w", m.UserID, m.Project, ErrNotFound)
		}
		return false, fmt.Errorf("add member %s to project %q: %w", m.UserID, m.Project, err)
	}
	return true, nil
}

// GetMember returns a user's membership of a project.
func (t *txn) GetMember(ctx context.Context, project, userID string) (spec.Member, error) {
	m, err := scanMember(t.queryRow(ctx, "SELECT "+memberCols+" FROM "+memberFrom+" WHERE m.project_id = $1 AND m.user_id = $2", project, userID))
	if err != nil {
		return spec.Member{}, notFound(err, "member %s of project %q", userID, project)
	}
	return m, nil
}

// ListMembers returns a project's members by username.
func (t *txn) ListMembers(ctx context.Context, project string) ([]spec.Member, error) {
	return t.members(ctx, "list members of project "+project, "m.project_id = $1", project)
}

// ListUserMembers returns the memberships of a user, by project.
func (t *txn) ListUserMembers(ctx context.Context, userID string) ([]spec.Member, error) {
	return t.members(ctx, "list memberships of user "+userID, "m.user_id = $1", userID)
}

func (t *txn) members(ctx context.Context, what, where string, arg any) ([]spec.Member, error) {
	out := []spec.Member{}
	err := t.each(ctx, what, func(rows *sql.Rows) error {
		m, err := scanMember(rows)
		out = append(out, m)
		return err
	}, "SELECT "+memberCols+" FROM "+memberFrom+" WHERE "+where+" ORDER BY m.project_id, u.username", arg)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteMember removes a user from a project.
func (t *txn) DeleteMember(ctx context.Context, project, userID string) error {
	return t.execOne(ctx, fmt.Sprintf("remove member %s of project %q", userID, project),
		"DELETE FROM members WHERE project_id = $1 AND user_id = $2", project, userID)
}

// CountRoleMembers counts memberships with a role, so that a custom role
// in use cannot be deleted.
func (t *txn) CountRoleMembers(ctx context.Context, role string) (int, error) {
	var n int
	if err := t.queryRow(ctx, "SELECT COUNT(*) FROM members WHERE role = $1", role).Scan(&n); err != nil {
		return 0, fmt.Errorf("count members of role %q: %w", role, err)
	}
	return n, nil
}

const roleCols = "name, description, permissions, created_at, updated_at"

func scanRole(s scanner) (spec.Role, error) {
	var r spec.Role
	var perms string
	var created, updated int64
	if err := s.Scan(&r.Name, &r.Description, &perms, &created, &updated); err != nil {
		return spec.Role{}, err
	}
	if err := json.Unmarshal([]byte(perms), &r.Permissions); err != nil {
		return spec.Role{}, fmt.Errorf("decode permissions of role %q: %w", r.Name, err)
	}
	r.Scope = "project"
	r.CreatedAt, r.UpdatedAt = fromNanos(created), fromNanos(updated)
	return r, nil
}

// CreateRole stores a custom role.
func (t *txn) CreateRole(ctx context.Context, r *spec.Role) error {
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return fmt.Errorf("encode role %q: %w", r.Name, err)
	}
	r.CreatedAt = now()
	r.UpdatedAt, r.Scope = r.CreatedAt, "project"
	_, err = t.exec(ctx, "INSERT INTO roles ("+roleCols+") VALUES ($1, $2, $3, $4, $4)",
		r.Name, r.Description, string(perms), toNanos(r.CreatedAt))
	if err != nil {
		if t.kind(err) == errUnique {
			return fmt.Errorf("role %q already exists: %w", r.Name, ErrConflict)
		}
		return fmt.Errorf("create role %q: %w", r.Name, err)
	}
	return nil
}

// GetRole returns a custom role.
func (t *txn) GetRole(ctx context.Context, name string) (spec.Role, error) {
	r, err := scanRole(t.queryRow(ctx, "SELECT "+roleCols+" FROM roles WHERE name = $1", name))
	if err != nil {
		return spec.Role{}, notFound(err, "role %q", name)
	}
	return r, nil
}

// ListRoles returns the custom roles by name.
func (t *txn) ListRoles(ctx context.Context) ([]spec.Role, error) {
	out := []spec.Role{}
	err := t.each(ctx, "list roles", func(rows *sql.Rows) error {
		r, err := scanRole(rows)
		out = append(out, r)
		return err
	}, "SELECT "+roleCols+" FROM roles ORDER BY name")
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateRole replaces a custom role's description and permissions.
func (t *txn) UpdateRole(ctx context.Context, r *spec.Role) error {
	perms, err := json.Marshal(r.Permissions)
	if err != nil {
		return fmt.Errorf("encode role %q: %w", r.Name, err)
	}
	r.UpdatedAt = now()
	return t.execOne(ctx, "update role "+r.Name, "UPDATE roles SET description = $1, permissions = $2, updated_at = $3 WHERE name = $4",
		r.Description, string(perms), toNanos(r.UpdatedAt), r.Name)
}

// DeleteRole deletes a custom role.
func (t *txn) DeleteRole(ctx context.Context, name string) error {
	return t.execOne(ctx, "delete role "+name, "DELETE FROM roles WHERE name = $1", name)
}
