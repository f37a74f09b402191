package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// usageAnswer is GET /subscriptions/{id}/usage.
type usageAnswer struct {
	Plan    string        `json:"plan"`
	Periods []usagePeriod `json:"periods"`
	// Counted is false when no gateway the control plane can read counts
	// for the group yet: the figures are then not to be trusted.
	Counted bool `json:"counted"`
}

type usagePeriod struct {
	Period    string    `json:"period"`
	Limit     int64     `json:"limit"` // 0: none
	Used      int64     `json:"used"`
	Remaining int64     `json:"remaining"`
	ResetsAt  time.Time `json:"resets_at"`
}

// maxUsageReads bounds the usage calls of one subscriptions page.
const maxUsageReads = 50

func (q *req) subscriptionsPage() error {
	in := q.r.URL.Query()
	v := url.Values{"page_size": {"200"}}
	state := in.Get("state")
	if state != "" && isState(state) {
		v.Set("state", state)
	}
	var list webpage.List[spec.Subscription]
	if err := q.call("GET", "/subscriptions?"+v.Encode(), nil, &list); err != nil {
		return err
	}
	var apps webpage.List[spec.Application]
	if err := q.call("GET", "/applications?page_size=500", nil, &apps); err != nil {
		return err
	}
	appNames := map[string]string{}
	for _, a := range apps.Items {
		appNames[a.ID] = a.Name
	}
	svcNames, planNames := map[string]string{}, map[string]string{}
	var cat webpage.List[catalogEntry]
	if err := q.call("GET", "/catalog?page_size=500", nil, &cat); err == nil {
		for _, e := range cat.Items {
			svcNames[e.ID] = e.Name
			for _, p := range e.Plans {
				planNames[p.ID] = p.Name
			}
		}
	}
	rows := make([]subRow, 0, len(list.Items))
	reads := 0
	for _, s := range list.Items {
		row := subRow{Subscription: s, AppName: or(appNames[s.ApplicationID], s.ApplicationID),
			ServiceName: or(svcNames[s.ServiceID], s.ServiceID), PlanName: or(planNames[s.Plan], s.Plan)}
		if s.State == spec.SubscriptionApproved && reads < maxUsageReads {
			reads++
			var u usageAnswer
			// Usage is a figure beside the subscription: without it the
			// row still shows (an older server, a counter not reached).
			if err := q.call("GET", "/subscriptions/"+url.PathEscape(s.ID)+"/usage", nil, &u); err == nil {
				row.Usage = &u
				if u.Plan != "" {
					row.PlanName = u.Plan
				}
			} else if ae, ok := err.(*webpage.Refusal); ok && ae.Status == http.StatusUnauthorized {
				return err
			}
		}
		rows = append(rows, row)
	}
	pg := q.page(q.t("nav.subs"), "subs")
	pg.Data = map[string]any{"Rows": rows, "State": state, "Total": list.Total}
	q.render(http.StatusOK, "subscriptions", pg)
	return nil
}

func isState(s string) bool {
	switch s {
	case spec.ApprovalPending, spec.ApprovalApproved, spec.ApprovalRejected, spec.ApprovalCancelled:
		return true
	}
	return false
}

const requestsPageSize = 20

type requestsData struct {
	Items              []spec.Approval
	State, Kind        string
	Total, Page, Pages int
	Prev, Next         string
}

func (q *req) requestsPage() error {
	in := q.r.URL.Query()
	d := requestsData{Page: 1}
	if n, err := strconv.Atoi(in.Get("page")); err == nil && n > 1 && n < 10000 {
		d.Page = n
	}
	v := url.Values{"box": {"mine"}, "page": {strconv.Itoa(d.Page)}, "page_size": {strconv.Itoa(requestsPageSize)}}
	if s := in.Get("state"); isState(s) {
		d.State = s
		v.Set("state", s)
	}
	if k := in.Get("kind"); k == spec.ApprovalSubscription || k == spec.ApprovalListing || k == spec.ApprovalDelisting {
		d.Kind = k
		v.Set("kind", k)
	}
	var list webpage.List[spec.Approval]
	if err := q.call("GET", "/approvals?"+v.Encode(), nil, &list); err != nil {
		return err
	}
	d.Items, d.Total = list.Items, list.Total
	d.Pages = max(1, (d.Total+requestsPageSize-1)/requestsPageSize)
	link := func(n int) string {
		w := url.Values{"page": {strconv.Itoa(n)}}
		if d.State != "" {
			w.Set("state", d.State)
		}
		if d.Kind != "" {
			w.Set("kind", d.Kind)
		}
		return "/portal/requests?" + w.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(d.Page - 1)
	}
	if d.Page < d.Pages {
		d.Next = link(d.Page + 1)
	}
	pg := q.page(q.t("nav.requests"), "requests")
	pg.Data = d
	q.render(http.StatusOK, "requests", pg)
	return nil
}

func (q *req) requestPage() error { return q.requestView(q.page(q.t("nav.requests"), "requests")) }

func (q *req) requestView(pg *page) error {
	var a spec.Approval
	if err := q.call("GET", "/approvals/"+url.PathEscape(q.r.PathValue("id")), nil, &a); err != nil {
		return err
	}
	pg.Data = a
	q.render(pg.code(), "request", pg)
	return nil
}

// cancelRequest withdraws one of the caller's pending requests.
func (q *req) cancelRequest() error {
	id := q.r.PathValue("id")
	body := map[string]string{}
	if c := strings.TrimSpace(q.r.PostFormValue("comment")); c != "" {
		body["comment"] = c
	}
	if err := q.call("POST", "/approvals/"+url.PathEscape(id)+"/cancel", body, nil); err != nil {
		return q.reshow(err, "cancel", q.requestView, q.t("nav.requests"), "requests")
	}
	q.redirect("/portal/requests/"+url.PathEscape(id), "cancelled")
	return nil
}
