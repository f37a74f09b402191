package console

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// serviceRoutes are the services list and a service's overview.
func serviceRoutes() []pageRoute {
	const S = "/p/{p}/services/{s}"
	return []pageRoute{
		{pattern: "GET /p/{p}/services", perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error { return servicesView(q, q.page(q.t("nav.services"), "services"), 200) }},
		{pattern: "POST /p/{p}/services", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).createService},
		{pattern: "GET " + S, perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error { return serviceView(q, q.page(q.t("nav.services"), "services"), 200) }},
		{pattern: "POST " + S + "/delete", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).deleteService},
		{pattern: "POST " + S + "/routes", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).saveRoute},
		{pattern: "POST " + S + "/routes/{r}", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).saveRoute},
		{pattern: "POST " + S + "/routes/{r}/delete", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).deleteRoute},
		// Publishing also needs the group stage's permission, which only
		// the admin API can check (it knows the project's stages).
		{pattern: "POST " + S + "/actions/{a}", perm: rbac.ServicePublish, scope: scopeProject, handle: (*req).lifecycle},
		{pattern: "POST " + S + "/publish", perm: rbac.ServicePublish, scope: scopeProject, handle: (*req).publish},
		{pattern: "POST " + S + "/sync", perm: rbac.ServicePublish, scope: scopeProject, handle: (*req).syncService},
		{pattern: "POST " + S + "/rollback", perm: rbac.ServicePublish, scope: scopeProject, handle: (*req).rollback},
		{pattern: "POST " + S + "/unpublish", perm: rbac.ServicePublish, scope: scopeProject, handle: (*req).unpublish},
	}
}

func (q *req) svcPath() string {
	return "/projects/" + url.PathEscape(q.r.PathValue("p")) + "/services/" + url.PathEscape(q.r.PathValue("s"))
}

func (q *req) svcPage() string {
	return "/p/" + url.PathEscape(q.r.PathValue("p")) + "/services/" + url.PathEscape(q.r.PathValue("s"))
}

const servicesPageSize = 20

type servicesData struct {
	Items      []spec.Service
	Total      int
	Page, Last int
	Q          string
}

func servicesView(q *req, p *page, status int) error {
	page, _ := strconv.Atoi(q.r.URL.Query().Get("page"))
	page = min(max(page, 1), 100000)
	search := q.r.URL.Query().Get("q")
	var sl webpage.List[spec.Service]
	v := url.Values{"page": {strconv.Itoa(page)}, "page_size": {strconv.Itoa(servicesPageSize)}}
	if search != "" {
		v.Set("q", search)
	}
	if err := q.call("GET", "/projects/"+url.PathEscape(p.Project)+"/services?"+v.Encode(), nil, &sl); err != nil {
		return err
	}
	last := max((sl.Total+servicesPageSize-1)/servicesPageSize, 1)
	p.Data = servicesData{Items: sl.Items, Total: sl.Total, Page: page, Last: last, Q: search}
	q.render(status, "services", p)
	return nil
}

func (q *req) createService() error {
	f := q.r.PostForm
	svc := spec.Service{Name: strings.TrimSpace(f.Get("name")), Description: f.Get("description"), Path: strings.TrimSpace(f.Get("path"))}
	if pr := f["protocols"]; len(pr) > 0 {
		svc.Protocols = pr
	}
	svc.Upstream = upstreamOf(f)
	var out spec.Service
	if err := q.call("POST", "/projects/"+url.PathEscape(q.r.PathValue("p"))+"/services", svc, &out); err != nil {
		return q.reshow(err, "new-service", servicesView, q.t("nav.services"), "services")
	}
	q.redirect("/p/"+url.PathEscape(q.r.PathValue("p"))+"/services/"+url.PathEscape(out.ID), "created")
	return nil
}

type versionInfo struct {
	spec.Version
	Groups []string `json:"groups"`
}

type serviceData struct {
	P        *page
	ID, Tab  string
	Svc      spec.Service
	Project  spec.Project
	Groups   []groupRow
	Versions []versionInfo
	History  []spec.HistoryEvent
	Running  map[string]string         // group → version
	Deps     *spec.ServiceDependencies // what the service's composite routes call, and who calls it; nil: nothing
	// Unpublished are the groups whose running version the template
	// differs from (the overview only).
	Unpublished map[string]unpublishedMark
	Extra       any
}

// loadService fills what every tab of a service shows in its header.
func (q *req) loadService(p *page, tab string) (*serviceData, error) {
	d := &serviceData{P: p, Tab: tab, Running: map[string]string{}}
	if err := q.call("GET", q.svcPath(), nil, &d.Svc); err != nil {
		return nil, err
	}
	d.ID = d.Svc.ID
	if err := q.call("GET", "/projects/"+url.PathEscape(p.Project), nil, &d.Project); err != nil {
		return nil, err
	}
	var vl webpage.List[versionInfo]
	if err := q.call("GET", q.svcPath()+"/versions?page_size=100", nil, &vl); err != nil {
		return nil, err
	}
	d.Versions = vl.Items
	for _, v := range vl.Items {
		for _, g := range v.Groups {
			d.Running[g] = v.Version.Version
		}
	}
	groups, err := q.groups(false)
	if err != nil {
		return nil, err
	}
	d.Groups = groups
	p.Title = d.Svc.Name
	return d, nil
}

func serviceView(q *req, p *page, status int) error {
	d, err := q.loadService(p, "overview")
	if err != nil {
		return err
	}
	var hl webpage.List[spec.HistoryEvent]
	if err := q.call("GET", q.svcPath()+"/history?page_size=50", nil, &hl); err != nil {
		return err
	}
	d.History = hl.Items
	d.Deps = q.loadDependencies()
	d.Unpublished = q.unpublishedChanges(d)
	p.Data = d
	q.render(status, "service", p)
	return nil
}

func (q *req) deleteService() error {
	if err := q.call("DELETE", q.svcPath(), nil, nil); err != nil {
		return q.reshow(err, "", serviceView, q.t("nav.services"), "services")
	}
	q.redirect("/p/"+url.PathEscape(q.r.PathValue("p"))+"/services", "deleted")
	return nil
}

// splitList reads a list typed as "a, b c" or one per line.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func (q *req) saveRoute() error {
	f := q.r.PostForm
	rt := spec.Route{Name: strings.TrimSpace(f.Get("name")), Description: f.Get("description"), Paths: splitList(f.Get("paths"))}
	for _, m := range f["methods"] {
		rt.Methods = append(rt.Methods, strings.ToUpper(m))
	}
	online := f.Get("online") != "off"
	rt.Online = &online
	method, path, form := "POST", q.svcPath()+"/routes", "new-route"
	if id := q.r.PathValue("r"); id != "" {
		method, path, form = "PUT", path+"/"+url.PathEscape(id), "route-"+id
	}
	backend, err := q.backendFromForm(f)
	if err != nil {
		return q.reshow(err, form, serviceView, q.t("nav.services"), "services")
	}
	if err := q.call(method, path, routeBody{Route: rt, Backend: backend}, nil); err != nil {
		return q.reshow(err, form, serviceView, q.t("nav.services"), "services")
	}
	q.redirect(q.svcPage(), "saved")
	return nil
}

func (q *req) deleteRoute() error {
	if err := q.call("DELETE", q.svcPath()+"/routes/"+url.PathEscape(q.r.PathValue("r")), nil, nil); err != nil {
		return q.reshow(err, "", serviceView, q.t("nav.services"), "services")
	}
	q.redirect(q.svcPage(), "deleted")
	return nil
}

var lifecycleActions = map[string]bool{"submit": true, "withdraw": true, "publish": true, "disable": true, "enable": true, "republish": true}

func (q *req) lifecycle() error {
	a := q.r.PathValue("a")
	if !lifecycleActions[a] {
		return &webpage.Refusal{Status: 404, Detail: q.t("err.no_action")}
	}
	body := map[string]any{}
	if v := strings.TrimSpace(q.r.PostFormValue("version")); v != "" && a == "submit" {
		body["version"] = v
	}
	if err := q.call("POST", q.svcPath()+"/actions/"+a, body, nil); err != nil {
		return q.reshow(err, "action-"+a, serviceView, q.t("nav.services"), "services")
	}
	q.redirect(q.svcPage(), "action_"+a)
	return nil
}

func (q *req) publish() error {
	f := q.r.PostForm
	body := map[string]any{"group": f.Get("group"), "version": strings.TrimSpace(f.Get("version"))}
	if u := upstreamOf(f); u != nil {
		body["upstream"] = u
	}
	if err := q.call("POST", q.svcPath()+"/publish", body, nil); err != nil {
		return q.reshow(err, "publish", serviceView, q.t("nav.services"), "services")
	}
	q.redirect(q.svcPage(), "published")
	return nil
}

func (q *req) syncService() error {
	f := q.r.PostForm
	body := map[string]any{"from_group": f.Get("from_group"), "to_group": f.Get("to_group")}
	if u := upstreamOf(f); u != nil {
		body["upstream"] = u
	}
	if err := q.call("POST", q.svcPath()+"/sync", body, nil); err != nil {
		return q.reshow(err, "sync", serviceView, q.t("nav.services"), "services")
	}
	q.redirect(q.svcPage(), "synced")
	return nil
}

func (q *req) rollback() error {
	f := q.r.PostForm
	if err := q.call("POST", q.svcPath()+"/rollback", map[string]string{"group": f.Get("group"), "version": f.Get("version")}, nil); err != nil {
		return q.reshow(err, "rollback", serviceView, q.t("nav.services"), "services")
	}
	q.redirect(q.svcPage(), "rolled_back")
	return nil
}
