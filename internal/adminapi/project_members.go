package adminapi

import (
	"errors"
	"fmt"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// memberRequest is the body of PUT /projects/{p}/members/{member}.
type memberRequest struct {
	Role string `json:"role"`
}

func memberResource(project string, u spec.User) string {
	return projectResource(project) + "/members/" + u.Username
}

// memberRole answers the permissions of a role a member can be given: a
// built-in project role or a custom role; anything else is a 400 naming
// role.
func (c *call) memberRole(tx store.Tx, name string) ([]rbac.Permission, error) {
	if perms, ok := rbac.BuiltinRoles[name]; ok {
		return perms, nil
	}
	choices := "one of " + strings.Join(rbac.BuiltinProjectRoles, ", ") + " or a custom role (GET /roles)"
	switch {
	case name == "":
		return nil, fieldError("role", "is required: %s", choices)
	case rbac.IsBuiltin(name):
		return nil, fieldError("role", "%q is a system role, given with the user (PATCH /users/{username}); a member's role is %s", name, choices)
	}
	r, err := tx.GetRole(c.ctx(), name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fieldError("role", "there is no role %q: %s", name, choices)
	case err != nil:
		return nil, fmt.Errorf("role %q: %w", name, err)
	}
	return customPermissions(r), nil
}

func customPermissions(r spec.Role) []rbac.Permission {
	out := make([]rbac.Permission, len(r.Permissions))
	for i, p := range r.Permissions {
		out[i] = rbac.Permission(p)
	}
	return out
}

// heldRole is memberRole for a role a member already has: a custom role
// deleted since grants nothing, so it holds nothing.
func (c *call) heldRole(tx store.Tx, name string) ([]rbac.Permission, error) {
	perms, err := c.memberRole(tx, name)
	if _, invalid := errors.AsType[spec.FieldErrors](err); invalid {
		return nil, nil
	}
	return perms, err
}

// mayHand refuses (403) a caller who is not a super_admin giving or taking
// away a role with a permission they do not hold in the project
// themselves: member:manage must not be a way up to project_admin.
func (c *call) mayHand(project, role string, perms []rbac.Permission) error {
	for _, p := range perms {
		if !c.who.Has(p, project) {
			return withDetail(&rbac.DeniedError{Permission: p, Project: project},
				"role %q holds %s, which you do not hold in project %q: you can neither give nor take it", role, p, project)
		}
	}
	return nil
}

// keepAProjectAdmin refuses (409) to take the project_admin role from the
// last member holding it, unless the caller is a super_admin: nobody else
// could manage the project's members any more.
func (c *call) keepAProjectAdmin(tx store.Tx, project string, u spec.User) error {
	if c.isAdmin() {
		return nil
	}
	ms, err := tx.ListMembers(c.ctx(), project)
	if err != nil {
		return fmt.Errorf("members of project %q: %w", project, err)
	}
	admins := 0
	for _, m := range ms {
		if m.Role == rbac.ProjectAdmin {
			admins++
		}
	}
	if admins <= 1 {
		return withDetail(store.ErrConflict, "%q is the last %s of project %q: make another member %s first (or ask a %s)",
			u.Username, rbac.ProjectAdmin, project, rbac.ProjectAdmin, rbac.SuperAdmin)
	}
	return nil
}

func (c *call) listMembers() (any, error) {
	var res listResult
	err := c.view(func(tx store.Tx) error {
		p, err := c.loadProject(tx, c.path("p"))
		if err != nil {
			return err
		}
		items, err := tx.ListMembers(c.ctx(), p.ID)
		if err != nil {
			return fmt.Errorf("list members of project %q: %w", p.ID, err)
		}
		res = list(items, len(items))
		return nil
	})
	return res, err
}

// putMember gives a user a role in the project, adding them or changing
// the role they had.
func (c *call) putMember() (any, error) {
	var req memberRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var m spec.Member
	err := c.tx(func(tx store.Tx) error {
		p, err := c.loadProject(tx, c.path("p"))
		if err != nil {
			return err
		}
		perms, err := c.memberRole(tx, req.Role)
		if err != nil {
			return err
		}
		u, err := c.findUser(tx, c.path("member"))
		if err != nil {
			return err
		}
		if err := c.mayHand(p.ID, req.Role, perms); err != nil {
			return err
		}
		old, err := tx.GetMember(c.ctx(), p.ID, u.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return fmt.Errorf("member %q of project %q: %w", u.Username, p.ID, err)
		default:
			held, err := c.heldRole(tx, old.Role)
			if err != nil {
				return err
			}
			if err := c.mayHand(p.ID, old.Role, held); err != nil {
				return err
			}
			if old.Role == rbac.ProjectAdmin && req.Role != rbac.ProjectAdmin {
				if err := c.keepAProjectAdmin(tx, p.ID, u); err != nil {
					return err
				}
			}
		}
		m = spec.Member{Project: p.ID, UserID: u.ID, Username: u.Username, Role: req.Role}
		if _, err := tx.PutMember(c.ctx(), &m); err != nil {
			return fmt.Errorf("put member %q of project %q: %w", u.Username, p.ID, err)
		}
		return c.audit(tx, "member.put", memberResource(p.ID, u), map[string]any{"username": u.Username, "role": req.Role, "old_role": old.Role})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (c *call) deleteMember() (any, error) {
	return nil, c.tx(func(tx store.Tx) error {
		p, err := c.loadProject(tx, c.path("p"))
		if err != nil {
			return err
		}
		u, err := c.findUser(tx, c.path("member"))
		if err != nil {
			return err
		}
		old, err := tx.GetMember(c.ctx(), p.ID, u.ID)
		if err != nil {
			return onNotFound(err, "user %q is not a member of project %q", u.Username, p.ID)
		}
		held, err := c.heldRole(tx, old.Role)
		if err != nil {
			return err
		}
		if err := c.mayHand(p.ID, old.Role, held); err != nil {
			return err
		}
		if old.Role == rbac.ProjectAdmin {
			if err := c.keepAProjectAdmin(tx, p.ID, u); err != nil {
				return err
			}
		}
		if err := tx.DeleteMember(c.ctx(), p.ID, u.ID); err != nil {
			return fmt.Errorf("remove member %q of project %q: %w", u.Username, p.ID, err)
		}
		return c.audit(tx, "member.remove", memberResource(p.ID, u), map[string]any{"username": u.Username, "role": old.Role})
	})
}
