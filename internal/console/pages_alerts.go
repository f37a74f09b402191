package console

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// alertRoutes are a project's alert rules: every rule with its state
// (firing first), the forms that create, change and delete them, and
// the recent changes of state.
func alertRoutes() []pageRoute {
	const A = "/p/{p}/alerts"
	return []pageRoute{
		{pattern: "GET " + A, perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error { return alertsView(q, q.page(q.t("nav.alerts"), "alerts"), 200) }},
		{pattern: "POST " + A, perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).saveAlert},
		{pattern: "POST " + A + "/{s}/{a}", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).saveAlert},
		{pattern: "POST " + A + "/{s}/{a}/delete", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).deleteAlert},
	}
}

// alertsData is the Alerts page: the project's rules, its services (for
// the new rule's form), its groups and the recent changes of state.
type alertsData struct {
	Rules    []spec.AlertRule
	Firing   int
	Services []spec.Service
	Events   []spec.AlertEvent
}

// alertForm is a rule's editor: the rule (nil: a new one), the form's
// name and where it posts.
type alertForm struct {
	P        *page
	Rule     *spec.AlertRule
	Services []spec.Service // a new rule picks its service
	Form     string
	Action   string
}

// V is the value the field shows: the refused form's on its own form,
// else the rule's.
func (af alertForm) V(name string) string {
	if af.P.Open == af.Form && af.P.Form != nil {
		return af.P.V(name)
	}
	if af.Rule == nil {
		return ""
	}
	r := af.Rule
	switch name {
	case "name":
		return r.Name
	case "metric":
		return r.Metric
	case "threshold":
		return strconv.FormatFloat(r.Threshold, 'f', -1, 64)
	case "window":
		return r.Window
	case "min_requests":
		return strconv.Itoa(r.MinRequests)
	case "group":
		return r.Group
	case "enabled":
		if r.Enabled {
			return "on"
		}
	}
	return ""
}

// E shows a refused rule's messages on its own form only.
func (af alertForm) E(name string) string {
	if af.P.Open != af.Form {
		return ""
	}
	return af.P.E(name)
}

func newAlertForm(p *page, rule *spec.AlertRule, services []spec.Service) alertForm {
	af := alertForm{P: p, Rule: rule, Services: services, Form: "new-alert", Action: "/p/" + url.PathEscape(p.Project) + "/alerts"}
	if rule != nil {
		af.Form = "alert-" + rule.ID
		af.Action += "/" + url.PathEscape(rule.Service) + "/" + url.PathEscape(rule.ID)
	}
	return af
}

func init() {
	funcs["alertForm"] = newAlertForm
	funcs["alertMetrics"] = func() []string { return spec.AlertMetrics }
	// alertValue shows a metric's value in its unit.
	funcs["alertValue"] = func(metric string, v float64) string {
		if metric == spec.AlertErrorRate {
			return strconv.FormatFloat(v*100, 'f', 1, 64) + " %"
		}
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	}
}

func (q *req) alertsPath() string { return "/projects/" + url.PathEscape(q.r.PathValue("p")) }

func alertsView(q *req, p *page, status int) error {
	var d alertsData
	var rules webpage.List[spec.AlertRule]
	if err := q.call("GET", q.alertsPath()+"/alerts?page_size=500", nil, &rules); err != nil {
		return err
	}
	d.Rules = rules.Items
	for _, r := range d.Rules {
		if r.State == spec.AlertFiring {
			d.Firing++
		}
	}
	var events webpage.List[spec.AlertEvent]
	if err := q.call("GET", q.alertsPath()+"/alerts/events?page_size=50", nil, &events); err != nil {
		return err
	}
	d.Events = events.Items
	if p.Can("POST /p/{p}/alerts") {
		var svcs webpage.List[spec.Service]
		if err := q.call("GET", q.alertsPath()+"/services?page_size=500", nil, &svcs); err != nil {
			return err
		}
		d.Services = svcs.Items
	}
	p.Data = d
	q.render(status, "alerts", p)
	return nil
}

// alertBody is what a rule's form sends the admin API: every field the
// form shows, so an edit is a whole replacement of what it holds; a
// number that does not parse is sent as is for the admin API to refuse
// beside its field.
func alertBody(f url.Values) map[string]any {
	b := map[string]any{"name": strings.TrimSpace(f.Get("name")), "metric": f.Get("metric"),
		"window": strings.TrimSpace(f.Get("window")), "enabled": f.Get("enabled") == "on"}
	for _, n := range []string{"threshold", "min_requests"} {
		v := strings.TrimSpace(f.Get(n))
		if v == "" {
			b[n] = nil
			continue
		}
		if x, err := strconv.ParseFloat(v, 64); err == nil {
			b[n] = x
		} else {
			b[n] = v
		}
	}
	if b["threshold"] == nil {
		b["threshold"] = 0
	}
	if g := strings.TrimSpace(f.Get("group")); g != "" {
		b["group"] = g
	}
	if b["window"] == "" {
		delete(b, "window")
	}
	return b
}

func (q *req) saveAlert() error {
	f := q.r.PostForm
	body := alertBody(f)
	svc, id := q.r.PathValue("s"), q.r.PathValue("a")
	method, path, form := "PATCH", "", "alert-"+id
	if id == "" {
		svc, method, form = f.Get("service"), "POST", "new-alert"
		if svc == "" {
			svc = "-" // the admin API answers that no such service exists
		}
		if body["min_requests"] == nil {
			delete(body, "min_requests")
		}
	}
	path = q.alertsPath() + "/services/" + url.PathEscape(svc) + "/alerts"
	if id != "" {
		path += "/" + url.PathEscape(id)
	}
	if err := q.call(method, path, body, nil); err != nil {
		return q.reshow(err, form, alertsView, q.t("nav.alerts"), "alerts")
	}
	q.redirect("/p/"+url.PathEscape(q.r.PathValue("p"))+"/alerts", "saved")
	return nil
}

func (q *req) deleteAlert() error {
	path := q.alertsPath() + "/services/" + url.PathEscape(q.r.PathValue("s")) + "/alerts/" + url.PathEscape(q.r.PathValue("a"))
	if err := q.call("DELETE", path, nil, nil); err != nil {
		return q.reshow(err, "", alertsView, q.t("nav.alerts"), "alerts")
	}
	q.redirect("/p/"+url.PathEscape(q.r.PathValue("p"))+"/alerts", "deleted")
	return nil
}

// firingBadge counts the project's firing alerts for the navigation: one
// small in-process call when the user may see the page, nothing when the
// admin API cannot answer.
func (q *req) firingBadge(links []navLink, project string) {
	i := slices.IndexFunc(links, func(l navLink) bool { return l.Nav == "alerts" })
	if i < 0 || q.token == "" || project == "" {
		return
	}
	var rules webpage.List[spec.AlertRule]
	if q.call("GET", "/projects/"+url.PathEscape(project)+"/alerts?page_size=500", nil, &rules) != nil {
		return
	}
	for _, r := range rules.Items {
		if r.State == spec.AlertFiring {
			links[i].Badge++
		}
	}
}
