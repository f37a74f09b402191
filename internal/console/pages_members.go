package console

import (
	"net/url"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// memberRoutes are a project's members and the roles.
func memberRoutes() []pageRoute {
	const M = "/p/{p}/members"
	return []pageRoute{
		{pattern: "GET " + M, perm: rbac.MemberRead, scope: scopeProject, handle: func(q *req) error { return membersView(q, q.page(q.t("nav.members"), "members"), 200) }},
		{pattern: "POST " + M, perm: rbac.MemberManage, scope: scopeProject, handle: (*req).putMember},
		{pattern: "POST " + M + "/{member}", perm: rbac.MemberManage, scope: scopeProject, handle: (*req).putMember},
		{pattern: "POST " + M + "/{member}/delete", perm: rbac.MemberManage, scope: scopeProject, handle: (*req).deleteMember},
		{pattern: "GET /roles", perm: rbac.RoleRead, handle: func(q *req) error { return rolesView(q, q.page(q.t("nav.roles"), "roles"), 200) }},
		{pattern: "POST /roles", perm: rbac.RoleManage, handle: (*req).createRole},
		{pattern: "GET /roles/{role}", perm: rbac.RoleRead, handle: func(q *req) error { return roleView(q, q.page(q.t("nav.roles"), "roles"), 200) }},
		{pattern: "POST /roles/{role}", perm: rbac.RoleManage, handle: (*req).putRole},
		{pattern: "POST /roles/{role}/delete", perm: rbac.RoleManage, handle: (*req).deleteRole},
	}
}

type membersData struct {
	Members  []spec.Member
	Roles    []spec.Role // the project roles a member can be given
	Lockouts []lockout   // of the project's members
}

// projectRoles lists the roles a member can hold: the built-in project
// roles, then the custom ones.
func (q *req) projectRoles() ([]spec.Role, error) {
	var rl webpage.List[spec.Role]
	if err := q.call("GET", "/roles", nil, &rl); err != nil {
		return nil, err
	}
	out := make([]spec.Role, 0, len(rl.Items))
	for _, r := range rl.Items {
		if r.Scope != "system" {
			out = append(out, r)
		}
	}
	return out, nil
}

func (q *req) membersPath() string {
	return "/projects/" + url.PathEscape(q.r.PathValue("p")) + "/members"
}

func membersView(q *req, p *page, status int) error {
	var d membersData
	var ml webpage.List[spec.Member]
	if err := q.call("GET", q.membersPath(), nil, &ml); err != nil {
		return err
	}
	roles, err := q.projectRoles()
	if err != nil {
		return err
	}
	d.Members, d.Roles = ml.Items, roles
	if q.who.Has(rbac.LockoutManage, p.Project) {
		lo, err := q.lockouts()
		if err != nil {
			return err
		}
		for _, l := range lo {
			if slices.ContainsFunc(d.Members, func(m spec.Member) bool { return m.Username == l.Username }) {
				d.Lockouts = append(d.Lockouts, l)
			}
		}
	}
	p.Data = d
	q.render(status, "members", p)
	return nil
}

// putMember adds a member (username from the form) or changes one's role
// (username from the path): both are PUT …/members/{member}.
func (q *req) putMember() error {
	name, form := q.r.PathValue("member"), "member-"+q.r.PathValue("member")
	if name == "" {
		name, form = strings.TrimSpace(q.r.PostFormValue("username")), "new-member"
	}
	if name == "" {
		return q.reshow(&webpage.Refusal{Status: 400, Detail: q.t("members.username_required"),
			Fields: map[string]string{"username": q.t("members.username_required")}}, form, membersView, q.t("nav.members"), "members")
	}
	if err := q.call("PUT", q.membersPath()+"/"+url.PathEscape(name), map[string]string{"role": q.r.PostFormValue("role")}, nil); err != nil {
		return q.reshow(err, form, membersView, q.t("nav.members"), "members")
	}
	q.redirect("/p/"+url.PathEscape(q.r.PathValue("p"))+"/members", "saved")
	return nil
}

func (q *req) deleteMember() error {
	if err := q.call("DELETE", q.membersPath()+"/"+url.PathEscape(q.r.PathValue("member")), nil, nil); err != nil {
		return q.reshow(err, "", membersView, q.t("nav.members"), "members")
	}
	q.redirect("/p/"+url.PathEscape(q.r.PathValue("p"))+"/members", "member_removed")
	return nil
}

type rolesData struct {
	Builtin, Custom []spec.Role
	All             []rbac.Permission // what a custom role can hold, in order
}

func rolesView(q *req, p *page, status int) error {
	var rl webpage.List[spec.Role]
	if err := q.call("GET", "/roles", nil, &rl); err != nil {
		return err
	}
	d := rolesData{All: rbac.ProjectPermissions}
	for _, r := range rl.Items {
		if r.Builtin {
			d.Builtin = append(d.Builtin, r)
		} else {
			d.Custom = append(d.Custom, r)
		}
	}
	p.Data = d
	q.render(status, "roles", p)
	return nil
}

type roleData struct {
	Role spec.Role
	All  []rbac.Permission
}

func roleView(q *req, p *page, status int) error {
	d := roleData{All: rbac.ProjectPermissions}
	if err := q.call("GET", "/roles/"+url.PathEscape(q.r.PathValue("role")), nil, &d.Role); err != nil {
		return err
	}
	p.Title = d.Role.Name
	p.Data = d
	q.render(status, "role", p)
	return nil
}

// permsOf reads a role form's permission checkboxes, in the catalogue's
// order; an unknown one is sent as is, for the admin API to refuse.
func permsOf(values []string) []string {
	out := []string{}
	for _, p := range rbac.ProjectPermissions {
		if slices.Contains(values, string(p)) {
			out = append(out, string(p))
		}
	}
	for _, v := range values {
		if !rbac.Known(rbac.Permission(v)) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (q *req) createRole() error {
	f := q.r.PostForm
	body := map[string]any{"name": strings.TrimSpace(f.Get("name")), "description": f.Get("description"), "permissions": permsOf(f["permissions"])}
	var out spec.Role
	if err := q.call("POST", "/roles", body, &out); err != nil {
		return q.reshow(err, "new-role", rolesView, q.t("nav.roles"), "roles")
	}
	q.redirect("/roles/"+url.PathEscape(out.Name), "created")
	return nil
}

func (q *req) putRole() error {
	f := q.r.PostForm
	body := map[string]any{"description": f.Get("description"), "permissions": permsOf(f["permissions"])}
	path := "/roles/" + url.PathEscape(q.r.PathValue("role"))
	if err := q.call("PUT", path, body, nil); err != nil {
		return q.reshow(err, "edit-role", roleView, q.t("nav.roles"), "roles")
	}
	q.redirect(path, "saved")
	return nil
}

func (q *req) deleteRole() error {
	if err := q.call("DELETE", "/roles/"+url.PathEscape(q.r.PathValue("role")), nil, nil); err != nil {
		return q.reshow(err, "", roleView, q.t("nav.roles"), "roles")
	}
	q.redirect("/roles", "deleted")
	return nil
}

// permBoxes hands the "permboxes" template (layout.html) its page, the
// permissions to offer and those to show checked.
type permBoxes struct {
	P       *page
	All     []rbac.Permission
	Checked []string
}

func init() {
	funcs["permBoxes"] = func(p *page, all []rbac.Permission, checked []string) permBoxes {
		return permBoxes{P: p, All: all, Checked: checked}
	}
}

// RoleText says what a built-in role is for in the page's language; a
// custom role's own description otherwise.
func (p *page) RoleText(name, description string) string {
	if key := "role." + name; messages.Has(key) {
		return p.T(key)
	}
	return description
}
