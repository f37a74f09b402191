package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// scope says where a page's permission is checked, with the admin API's
// semantics (rbac.Principal.Has and Anywhere).
type scope int

const (
	// scopeSystem checks in the system scope: the baseline every user
	// holds, everything for a super_admin.
	scopeSystem scope = iota
	// scopeProject checks in the project of the path ({p}).
	scopeProject
	// scopeAny checks in the system scope or any one project: pages whose
	// answer the admin API narrows to the caller's projects (audit log).
	scopeAny
	// scopePublic needs no login: the page comes before one (an
	// invitation). It declares no permission.
	scopePublic
)

func (s scope) String() string {
	return [...]string{"system", "project", "any project", "public"}[s]
}

// pageRoute is one row of the console's page table, like the admin API's
// endpoint table: the pattern, the permission the page needs and where,
// and the handler. Rows are the only way a page is registered
// (TestEveryPageDeclaresAPermission), so none can forget its permission,
// and the navigation and the templates' Can read the same rows.
type pageRoute struct {
	pattern string // ServeMux pattern, "GET /p/{p}/services"
	perm    rbac.Permission
	scope   scope
	handle  func(*req) error
}

// pageTable lists every page of the console.
func pageTable() []pageRoute {
	return slices.Concat(coreRoutes(), serviceRoutes(), versionRoutes(), toolRoutes(), peopleRoutes(), marketRoutes(), alertRoutes(), logRoutes(), monitoringRoutes(), packageRoutes(), dataRoutes(), pluginRoutes(), groupRoutes(), switcherRoutes())
}

// routeIndex is the table by pattern. It is filled in init rather than
// as a variable's initializer because handlers reach it back through
// q.page (Go refuses such an initialization cycle).
var routeIndex map[string]pageRoute

func init() {
	routeIndex = map[string]pageRoute{}
	for _, rt := range pageTable() {
		routeIndex[rt.pattern] = rt
	}
}

// routes registers the page table.
func (c *Console) routes() {
	for _, rt := range pageTable() {
		c.mux.HandleFunc(rt.pattern, c.handle(rt))
	}
}

// meAnswer is GET /me: the user, and what they hold everywhere and in
// each of their projects.
type meAnswer spec.Identity

// principal builds what rbac.Principal would be on the server, so that the
// console answers the same as the admin API would, before asking it.
func (m *meAnswer) principal() *rbac.Principal {
	p := &rbac.Principal{UserID: m.ID, Username: m.Username, SystemRole: m.Role, ReadOnly: m.Scope == spec.ScopeRead,
		Members: map[string]rbac.Membership{}}
	for _, g := range m.Projects {
		ms := rbac.Membership{Role: g.Role}
		for _, s := range g.Permissions {
			ms.Permissions = append(ms.Permissions, rbac.Permission(s))
		}
		p.Members[g.Project] = ms
	}
	return p
}

// loadMe asks the admin API who the session's user is.
func (q *req) loadMe() error {
	if err := q.call("GET", "/me", nil, &q.me); err != nil {
		return err
	}
	q.user = q.me.User
	q.who = q.me.principal()
	return nil
}

// allows reports whether who may open rt for the project of the path.
func allows(who *rbac.Principal, rt pageRoute, project string) bool {
	if who == nil {
		return rt.scope == scopePublic
	}
	switch rt.scope {
	case scopePublic:
		return true
	case scopeProject:
		return project != "" && who.Has(rt.perm, project)
	case scopeAny:
		return who.Anywhere(rt.perm)
	default:
		return who.Has(rt.perm, "")
	}
}

// forbiddenData is what the 403 page shows: the permission, where it was
// needed, and what the user holds there.
type forbiddenData struct {
	Perm    rbac.Permission
	Project string
	Scope   string
	Role    string // the user's role in Project, "" when not a member
}

// forbidden answers 403 naming the permission, without asking the admin
// API anything more.
func (q *req) forbidden(rt pageRoute) {
	d := forbiddenData{Perm: rt.perm, Scope: rt.scope.String()}
	if rt.scope == scopeProject {
		d.Project = q.r.PathValue("p")
		d.Role = q.who.Members[d.Project].Role
	}
	p := q.page(q.t("perm.denied_title"), "")
	p.Data = d
	q.render(http.StatusForbidden, "forbidden", p)
}

// homeProject is the project the navigation's project pages open when the
// path names none: the one picked in the header's switcher, else default
// when the user may see it, else their first.
func (q *req) homeProject() string {
	if q.who == nil {
		return spec.DefaultProject
	}
	if p := q.chosenProject(); p != "" {
		return p
	}
	if q.who.Visible(spec.DefaultProject) {
		return spec.DefaultProject
	}
	for _, g := range q.me.Projects {
		return g.Project
	}
	return ""
}

// navEntry is one link of the navigation, from the page table: it shows
// only when the user may open the page it leads to.
type navEntry struct {
	Nav, Key, pattern string
}

var navTable = []navEntry{
	{"dashboard", "nav.dashboard", "GET /{$}"},
	{"monitoring", "nav.monitoring", "GET /monitoring"},
	{"projects", "nav.projects", "GET /projects"},
	{"groups", "nav.groups", "GET /groups"},
	{"services", "nav.services", "GET /p/{p}/services"},
	{"upstreams", "nav.upstreams", "GET /p/{p}/upstreams"},
	{"alerts", "nav.alerts", "GET /p/{p}/alerts"},
	{"logs", "nav.logs", "GET /p/{p}/logs"},
	{"import", "nav.import", "GET /p/{p}/import"},
	{"packages", "nav.packages", "GET /p/{p}/packages"},
	{"data-sources", "nav.data_sources", "GET /p/{p}/data-sources"},
	{"data-apis", "nav.data_apis", "GET /p/{p}/data-apis"},
	{"folders", "nav.folders", "GET /p/{p}/folders"},
	{"apps", "nav.apps", "GET /applications"},
	{"approvals", "nav.approvals", "GET /approvals"},
	{"members", "nav.members", "GET /p/{p}/members"},
	{"users", "nav.users", "GET /users"},
	{"roles", "nav.roles", "GET /roles"},
	{"audit", "nav.audit", "GET /audit"},
}

// navLink is a navigation entry the page shows; Badge counts what waits
// there (the approvals a reviewer may decide).
type navLink struct {
	Nav, Key, Href string
	Badge          int
}

// navFor lists the entries who may open, project pages in project.
func navFor(who *rbac.Principal, project string) []navLink {
	var out []navLink
	for _, n := range navTable {
		rt, ok := routeIndex[n.pattern]
		if !ok || !allows(who, rt, project) {
			continue
		}
		path := strings.TrimPrefix(rt.pattern, "GET ")
		path = strings.ReplaceAll(strings.TrimSuffix(path, "{$}"), "{p}", url.PathEscape(project))
		out = append(out, navLink{Nav: n.Nav, Key: n.Key, Href: path})
	}
	return out
}

// Can reports whether the user may use the page or form of pattern (a
// row of the page table) in the page's project; templates hide what they
// may not use. An unknown pattern is false (and a test failure).
func (p *page) Can(pattern string) bool { return p.CanIn(pattern, p.Project) }

// CanIn is Can in another project (a row of the projects list).
func (p *page) CanIn(pattern, project string) bool {
	rt, ok := routeIndex[pattern]
	return ok && p.who != nil && allows(p.who, rt, project)
}

// maxPublicForm bounds a form posted without a login.
const maxPublicForm = 64 << 10

// public runs a page that needs no login: no session, no /me, and an
// admin API refusal shown as it is (a 401 there is about the form, not a
// session to end).
func (c *Console) public(q *req, fn func(*req) error) {
	if q.r.Method == http.MethodPost {
		q.r.Body = http.MaxBytesReader(q.w, q.r.Body, maxPublicForm)
		if err := q.r.ParseForm(); err != nil {
			q.fail(http.StatusBadRequest, q.t("err.form"))
			return
		}
	}
	err := fn(q)
	if err == nil {
		return
	}
	if ae, ok := err.(*webpage.Refusal); ok {
		q.fail(ae.Status, ae.Detail)
		return
	}
	c.log.Error("console page failed", "path", q.r.URL.Path, "err", err)
	q.fail(http.StatusBadGateway, q.t("err.internal"))
}

// outsideTable are the patterns New registers itself, before and beside
// a login: the static files, the login form and the language switch.
// Any other pattern registered outside the page table fails
// TestEveryPageDeclaresAPermission.
var outsideTable = map[string]bool{"GET /static/": true, "GET /login": true, "POST /login": true, "GET /lang/{lang}": true}

// pageMux is the console's ServeMux, remembering every pattern
// registered, so that a test can check each is a row of the page table.
type pageMux struct {
	*http.ServeMux
	patterns []string
}

func newPageMux() *pageMux { return &pageMux{ServeMux: http.NewServeMux()} }

func (m *pageMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *pageMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

// Perm says in the page's language what a permission (rbac.Permission or
// its string) lets one do; "" for one the catalogue does not know.
func (p *page) Perm(perm any) string {
	key := "perm." + fmt.Sprint(perm)
	if !messages.Has(key) {
		return ""
	}
	return p.T(key)
}
