package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// settingsRoutes are a project's market settings (who approves its
// listings, its webhook and the webhook's deliveries) and a gateway
// group's time zone and public URL.
func settingsRoutes() []pageRoute {
	const P = "/p/{p}/settings"
	return []pageRoute{
		{pattern: "GET " + P, perm: rbac.ProjectRead, scope: scopeProject, handle: func(q *req) error { return settingsView(q, q.page(q.t("nav.settings"), "projects"), 200) }},
		// Changing the approver needs market:manage (a super admin), which
		// only the system scope grants: the row asks project:update, the
		// form shows only to a super admin, the admin API decides.
		{pattern: "POST " + P + "/approver", perm: rbac.ProjectUpdate, scope: scopeProject, handle: (*req).setApprover},
		{pattern: "POST " + P + "/webhook", perm: rbac.ProjectUpdate, scope: scopeProject, handle: (*req).putWebhook},
		{pattern: "POST " + P + "/webhook/delete", perm: rbac.ProjectUpdate, scope: scopeProject, handle: (*req).deleteWebhook},
		{pattern: "POST /groups/{g}/market", perm: rbac.GroupManage, handle: (*req).patchGroupMarket},
		{pattern: "POST /groups/{g}/tracing", perm: rbac.GroupManage, handle: (*req).patchGroupTracing},
	}
}

// delivery is one webhook delivery (GET /projects/{p}/webhook/deliveries).
type delivery struct {
	ID          string    `json:"id"`
	Event       string    `json:"event"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error"`
	DeliveredAt time.Time `json:"delivered_at"`
	NextAt      time.Time `json:"next_at"`
	CreatedAt   time.Time `json:"created_at"`
}

type settingsData struct {
	Project     spec.Project
	Approver    string // project_admin when the project names none
	Approvers   []string
	MayApprover bool // the user holds market:manage (a super admin)
	Webhook     *spec.Webhook
	Deliveries  []delivery
	Secret      string // a secret just set, shown once
}

func (q *req) projectPath() string { return "/projects/" + url.PathEscape(q.r.PathValue("p")) }

func settingsView(q *req, p *page, status int) error {
	d := settingsData{Approvers: []string{spec.ApproverProjectAdmin, spec.ApproverSuperAdmin}, MayApprover: q.who.Has(rbac.MarketManage, "")}
	if prev, ok := p.Data.(*settingsData); ok && prev != nil {
		d.Secret = prev.Secret
	}
	if err := q.call("GET", q.projectPath(), nil, &d.Project); err != nil {
		return err
	}
	d.Approver = d.Project.ListingApprover
	if d.Approver == "" {
		d.Approver = spec.ApproverProjectAdmin
	}
	var wh spec.Webhook
	err := q.call("GET", q.projectPath()+"/webhook", nil, &wh)
	var ae *webpage.Refusal
	switch {
	case err == nil:
		d.Webhook = &wh
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound: // none
	default:
		return err
	}
	// Deliveries stay listed after the webhook is removed.
	var dl webpage.List[delivery]
	if err := q.call("GET", q.projectPath()+"/webhook/deliveries?page_size=50", nil, &dl); err != nil {
		return err
	}
	d.Deliveries = dl.Items
	p.Title = q.t("nav.settings") + " · " + d.Project.ID
	p.Data = d
	q.render(status, "market_settings", p)
	return nil
}

func (q *req) settingsPage() string { return "/p/" + url.PathEscape(q.r.PathValue("p")) + "/settings" }

func (q *req) setApprover() error {
	body := map[string]string{"listing_approver": q.r.PostFormValue("listing_approver")}
	if err := q.call("PATCH", q.projectPath(), body, nil); err != nil {
		return q.reshow(err, "approver", settingsView, q.t("nav.settings"), "projects")
	}
	q.redirect(q.settingsPage(), "saved")
	return nil
}

// putWebhook sets the receiver: its URL and the secret typed, or (left
// empty) one the admin API generates. Either replaces the secret held. A
// secret is written, never read back, so the page that set one shows a
// generated one this once (no redirect).
func (q *req) putWebhook() error {
	f := q.r.PostForm
	body := map[string]string{"url": strings.TrimSpace(f.Get("url"))}
	if s := f.Get("secret"); s != "" {
		body["secret"] = s
	}
	var out spec.Webhook
	if err := q.call("PUT", q.projectPath()+"/webhook", body, &out); err != nil {
		return q.reshow(err, "webhook", settingsView, q.t("nav.settings"), "projects")
	}
	if out.Secret == "" {
		q.redirect(q.settingsPage(), "saved")
		return nil
	}
	p := q.page(q.t("nav.settings"), "projects")
	p.Flash = q.t("flash.saved")
	p.Data = &settingsData{Secret: out.Secret}
	return settingsView(q, p, 200)
}

func (q *req) deleteWebhook() error {
	if err := q.call("DELETE", q.projectPath()+"/webhook", nil, nil); err != nil {
		return q.reshow(err, "webhook", settingsView, q.t("nav.settings"), "projects")
	}
	q.redirect(q.settingsPage(), "deleted")
	return nil
}

// patchGroupTracing sets the share of new traces a group's gateways
// sample, or (left empty) gives the decision back to each gateway's
// --trace-sample-ratio. What is not a number goes to the admin API as
// written, which refuses it naming the field.
func (q *req) patchGroupTracing() error {
	var ratio any // nil: JSON null, unset
	if v := strings.TrimSpace(q.r.PostForm.Get("trace_sample_ratio")); v != "" {
		ratio = v
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			ratio = f
		}
	}
	body := map[string]any{"trace_sample_ratio": ratio}
	if err := q.call("PATCH", "/gateway-groups/"+url.PathEscape(q.r.PathValue("g")), body, nil); err != nil {
		return q.reshow(err, "tracing-"+q.r.PathValue("g"), groupsView, q.t("nav.groups"), "groups")
	}
	q.redirect("/groups", "saved")
	return nil
}

// patchGroupMarket sets a group's time zone (in which daily and monthly
// quotas count) and public URL (what the catalog shows clients).
func (q *req) patchGroupMarket() error {
	f := q.r.PostForm
	body := map[string]string{"time_zone": strings.TrimSpace(f.Get("time_zone")), "public_url": strings.TrimSpace(f.Get("public_url"))}
	if err := q.call("PATCH", "/gateway-groups/"+url.PathEscape(q.r.PathValue("g")), body, nil); err != nil {
		return q.reshow(err, "market-"+q.r.PathValue("g"), groupsView, q.t("nav.groups"), "groups")
	}
	q.redirect("/groups", "saved")
	return nil
}
