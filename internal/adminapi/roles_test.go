package adminapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
)

func TestRolesList(t *testing.T) {
	a := newTestAPI(t)
	a.mustJSON("POST", "/roles", map[string]any{"name": "auditor", "description": "Reads the log", "permissions": []string{"audit:read", "project:read"}}, http.StatusCreated, nil)
	var page struct {
		Items []spec.Role
		Total int
	}
	// Every user reads the roles.
	a.decode(a.doToken(a.viewerToken(t), "GET", "/roles", nil), &page)
	want := []struct {
		name, scope string
		builtin     bool
		perms       int
	}{
		{rbac.SuperAdmin, "system", true, len(rbac.Baseline) + len(rbac.System) + len(rbac.ProjectPermissions)},
		{rbac.User, "system", true, len(rbac.Baseline)},
		{rbac.ProjectAdmin, "project", true, len(rbac.ProjectPermissions)},
		{rbac.APIProvider, "project", true, len(rbac.BuiltinRoles[rbac.APIProvider])},
		{rbac.Developer, "project", true, len(rbac.BuiltinRoles[rbac.Developer])},
		{rbac.Viewer, "project", true, len(rbac.BuiltinRoles[rbac.Viewer])},
		{"auditor", "project", false, 2},
	}
	if page.Total != len(want) || len(page.Items) != len(want) {
		t.Fatalf("roles %+v", page)
	}
	for i, w := range want {
		got := page.Items[i]
		if got.Name != w.name || got.Scope != w.scope || got.Builtin != w.builtin || len(got.Permissions) != w.perms || got.Description == "" {
			t.Errorf("role %d = %+v, want %+v", i, got, w)
		}
	}
	var r spec.Role
	a.mustJSON("GET", "/roles/viewer", nil, http.StatusOK, &r)
	if !r.Builtin || r.Scope != "project" {
		t.Errorf("viewer %+v", r)
	}
	a.mustJSON("GET", "/roles/auditor", nil, http.StatusOK, &r)
	if r.Builtin || r.Description != "Reads the log" || r.CreatedAt.IsZero() {
		t.Errorf("auditor %+v", r)
	}
	wantCode(t, "unknown role", a.do("GET", "/roles/nope", nil), http.StatusNotFound)
}

func TestRoleValidation(t *testing.T) {
	a := newTestAPI(t)
	for _, tt := range []struct {
		name  string
		body  any
		field string
	}{
		{"bad name", map[string]any{"name": "Bad Name", "permissions": []string{"project:read"}}, "name"},
		{"built-in name", map[string]any{"name": rbac.ProjectAdmin, "permissions": []string{"project:read"}}, "name"},
		{"system role name", map[string]any{"name": rbac.SuperAdmin, "permissions": []string{"project:read"}}, "name"},
		{"system permission", map[string]any{"name": "x", "permissions": []string{"project:read", "user:manage"}}, "permissions[1]"},
		{"unknown permission", map[string]any{"name": "x", "permissions": []string{"everything"}}, "permissions[0]"},
		{"twice", map[string]any{"name": "x", "permissions": []string{"project:read", "project:read"}}, "permissions[1]"},
		{"none", map[string]any{"name": "x", "permissions": []string{}}, "permissions"},
		{"missing", map[string]any{"name": "x"}, "permissions"},
		{"long description", map[string]any{"name": "x", "description": strings.Repeat("d", 257), "permissions": []string{"project:read"}}, "description"},
		{"unknown field", map[string]any{"name": "x", "permissions": []string{"project:read"}, "builtin": true}, "builtin"},
	} {
		t.Run(tt.name, func(t *testing.T) { wantRefused(t, a.do("POST", "/roles", tt.body), tt.field) })
	}
	a.mustJSON("POST", "/roles", map[string]any{"name": "x", "permissions": []string{"project:read"}}, http.StatusCreated, nil)
	wantConflict(t, "same name", a.do("POST", "/roles", map[string]any{"name": "x", "permissions": []string{"project:read"}}), "already exists")
	wantRefused(t, a.do("PUT", "/roles/x", map[string]any{"permissions": []string{"role:manage"}}), "permissions[0]")
	wantRefused(t, a.do("PUT", "/roles/x", map[string]any{"name": "y", "permissions": []string{"project:read"}}), "name")
	wantConflict(t, "change a built-in role", a.do("PUT", "/roles/viewer", map[string]any{"permissions": []string{"project:read"}}), "built in")
	wantConflict(t, "change a system role", a.do("PUT", "/roles/super_admin", map[string]any{"permissions": []string{"project:read"}}), "built in")
	wantCode(t, "change an unknown role", a.do("PUT", "/roles/nope", map[string]any{"permissions": []string{"project:read"}}), http.StatusNotFound)
	viewer := a.viewerToken(t)
	wantDenied(t, a.doToken(viewer, "POST", "/roles", map[string]any{"name": "mine", "permissions": []string{"project:read"}}), rbac.RoleManage)
	wantDenied(t, a.doToken(viewer, "PUT", "/roles/x", map[string]any{"permissions": []string{"project:read"}}), rbac.RoleManage)
	wantDenied(t, a.doToken(viewer, "DELETE", "/roles/x", nil), rbac.RoleManage)
}

// TestCustomRoleLifecycle: a custom role is given like a built-in one,
// a change reaches its members at their next request, and it cannot be
// deleted while a member holds it.
func TestCustomRoleLifecycle(t *testing.T) {
	a := newTestAPI(t)
	a.mustJSON("POST", "/roles", map[string]any{"name": "auditor", "permissions": []string{"project:read", "audit:read"}}, http.StatusCreated, nil)
	aud := a.personIn(t, "aud", "default", "auditor")
	wantCode(t, "read the project", a.doToken(aud, "GET", "/projects/default", nil), http.StatusOK)
	wantDenied(t, a.doToken(aud, "GET", "/projects/default/members", nil), rbac.MemberRead)

	var r spec.Role
	a.mustJSON("PUT", "/roles/auditor", map[string]any{"description": "Reads the log and who is here", "permissions": []string{"project:read", "audit:read", "member:read"}}, http.StatusOK, &r)
	if len(r.Permissions) != 3 || r.Description != "Reads the log and who is here" {
		t.Errorf("put %+v", r)
	}
	wantCode(t, "members after the change", a.doToken(aud, "GET", "/projects/default/members", nil), http.StatusOK)

	r2 := a.do("DELETE", "/roles/auditor", nil)
	wantConflict(t, "delete a held role", r2, "held by 1 member")
	wantConflict(t, "delete a built-in role", a.do("DELETE", "/roles/viewer", nil), "built in")
	wantCode(t, "delete an unknown role", a.do("DELETE", "/roles/nope", nil), http.StatusNotFound)
	wantCode(t, "remove the member", a.do("DELETE", "/projects/default/members/aud", nil), http.StatusNoContent)
	wantCode(t, "delete", a.do("DELETE", "/roles/auditor", nil), http.StatusNoContent)
	wantCode(t, "deleted", a.do("GET", "/roles/auditor", nil), http.StatusNotFound)
	for _, action := range []string{"role.create", "role.update", "role.delete"} {
		if n := len(audits(t, a.store, action)); n != 1 {
			t.Errorf("%d %s events, want 1", n, action)
		}
	}
}
