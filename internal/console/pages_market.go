package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// marketRoutes are the API market's pages: the approvals inbox, a
// service's market, plans and subscriptions tabs, a project's settings
// (who approves listings, the webhook) and a group's time zone and public
// URL. The admin API decides every request; the rows say what the
// console may show before asking it.
func marketRoutes() []pageRoute {
	const S = "/p/{p}/services/{s}"
	return slices.Concat([]pageRoute{
		// Everyone has requests of their own; reviewers also see what they
		// may decide. The admin API narrows both boxes to the caller.
		{pattern: "GET /approvals", perm: rbac.ApprovalOwn, handle: func(q *req) error { return approvalsView(q, q.page(q.t("nav.approvals"), "approvals"), 200) }},
		{pattern: "GET /approvals/{id}", perm: rbac.ApprovalOwn, handle: func(q *req) error { return approvalView(q, q.page(q.t("nav.approvals"), "approvals"), 200) }},
		// Approve and reject need approval:review in the request's project,
		// cancel being its requester: the admin API knows both.
		{pattern: "POST /approvals/{id}/{op}", perm: rbac.ApprovalOwn, handle: (*req).decide},
		{pattern: "GET " + S + "/market", perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error { return marketView(q, q.page("", "services"), 200) }},
		{pattern: "POST " + S + "/listing", perm: rbac.ListingRequest, scope: scopeProject, handle: (*req).launch},
		{pattern: "POST " + S + "/listing/delete", perm: rbac.ListingRequest, scope: scopeProject, handle: (*req).delist},
		{pattern: "POST " + S + "/listing/settings", perm: rbac.ApprovalReview, scope: scopeProject, handle: (*req).patchListing},
	}, planRoutes(), settingsRoutes())
}

const approvalsPageSize = 20

// approvalBoxes are the inbox's two views.
var approvalBoxes = []string{"todo", "mine"}

type approvalsData struct {
	Box, State, Kind string
	Items            []spec.Approval
	Total            int
	Page, Last       int
	Query            string // box, state and kind, for the pager
	States, Kinds    []string
	Review           bool // the user may decide requests somewhere
}

// mayReview says whether the user may decide requests anywhere: the
// "To review" box is theirs, and the default.
func (q *req) mayReview() bool { return q.who != nil && q.who.Anywhere(rbac.ApprovalReview) }

func approvalsView(q *req, p *page, status int) error {
	in := q.r.URL.Query()
	d := approvalsData{Box: in.Get("box"), State: in.Get("state"), Kind: in.Get("kind"), States: spec.ApprovalStates,
		Kinds: spec.ApprovalKinds, Review: q.mayReview()}
	if !slices.Contains(approvalBoxes, d.Box) {
		d.Box = "mine"
		if d.Review {
			d.Box = "todo"
		}
	}
	filter := url.Values{"box": {d.Box}}
	if d.State != "" {
		filter.Set("state", d.State)
	}
	if d.Kind != "" {
		filter.Set("kind", d.Kind)
	}
	d.Query = filter.Encode()
	pg, _ := strconv.Atoi(in.Get("page"))
	d.Page = min(max(pg, 1), 100000)
	list := url.Values{"page": {strconv.Itoa(d.Page)}, "page_size": {strconv.Itoa(approvalsPageSize)}}
	for k, v := range filter {
		list[k] = v
	}
	var al webpage.List[spec.Approval]
	err := q.call("GET", "/approvals?"+list.Encode(), nil, &al)
	var ae *webpage.Refusal
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusBadRequest:
		// A bad filter: the form again, the message beside its field.
		p.Error, p.Errors = ae.Detail, ae.Fields
		status = http.StatusBadRequest
	case err != nil:
		return err
	}
	d.Items, d.Total = al.Items, al.Total
	d.Last = max((al.Total+approvalsPageSize-1)/approvalsPageSize, 1)
	p.Data = d
	q.render(status, "market_approvals", p)
	return nil
}

type approvalData struct {
	A              spec.Approval
	Decide, Cancel bool // the forms the user may use
}

// mayDecide says what the admin API would let the user do with a: decide
// it as a reviewer of its project (a super_admin only for a request that
// names super_admin), cancel it as its requester; only while pending.
func (q *req) mayDecide(a *spec.Approval) (decide, cancel bool) {
	if a.State != spec.ApprovalPending || q.who == nil {
		return false, false
	}
	decide = q.who.Has(rbac.ApprovalReview, a.Project) && (a.ApproverRole != spec.ApproverSuperAdmin || q.who.Super())
	cancel = a.Requester != "" && a.Requester == q.me.ID
	return decide, cancel
}

func approvalView(q *req, p *page, status int) error {
	var d approvalData
	if err := q.call("GET", "/approvals/"+url.PathEscape(q.r.PathValue("id")), nil, &d.A); err != nil {
		return err
	}
	d.Decide, d.Cancel = q.mayDecide(&d.A)
	p.Title = q.t("kind."+d.A.Kind) + " · " + d.A.ServiceName
	p.Data = d
	q.render(status, "market_approval", p)
	return nil
}

// decide approves, rejects or cancels a request, with its comment.
func (q *req) decide() error {
	op := q.r.PathValue("op")
	if op != "approve" && op != "reject" && op != "cancel" {
		return &webpage.Refusal{Status: http.StatusNotFound, Detail: q.t("err.no_action")}
	}
	id := q.r.PathValue("id")
	body := map[string]string{"comment": strings.TrimSpace(q.r.PostFormValue("comment"))}
	if err := q.call("POST", "/approvals/"+url.PathEscape(id)+"/"+op, body, nil); err != nil {
		return q.reshow(err, "decide", approvalView, q.t("nav.approvals"), "approvals")
	}
	q.redirect("/approvals/"+url.PathEscape(id), "approval_"+op)
	return nil
}

// pendingBadge counts the requests waiting for the user's decision, for
// the navigation: one small in-process call, only for a reviewer, and
// nothing when the admin API cannot answer.
func (q *req) pendingBadge(links []navLink) {
	i := slices.IndexFunc(links, func(l navLink) bool { return l.Nav == "approvals" })
	if i < 0 || !q.mayReview() || q.token == "" {
		return
	}
	var al webpage.List[spec.Approval]
	if q.call("GET", "/approvals?box=todo&state=pending&page_size=1", nil, &al) == nil {
		links[i].Badge = al.Total
	}
}

// stateClass is the badge class of an approval's or a subscription's
// state, in the console's colours.
func stateClass(state string) string {
	switch state {
	case spec.ApprovalPending:
		return "s-submitted"
	case spec.ApprovalApproved:
		return "s-ok"
	case spec.ApprovalRejected:
		return "s-err"
	case spec.ApprovalCancelled:
		return "s-cancelled"
	}
	return "s-draft"
}

// launchForm hands the "launchform" template (market_service.html) its
// page, service and button label: the same request launches a service
// and, once listed, changes its listed version.
type launchForm struct {
	P     *page
	D     *serviceData
	Label string
}

func init() {
	funcs["stateClass"] = stateClass
	funcs["launchForm"] = func(p *page, d *serviceData, label string) launchForm { return launchForm{P: p, D: d, Label: label} }
}

// serviceApprovals lists the pending requests about one service that the
// user may see: those they may decide and those they made.
func (q *req) serviceApprovals(service string) ([]spec.Approval, error) {
	var out []spec.Approval
	boxes := []string{"mine"}
	if q.mayReview() {
		boxes = []string{"todo", "mine"}
	}
	for _, box := range boxes {
		var al webpage.List[spec.Approval]
		if err := q.call("GET", "/approvals?box="+box+"&state=pending&page_size=500&service="+url.QueryEscape(service), nil, &al); err != nil {
			return nil, err
		}
		for _, a := range al.Items {
			if !slices.ContainsFunc(out, func(b spec.Approval) bool { return b.ID == a.ID }) {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

type marketData struct {
	Listing  *spec.Listing // nil: not in the catalog
	Requests []spec.Approval
}

func marketView(q *req, p *page, status int) error {
	d, err := q.loadService(p, "market")
	if err != nil {
		return err
	}
	var md marketData
	var l spec.Listing
	err = q.call("GET", q.svcPath()+"/listing", nil, &l)
	var ae *webpage.Refusal
	switch {
	case err == nil:
		md.Listing = &l
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
	default:
		return err
	}
	if md.Requests, err = q.serviceApprovals(d.ID); err != nil {
		return err
	}
	d.Extra = md
	p.Data = d
	q.render(status, "market_service", p)
	return nil
}

// launch asks to list the service (POST …/listing); the answer is the
// request, shown on its own page (approved at once when the user may
// approve it themselves).
func (q *req) launch() error {
	f := q.r.PostForm
	body := map[string]any{"auto_approve": f.Get("auto_approve") == "on", "comment": strings.TrimSpace(f.Get("comment"))}
	if v := strings.TrimSpace(f.Get("version")); v != "" {
		body["version"] = v
	}
	var a spec.Approval
	if err := q.call("POST", q.svcPath()+"/listing", body, &a); err != nil {
		return q.reshow(err, "launch", marketView, q.t("nav.services"), "services")
	}
	q.afterRequest(a, "listing")
	return nil
}

func (q *req) delist() error {
	var a spec.Approval
	if err := q.call("DELETE", q.svcPath()+"/listing", map[string]string{"comment": strings.TrimSpace(q.r.PostFormValue("comment"))}, &a); err != nil {
		return q.reshow(err, "delist", marketView, q.t("nav.services"), "services")
	}
	q.afterRequest(a, "delisting")
	return nil
}

// afterRequest shows the request a listing or delisting made, or the
// market tab when the answer named none.
func (q *req) afterRequest(a spec.Approval, kind string) {
	flash := kind + "_requested"
	if a.State == spec.ApprovalApproved {
		flash = kind + "_done"
	}
	if a.ID == "" {
		q.redirect(q.svcPage()+"/market", flash)
		return
	}
	q.redirect("/approvals/"+url.PathEscape(a.ID), flash)
}

func (q *req) patchListing() error {
	body := map[string]bool{"auto_approve": q.r.PostFormValue("auto_approve") == "on"}
	if err := q.call("PATCH", q.svcPath()+"/listing", body, nil); err != nil {
		return q.reshow(err, "listing-settings", marketView, q.t("nav.services"), "services")
	}
	q.redirect(q.svcPage()+"/market", "saved")
	return nil
}
