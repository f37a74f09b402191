package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// The header's project switcher: the user's projects, each a link that
// opens the same kind of page in that project (a service's page → that
// project's services) and remembers the choice, so that the navigation's
// project pages (Services, Upstreams, Import…) open it from pages whose
// path names no project, instead of always the default project.

// projectCookie keeps the project picked in the switcher. It is a
// preference, not a grant: every page still checks the user's
// permission in the project of its path.
const projectCookie = "portico_project"

func switcherRoutes() []pageRoute {
	return []pageRoute{
		// A member of the project may open it; the 403 names the
		// permission for anyone else, before the cookie is set.
		{pattern: "GET /p/{p}/switch", perm: rbac.ProjectRead, scope: scopeProject, handle: (*req).switchProject},
	}
}

// projectKinds are the project pages a switch may land on: the
// navigation's project entries (services, upstreams, import…).
func projectKinds() map[string]bool {
	kinds := map[string]bool{}
	for _, n := range navTable {
		if rest, ok := strings.CutPrefix(n.pattern, "GET /p/{p}/"); ok && !strings.Contains(rest, "/") {
			kinds[rest] = true
		}
	}
	return kinds
}

// switchProject remembers the project and opens the page of the same
// kind in it, or goes back to the page the switch was made on when that
// page names no project.
func (q *req) switchProject() error {
	p := q.r.PathValue("p")
	http.SetCookie(q.w, &http.Cookie{Name: projectCookie, Value: url.PathEscape(p), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: q.r.TLS != nil, SameSite: http.SameSiteLaxMode})
	target := "/p/" + url.PathEscape(p) + "/services"
	if kind := q.r.URL.Query().Get("to"); projectKinds()[kind] {
		target = "/p/" + url.PathEscape(p) + "/" + kind
	} else if back := q.r.URL.Query().Get("back"); back != "" {
		target = back
	}
	http.Redirect(q.w, q.r, safeRedirect(target), http.StatusSeeOther)
	return nil
}

// chosenProject is the project the switcher remembered, when the user
// may still see it.
func (q *req) chosenProject() string {
	ck, err := q.r.Cookie(projectCookie)
	if err != nil || q.who == nil {
		return ""
	}
	p, err := url.PathUnescape(ck.Value)
	if err != nil || p == "" || !q.who.Visible(p) {
		return ""
	}
	// A super admin sees every project, so only the store knows whether
	// this one still exists.
	if q.who.Super() {
		if _, err := q.c.api.Call(q.r, q.token, "GET", "/projects/"+url.PathEscape(p), nil, nil); err != nil {
			return ""
		}
	}
	return p
}

// switchProjects lists the projects the switcher offers: the user's
// memberships, or every project for a super admin (who is a member of
// none). A failed list leaves the switcher out rather than the page.
func (q *req) switchProjects() []string {
	if q.who == nil {
		return nil
	}
	var out []string
	if q.who.Super() {
		var pl webpage.List[spec.Project]
		// Asked past q.call: a refusal here is not the page's to show.
		if _, err := q.c.api.Call(q.r, q.token, "GET", "/projects?page_size=500", nil, &pl); err != nil {
			return nil
		}
		for _, p := range pl.Items {
			out = append(out, p.ID)
		}
	} else {
		for _, g := range q.me.Projects {
			out = append(out, g.Project)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SwitchHref is the switcher's link to project from the page being
// shown: the same kind of project page, or back to this page.
func (p *page) SwitchHref(project string) string {
	v := url.Values{}
	path, _, _ := strings.Cut(p.Path, "?")
	if rest, ok := strings.CutPrefix(path, "/p/"); ok {
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) >= 2 {
			v.Set("to", parts[1])
		}
	} else {
		v.Set("back", p.Path)
	}
	return "/p/" + url.PathEscape(project) + "/switch?" + v.Encode()
}
