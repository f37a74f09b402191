package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// coreRoutes are the dashboard, projects, gateway groups and upstreams.
func coreRoutes() []pageRoute {
	return []pageRoute{
		{pattern: "POST /logout", perm: rbac.SessionSelf, handle: (*req).logout},
		{pattern: "GET /{$}", perm: rbac.SessionSelf, handle: func(q *req) error { return dashboardView(q, q.page(q.t("nav.dashboard"), "dashboard"), 200) }},
		// The admin API lists the projects the caller may see to anyone.
		{pattern: "GET /projects", perm: rbac.SessionSelf, handle: func(q *req) error { return projectsView(q, q.page(q.t("nav.projects"), "projects"), 200) }},
		{pattern: "POST /projects", perm: rbac.ProjectCreate, handle: (*req).createProject},
		{pattern: "POST /projects/{p}", perm: rbac.ProjectUpdate, scope: scopeProject, handle: (*req).patchProject},
		{pattern: "GET /groups", perm: rbac.GroupRead, handle: func(q *req) error { return groupsView(q, q.page(q.t("nav.groups"), "groups"), 200) }},
		{pattern: "POST /groups", perm: rbac.GroupManage, handle: (*req).createGroup},
		{pattern: "POST /groups/{g}", perm: rbac.GroupManage, handle: (*req).patchGroup},
		{pattern: "GET /p/{p}/upstreams", perm: rbac.UpstreamRead, scope: scopeProject, handle: func(q *req) error { return upstreamsView(q, q.page(q.t("nav.upstreams"), "upstreams"), 200) }},
		{pattern: "POST /p/{p}/upstreams", perm: rbac.UpstreamWrite, scope: scopeProject, handle: (*req).createUpstream},
		{pattern: "POST /p/{p}/upstreams/{u}/delete", perm: rbac.UpstreamWrite, scope: scopeProject, handle: (*req).deleteUpstream},
	}
}

func (q *req) logout() error {
	_ = q.call("POST", "/auth/logout", nil, nil) // the cookie goes either way
	clearSession(q.w)
	http.Redirect(q.w, q.r, "/login", http.StatusSeeOther)
	return nil
}

type groupRow struct {
	spec.GatewayGroup
	Running []groupService
}

type groupService struct {
	ProjectID   string        `json:"project_id"`
	ServiceID   string        `json:"service_id"`
	ServiceName string        `json:"service_name"`
	Version     string        `json:"version"`
	Upstream    spec.Upstream `json:"upstream"`
	URLs        []string      `json:"urls"`
	// Versions are the versions running side by side (version routing),
	// each with how a request names it; empty: one version.
	Versions []struct {
		Version  string `json:"version"`
		Selector string `json:"selector"`
	} `json:"versions"`
}

func (q *req) groups(withRunning bool) ([]groupRow, error) {
	var gl webpage.List[spec.GatewayGroup]
	if err := q.call("GET", "/gateway-groups?page_size=500", nil, &gl); err != nil {
		return nil, err
	}
	rows := make([]groupRow, len(gl.Items))
	for i, g := range gl.Items {
		rows[i].GatewayGroup = g
		if withRunning {
			var sl webpage.List[groupService]
			if err := q.call("GET", "/gateway-groups/"+url.PathEscape(g.Name)+"/services?page_size=500", nil, &sl); err != nil {
				return nil, err
			}
			rows[i].Running = sl.Items
		}
	}
	return rows, nil
}

func dashboardView(q *req, p *page, status int) error {
	groups, err := q.groups(true)
	if err != nil {
		return err
	}
	var projects webpage.List[spec.Project]
	if err := q.call("GET", "/projects?page_size=500", nil, &projects); err != nil {
		return err
	}
	// Only a project whose services the user may read is counted: the
	// admin API answers any other like a missing one.
	var services webpage.List[spec.Service]
	if q.who.Has(rbac.ServiceRead, p.Project) {
		if err := q.call("GET", "/projects/"+url.PathEscape(p.Project)+"/services?page_size=1", nil, &services); err != nil {
			return err
		}
	}
	running := 0
	for _, g := range groups {
		running += len(g.Running)
	}
	p.Data = map[string]any{"Groups": groups, "Projects": projects.Items, "Services": services.Total, "Running": running}
	q.render(status, "dashboard", p)
	return nil
}

func projectsView(q *req, p *page, status int) error {
	var projects webpage.List[spec.Project]
	if err := q.call("GET", "/projects?page_size=500", nil, &projects); err != nil {
		return err
	}
	groups, err := q.groups(false)
	if err != nil {
		return err
	}
	p.Data = map[string]any{"Projects": projects.Items, "Groups": groups}
	q.render(status, "projects", p)
	return nil
}

func (q *req) createProject() error {
	f := q.r.PostForm
	body := map[string]string{"id": strings.TrimSpace(f.Get("id")), "name": strings.TrimSpace(f.Get("name")), "description": f.Get("description")}
	if err := q.call("POST", "/projects", body, nil); err != nil {
		return q.reshow(err, "new-project", projectsView, q.t("nav.projects"), "projects")
	}
	q.redirect("/projects", "created")
	return nil
}

func (q *req) patchProject() error {
	f := q.r.PostForm
	body := map[string]string{"test_group": f.Get("test_group"), "production_group": f.Get("production_group")}
	if err := q.call("PATCH", "/projects/"+url.PathEscape(q.r.PathValue("p")), body, nil); err != nil {
		return q.reshow(err, "stages-"+q.r.PathValue("p"), projectsView, q.t("nav.projects"), "projects")
	}
	q.redirect("/projects", "saved")
	return nil
}

func groupsView(q *req, p *page, status int) error {
	groups, err := q.groups(true)
	if err != nil {
		return err
	}
	p.Data = groups
	q.render(status, "groups", p)
	return nil
}

func (q *req) createGroup() error {
	f := q.r.PostForm
	body := map[string]string{"name": strings.TrimSpace(f.Get("name")), "path_prefix": strings.TrimSpace(f.Get("path_prefix")), "description": f.Get("description")}
	if err := q.call("POST", "/gateway-groups", body, nil); err != nil {
		return q.reshow(err, "new-group", groupsView, q.t("nav.groups"), "groups")
	}
	q.redirect("/groups", "created")
	return nil
}

func (q *req) patchGroup() error {
	f := q.r.PostForm
	path := "/gateway-groups/" + url.PathEscape(q.r.PathValue("g"))
	if f.Get("confirm") == "on" {
		path += "?confirm=true"
	}
	if err := q.call("PATCH", path, map[string]string{"path_prefix": strings.TrimSpace(f.Get("path_prefix"))}, nil); err != nil {
		return q.reshow(err, "group-"+q.r.PathValue("g"), groupsView, q.t("nav.groups"), "groups")
	}
	q.redirect("/groups", "saved")
	return nil
}

func upstreamsView(q *req, p *page, status int) error {
	var ul webpage.List[spec.Upstream]
	if err := q.call("GET", "/projects/"+url.PathEscape(p.Project)+"/upstreams?page_size=500", nil, &ul); err != nil {
		return err
	}
	p.Data = ul.Items
	q.render(status, "upstreams", p)
	return nil
}

// nodesOf reads the repeated node rows of a form (node_host, node_port,
// node_weight); empty rows are skipped, bad numbers left for the admin API
// to refuse (as 0 or -1, which it reports beside the field).
func nodesOf(f url.Values) []spec.Node {
	hosts, ports, weights := f["node_host"], f["node_port"], f["node_weight"]
	var nodes []spec.Node
	for i, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		n := spec.Node{Host: h, Port: -1, Weight: 100}
		if i < len(ports) {
			if v, err := strconv.Atoi(strings.TrimSpace(ports[i])); err == nil {
				n.Port = v
			}
		}
		if i < len(weights) && strings.TrimSpace(weights[i]) != "" {
			n.Weight = -1
			if v, err := strconv.Atoi(strings.TrimSpace(weights[i])); err == nil {
				n.Weight = v
			}
		}
		nodes = append(nodes, n)
	}
	return nodes
}

func upstreamOf(f url.Values) *spec.Upstream {
	nodes := nodesOf(f)
	if len(nodes) == 0 {
		return nil
	}
	return &spec.Upstream{Scheme: f.Get("scheme"), Nodes: nodes}
}

func (q *req) createUpstream() error {
	f := q.r.PostForm
	u := spec.Upstream{Name: strings.TrimSpace(f.Get("name")), Scheme: f.Get("scheme"), Nodes: nodesOf(f)}
	if err := q.call("POST", "/projects/"+url.PathEscape(q.r.PathValue("p"))+"/upstreams", u, nil); err != nil {
		return q.reshow(err, "new-upstream", upstreamsView, q.t("nav.upstreams"), "upstreams")
	}
	q.redirect("/p/"+url.PathEscape(q.r.PathValue("p"))+"/upstreams", "created")
	return nil
}

func (q *req) deleteUpstream() error {
	p := url.PathEscape(q.r.PathValue("p"))
	if err := q.call("DELETE", "/projects/"+p+"/upstreams/"+url.PathEscape(q.r.PathValue("u")), nil, nil); err != nil {
		return q.reshow(err, "", upstreamsView, q.t("nav.upstreams"), "upstreams")
	}
	q.redirect("/p/"+p+"/upstreams", "deleted")
	return nil
}
