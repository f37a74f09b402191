package console

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// planRoutes are a service's plans (what a subscription picks, with its
// quotas) and its subscriptions with their usage.
func planRoutes() []pageRoute {
	const S = "/p/{p}/services/{s}"
	return []pageRoute{
		{pattern: "GET " + S + "/plans", perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error { return plansView(q, q.page("", "services"), 200) }},
		{pattern: "POST " + S + "/plans", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).savePlan},
		{pattern: "POST " + S + "/plans/{plan}", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).savePlan},
		{pattern: "POST " + S + "/plans/{plan}/delete", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).deletePlan},
		{pattern: "GET " + S + "/subscriptions", perm: rbac.SubscriptionRead, scope: scopeProject, handle: func(q *req) error { return subsView(q, q.page("", "services"), 200) }},
		{pattern: "GET " + S + "/subscriptions/{sub}", perm: rbac.SubscriptionRead, scope: scopeProject, handle: func(q *req) error { return usageView(q, q.page("", "services"), 200) }},
	}
}

// maxQuotaRows is how many quota rows a plan form offers: one per period.
var maxQuotaRows = len(spec.QuotaPeriods)

// quotaRow is one row of a plan form: a count and its period.
type quotaRow struct {
	Count  string
	Period string
}

// planForm is the plan editor: the plan (nil: a new one), its quota
// rows, the form's name and where it posts.
type planForm struct {
	P      *page
	Plan   *spec.Plan
	Rows   []quotaRow
	Form   string
	Action string
}

// E and V show a refused plan's messages and values on its own form only.
func (pf planForm) E(name string) string {
	if pf.P.Open != pf.Form {
		return ""
	}
	return pf.P.E(name)
}

func (pf planForm) V(name string) string {
	if pf.P.Open != pf.Form {
		return ""
	}
	return pf.P.V(name)
}

// newPlanForm fills the rows of a plan's form: the refused form's values
// when it is the one shown again, else the plan's quotas, then empty rows
// up to one per period.
func newPlanForm(p *page, plan *spec.Plan, action string) planForm {
	pf := planForm{P: p, Plan: plan, Action: action, Form: "new-plan"}
	if plan != nil {
		pf.Form = "plan-" + plan.ID
	}
	switch {
	case p.Open == pf.Form && p.Form != nil:
		periods := p.Form["quota_period"]
		for i, c := range p.Form["quota_count"] {
			r := quotaRow{Count: c}
			if i < len(periods) {
				r.Period = periods[i]
			}
			pf.Rows = append(pf.Rows, r)
		}
	case plan != nil:
		for _, qt := range plan.Quotas {
			pf.Rows = append(pf.Rows, quotaRow{Count: strconv.FormatInt(qt.Count, 10), Period: qt.Period})
		}
	}
	for len(pf.Rows) < maxQuotaRows {
		pf.Rows = append(pf.Rows, quotaRow{})
	}
	return pf
}

func init() {
	funcs["planForm"] = newPlanForm
	funcs["periods"] = func() []string { return spec.QuotaPeriods }
	funcs["quotas"] = func(p *page, qs []spec.Quota) string {
		if len(qs) == 0 {
			return p.T("plan.unlimited")
		}
		parts := make([]string, len(qs))
		for i, qt := range qs {
			parts[i] = strconv.FormatInt(qt.Count, 10) + " / " + p.T("period."+qt.Period)
		}
		return strings.Join(parts, ", ")
	}
}

// quotasOf reads a plan form's rows; a row without a count is skipped, a
// count that is no number is sent as -1 for the admin API to refuse
// beside its field.
func quotasOf(f url.Values) []spec.Quota {
	out := []spec.Quota{}
	periods := f["quota_period"]
	for i, c := range f["quota_count"] {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		qt := spec.Quota{Count: -1}
		if n, err := strconv.ParseInt(c, 10, 64); err == nil {
			qt.Count = n
		}
		if i < len(periods) {
			qt.Period = periods[i]
		}
		out = append(out, qt)
	}
	return out
}

func (q *req) plansPath() string { return q.svcPath() + "/plans" }

// plans lists the service's plans.
func (q *req) plans() ([]spec.Plan, error) {
	var pl webpage.List[spec.Plan]
	if err := q.call("GET", q.plansPath(), nil, &pl); err != nil {
		return nil, err
	}
	return pl.Items, nil
}

func plansView(q *req, p *page, status int) error {
	d, err := q.loadService(p, "plans")
	if err != nil {
		return err
	}
	plans, err := q.plans()
	if err != nil {
		return err
	}
	d.Extra = plans
	p.Data = d
	q.render(status, "market_plans", p)
	return nil
}

func (q *req) savePlan() error {
	f := q.r.PostForm
	plan := spec.Plan{Name: strings.TrimSpace(f.Get("name")), Description: f.Get("description"), Quotas: quotasOf(f)}
	method, path, form := "POST", q.plansPath(), "new-plan"
	if id := q.r.PathValue("plan"); id != "" {
		method, path, form = "PUT", path+"/"+url.PathEscape(id), "plan-"+id
	}
	if err := q.call(method, path, plan, nil); err != nil {
		return q.reshow(err, form, plansView, q.t("nav.services"), "services")
	}
	q.redirect(q.svcPage()+"/plans", "saved")
	return nil
}

func (q *req) deletePlan() error {
	if err := q.call("DELETE", q.plansPath()+"/"+url.PathEscape(q.r.PathValue("plan")), nil, nil); err != nil {
		return q.reshow(err, "", plansView, q.t("nav.services"), "services")
	}
	q.redirect(q.svcPage()+"/plans", "deleted")
	return nil
}

type subsData struct {
	Items  []spec.Subscription
	Total  int
	State  string
	States []string
	Plans  map[string]string // plan id → name
}

// planNames maps the service's plan ids to their names; none when the
// plans cannot be read (the table then shows ids).
func (q *req) planNames() map[string]string {
	out := map[string]string{}
	plans, err := q.plans()
	if err != nil {
		return out
	}
	for _, pl := range plans {
		out[pl.ID] = pl.Name
	}
	return out
}

func subsView(q *req, p *page, status int) error {
	d, err := q.loadService(p, "subscriptions")
	if err != nil {
		return err
	}
	sd := subsData{State: q.r.URL.Query().Get("state"), States: spec.ApprovalStates, Plans: q.planNames()}
	v := url.Values{"service": {d.ID}, "project": {p.Project}, "page_size": {"500"}}
	if sd.State != "" {
		v.Set("state", sd.State)
	}
	var sl webpage.List[spec.Subscription]
	if err := q.call("GET", "/subscriptions?"+v.Encode(), nil, &sl); err != nil {
		return err
	}
	sd.Items, sd.Total = sl.Items, sl.Total
	d.Extra = sd
	p.Data = d
	q.render(status, "market_subs", p)
	return nil
}

// usagePeriod is one quota's count of a subscription
// (GET /subscriptions/{id}/usage).
type usagePeriod struct {
	Period    string    `json:"period"`
	Limit     int64     `json:"limit"`
	Used      int64     `json:"used"`
	Remaining int64     `json:"remaining"`
	ResetsAt  time.Time `json:"resets_at"`
}

type usageData struct {
	Sub     spec.Subscription `json:"-"`
	Plan    string            `json:"plan"`
	Group   string            `json:"group"` // the gateway group counted
	Periods []usagePeriod     `json:"periods"`
	Counted bool              `json:"counted"` // a gateway counts for the group
}

func usageView(q *req, p *page, status int) error {
	d, err := q.loadService(p, "subscriptions")
	if err != nil {
		return err
	}
	var ud usageData
	id := url.PathEscape(q.r.PathValue("sub"))
	if err := q.call("GET", "/subscriptions/"+id, nil, &ud.Sub); err != nil {
		return err
	}
	if ud.Sub.ServiceID != d.ID {
		return &webpage.Refusal{Status: 404, Detail: q.t("sub.not_here")}
	}
	if err := q.call("GET", "/subscriptions/"+id+"/usage", nil, &ud); err != nil {
		return err
	}
	d.Extra = ud
	p.Data = d
	q.render(status, "market_usage", p)
	return nil
}
