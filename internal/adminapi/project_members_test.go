package adminapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
)

func TestMembers(t *testing.T) {
	a := newTestAPI(t)
	a.newProject(t, "shop")
	pam := a.personIn(t, "pam", "shop", rbac.ProjectAdmin)
	for _, name := range []string{"dev", "vic", "out"} {
		a.newPerson(t, name, "")
	}
	var m spec.Member
	r := a.doToken(pam, "PUT", "/projects/shop/members/dev", map[string]any{"role": rbac.Developer})
	a.decode(r, &m)
	if m.Project != "shop" || m.Username != "dev" || m.Role != rbac.Developer || m.UserID == "" {
		t.Errorf("put %+v", m)
	}
	vic := a.logIn(t, "vic", personPassword)
	wantCode(t, "add vic", a.doToken(pam, "PUT", "/projects/shop/members/vic", map[string]any{"role": rbac.Viewer}), http.StatusOK)

	var page struct {
		Items []spec.Member
		Total int
	}
	a.decode(a.doToken(vic, "GET", "/projects/shop/members", nil), &page)
	if page.Total != 3 || page.Items[0].Username != "dev" || page.Items[1].Username != "pam" || page.Items[2].Username != "vic" {
		t.Errorf("members %+v", page)
	}
	// A viewer reads and may not change; a non-member sees no project.
	wantDenied(t, a.doToken(vic, "PUT", "/projects/shop/members/out", map[string]any{"role": rbac.Viewer}), rbac.MemberManage)
	wantDenied(t, a.doToken(vic, "DELETE", "/projects/shop/members/dev", nil), rbac.MemberManage)
	out := a.logIn(t, "out", personPassword)
	wantCode(t, "non-member", a.doToken(out, "GET", "/projects/shop/members", nil), http.StatusNotFound)

	for _, tt := range []struct {
		name, role, want string
	}{
		{"unknown role", "owner", "no role"},
		{"system role", rbac.SuperAdmin, "system role"},
		{"user role", rbac.User, "system role"},
		{"no role", "", "required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := a.doToken(pam, "PUT", "/projects/shop/members/out", map[string]any{"role": tt.role})
			wantRefused(t, r, "role")
			if !strings.Contains(string(r.body), tt.want) {
				t.Errorf("%s does not say %q", r.body, tt.want)
			}
		})
	}
	r = a.doToken(pam, "PUT", "/projects/shop/members/nobody", map[string]any{"role": rbac.Viewer})
	wantCode(t, "unknown user", r, http.StatusNotFound)
	if !strings.Contains(r.problem(t).Detail, `user "nobody" not found`) {
		t.Errorf("unknown user: %s", r.body)
	}
	wantCode(t, "remove a non-member", a.doToken(pam, "DELETE", "/projects/shop/members/out", nil), http.StatusNotFound)
	wantCode(t, "unknown project", a.do("PUT", "/projects/nowhere/members/out", map[string]any{"role": rbac.Viewer}), http.StatusNotFound)

	// The last project_admin stays one.
	wantConflict(t, "demote self", a.doToken(pam, "PUT", "/projects/shop/members/pam", map[string]any{"role": rbac.Viewer}), "last project_admin")
	wantConflict(t, "remove self", a.doToken(pam, "DELETE", "/projects/shop/members/pam", nil), "last project_admin")
	wantCode(t, "keep the role", a.doToken(pam, "PUT", "/projects/shop/members/pam", map[string]any{"role": rbac.ProjectAdmin}), http.StatusOK)
	wantCode(t, "second admin", a.doToken(pam, "PUT", "/projects/shop/members/dev", map[string]any{"role": rbac.ProjectAdmin}), http.StatusOK)
	wantCode(t, "demote self with another admin", a.doToken(pam, "PUT", "/projects/shop/members/pam", map[string]any{"role": rbac.Viewer}), http.StatusOK)
	// pam is a viewer now, from her next request on.
	wantDenied(t, a.doToken(pam, "PUT", "/projects/shop/members/pam", map[string]any{"role": rbac.ProjectAdmin}), rbac.MemberManage)
	// A super_admin may leave a project without an admin.
	wantCode(t, "super removes the last admin", a.do("DELETE", "/projects/shop/members/dev", nil), http.StatusNoContent)
	a.mustJSON("GET", "/projects/shop/members", nil, http.StatusOK, &page)
	if page.Total != 2 {
		t.Errorf("members after removals %+v", page)
	}
	ev := audits(t, a.store, "member.put")
	if len(ev) == 0 || ev[0].Project != "shop" {
		t.Errorf("member.put events %+v", ev)
	}
	if n := len(audits(t, a.store, "member.remove")); n != 1 {
		t.Errorf("%d member.remove events, want 1", n)
	}
}

// TestMembersNoEscalation: member:manage through a custom role gives and
// takes only roles within what its holder holds.
func TestMembersNoEscalation(t *testing.T) {
	a := newTestAPI(t)
	a.newProject(t, "shop")
	a.mustJSON("POST", "/roles", map[string]any{"name": "member_keeper", "permissions": []string{"project:read", "member:read", "member:manage"}}, http.StatusCreated, nil)
	a.mustJSON("POST", "/roles", map[string]any{"name": "reader", "permissions": []string{"project:read"}}, http.StatusCreated, nil)
	mo := a.personIn(t, "mo", "shop", "member_keeper")
	a.personIn(t, "pia", "shop", rbac.ProjectAdmin)
	a.newPerson(t, "new", "")

	wantDenied(t, a.doToken(mo, "PUT", "/projects/shop/members/mo", map[string]any{"role": rbac.ProjectAdmin}), rbac.ProjectUpdate)
	wantDenied(t, a.doToken(mo, "PUT", "/projects/shop/members/new", map[string]any{"role": rbac.Viewer}), rbac.UpstreamRead)
	// Taking project_admin from pia needs what project_admin holds.
	r := a.doToken(mo, "DELETE", "/projects/shop/members/pia", nil)
	wantDenied(t, r, rbac.ProjectUpdate)
	if !strings.Contains(r.problem(t).Detail, `role "project_admin"`) {
		t.Errorf("refusal %s does not name the role", r.body)
	}
	wantCode(t, "a role within mo's", a.doToken(mo, "PUT", "/projects/shop/members/new", map[string]any{"role": "reader"}), http.StatusOK)
	wantCode(t, "mo's own role", a.doToken(mo, "PUT", "/projects/shop/members/new", map[string]any{"role": "member_keeper"}), http.StatusOK)
	wantCode(t, "remove within mo's", a.doToken(mo, "DELETE", "/projects/shop/members/new", nil), http.StatusNoContent)
}
