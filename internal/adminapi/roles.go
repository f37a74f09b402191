package adminapi

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// roleUpdate is what PUT /roles/{role} replaces of a custom role.
type roleUpdate struct {
	Description string   `json:"description,omitempty"`
	Permissions []string `json:"permissions"`
}

// roleCreate is the body of POST /roles.
type roleCreate struct {
	Name string `json:"name"`
	roleUpdate
}

const maxRoleDescription = 256

// builtinRoleDescriptions say what each built-in role is for.
var builtinRoleDescriptions = map[string]string{
	rbac.SuperAdmin:   "Every permission everywhere: users, roles, gateway groups and every project",
	rbac.User:         "Every signed-in user: their own account, tokens, applications and subscriptions, the catalog; project permissions come from memberships",
	rbac.ProjectAdmin: "Everything in the project, its members and both release stages included",
	rbac.APIProvider:  "Designs, tests and publishes the project's services to its test stage",
	rbac.Developer:    "Reads what a consumer needs: the project, its folders and services",
	rbac.Viewer:       "Reads everything of the project",
}

// builtinRoles lists the built-in roles: the system roles, then the
// project roles.
func builtinRoles() []spec.Role {
	all := append(append(append([]rbac.Permission{}, rbac.Baseline...), rbac.System...), rbac.ProjectPermissions...)
	out := []spec.Role{
		{Name: rbac.SuperAdmin, Description: builtinRoleDescriptions[rbac.SuperAdmin], Permissions: permStrings(all), Builtin: true, Scope: "system"},
		{Name: rbac.User, Description: builtinRoleDescriptions[rbac.User], Permissions: permStrings(rbac.Baseline), Builtin: true, Scope: "system"},
	}
	for _, name := range rbac.BuiltinProjectRoles {
		out = append(out, spec.Role{Name: name, Description: builtinRoleDescriptions[name],
			Permissions: permStrings(rbac.BuiltinRoles[name]), Builtin: true, Scope: "project"})
	}
	return out
}

func builtinRole(name string) (spec.Role, bool) {
	for _, r := range builtinRoles() {
		if r.Name == name {
			return r, true
		}
	}
	return spec.Role{}, false
}

func roleResource(name string) string { return "/roles/" + name }

// check validates the description and permissions, naming each bad
// permission by its index.
func (r roleUpdate) check(fe *spec.FieldErrors) {
	switch {
	case utf8.RuneCountInString(r.Description) > maxRoleDescription:
		fe.Add("description", "must be at most %d characters", maxRoleDescription)
	case !utf8.ValidString(r.Description) || strings.ContainsFunc(r.Description, unicode.IsControl):
		fe.Add("description", "must be UTF-8 without control characters")
	}
	if len(r.Permissions) == 0 {
		fe.Add("permissions", "is required: at least one of %s", rbac.Join(rbac.ProjectPermissions))
		return
	}
	seen := map[string]bool{}
	for i, p := range r.Permissions {
		field := fmt.Sprintf("permissions[%d]", i)
		if err := rbac.ValidCustom([]rbac.Permission{rbac.Permission(p)}); err != nil {
			fe.Add(field, "%s", err)
		} else if seen[p] {
			fe.Add(field, "%q is listed twice", p)
		}
		seen[p] = true
	}
}

// customRole reads a custom role; a built-in one is a 409 saying so.
func (c *call) customRole(tx store.Tx, name, what string) (spec.Role, error) {
	if _, ok := builtinRole(name); ok {
		return spec.Role{}, withDetail(store.ErrConflict, "role %q is built in and cannot be %s", name, what)
	}
	r, err := tx.GetRole(c.ctx(), name)
	return r, onNotFound(err, "role %q not found", name)
}

func (c *call) listRoles() (any, error) {
	var res listResult
	err := c.view(func(tx store.Tx) error {
		custom, err := tx.ListRoles(c.ctx())
		if err != nil {
			return fmt.Errorf("list roles: %w", err)
		}
		items := append(builtinRoles(), custom...)
		res = list(items, len(items))
		return nil
	})
	return res, err
}

func (c *call) getRole() (any, error) {
	name := c.path("role")
	if r, ok := builtinRole(name); ok {
		return r, nil
	}
	var r spec.Role
	err := c.view(func(tx store.Tx) error {
		var err error
		r, err = tx.GetRole(c.ctx(), name)
		return onNotFound(err, "role %q not found", name)
	})
	return r, err
}

func (c *call) createRole() (any, error) {
	var req roleCreate
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var fe spec.FieldErrors
	switch {
	case rbac.IsBuiltin(req.Name):
		fe.Add("name", "%q is a built-in role", req.Name)
	case !spec.ValidRoleName(req.Name):
		fe.Add("name", "must be 1 to 63 lowercase letters, digits and _, starting with a letter")
	}
	req.check(&fe)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	r := spec.Role{Name: req.Name, Description: req.Description, Permissions: req.Permissions}
	err := c.tx(func(tx store.Tx) error {
		if err := tx.CreateRole(c.ctx(), &r); err != nil {
			return onConflict(err, "role %q already exists", r.Name)
		}
		return c.audit(tx, "role.create", roleResource(r.Name), map[string]any{"name": r.Name, "permissions": r.Permissions})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// putRole replaces a custom role's description and permissions; members
// holding it hold the new permissions from their next request on.
func (c *call) putRole() (any, error) {
	var req roleUpdate
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	var fe spec.FieldErrors
	req.check(&fe)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var r spec.Role
	err := c.tx(func(tx store.Tx) error {
		var err error
		if r, err = c.customRole(tx, c.path("role"), "changed"); err != nil {
			return err
		}
		old := r.Permissions
		r.Description, r.Permissions = req.Description, req.Permissions
		if err := tx.UpdateRole(c.ctx(), &r); err != nil {
			return fmt.Errorf("update role %q: %w", r.Name, err)
		}
		return c.audit(tx, "role.update", roleResource(r.Name), map[string]any{"name": r.Name, "permissions": r.Permissions, "old_permissions": old})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// deleteRole deletes a custom role no member holds.
func (c *call) deleteRole() (any, error) {
	return nil, c.tx(func(tx store.Tx) error {
		r, err := c.customRole(tx, c.path("role"), "deleted")
		if err != nil {
			return err
		}
		n, err := tx.CountRoleMembers(c.ctx(), r.Name)
		if err != nil {
			return fmt.Errorf("delete role %q: %w", r.Name, err)
		}
		if n > 0 {
			return withDetail(store.ErrConflict, "role %q is held by %d member(s): give them another role first", r.Name, n)
		}
		if err := tx.DeleteRole(c.ctx(), r.Name); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return withDetail(err, "role %q not found", r.Name)
			}
			return fmt.Errorf("delete role %q: %w", r.Name, err)
		}
		return c.audit(tx, "role.delete", roleResource(r.Name), map[string]any{"name": r.Name})
	})
}
