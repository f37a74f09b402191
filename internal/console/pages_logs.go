package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// logRoutes are a project's call log: the search of the calls its
// gateways answered, and one call with every field.
func logRoutes() []pageRoute {
	const L = "/p/{p}/logs"
	return []pageRoute{
		{pattern: "GET " + L, perm: rbac.LogRead, scope: scopeProject, handle: func(q *req) error { return logsView(q, q.page(q.t("nav.logs"), "logs"), 200) }},
		{pattern: "GET " + L + "/{id}", perm: rbac.LogRead, scope: scopeProject, handle: func(q *req) error { return logView(q, q.page(q.t("nav.logs"), "logs"), 200) }},
	}
}

// logPageSize is how many calls a page of the search shows.
const logPageSize = 50

// logRanges are the search's time ranges: the last so long, or custom
// (since and until typed in). The default is the first hour.
var logRanges = []string{"15m", "1h", "24h", "custom"}

const logDefaultRange = "1h"

// logFilters are the form's fields passed on to the admin API as they
// are typed.
var logFilters = []string{"service", "route", "status", "consumer", "request_id"}

// logsData is the search page: the form as typed, the calls found and
// the link to the next (older) page.
type logsData struct {
	Filter url.Values
	Range  string
	Ranges []string
	Items  []spec.CallRecord
	Older  string // the query of the next page; "" when none
}

// logsQuery turns the form into the admin API's query: the filters, and
// the time range as since (and until for a custom one). A search by
// request id ignores the preset ranges, so that a call is found for as
// long as it is kept.
func logsQuery(in url.Values, now time.Time) (api, form url.Values, rng string) {
	api, form = url.Values{}, url.Values{}
	for _, k := range logFilters {
		if v := strings.TrimSpace(in.Get(k)); v != "" {
			api.Set(k, v)
			form.Set(k, v)
		}
	}
	rng = in.Get("range")
	if rng == "" {
		rng = logDefaultRange
	}
	if rng == "custom" {
		for _, k := range []string{"since", "until"} {
			if v := strings.TrimSpace(in.Get(k)); v != "" {
				form.Set(k, v)
				api.Set(k, auditTime(v))
			}
		}
		return api, form, rng
	}
	d, err := time.ParseDuration(rng)
	if err != nil || !slices.Contains(logRanges, rng) {
		rng, d = logDefaultRange, time.Hour
	}
	if api.Get("request_id") == "" {
		api.Set("since", now.Add(-d).UTC().Format(time.RFC3339))
	}
	return api, form, rng
}

// callLogPage is the admin API's answer to a search.
type callLogPage struct {
	Items []spec.CallRecord `json:"items"`
	Next  string            `json:"next"`
}

func logsView(q *req, p *page, status int) error {
	in := q.r.URL.Query()
	api, form, rng := logsQuery(in, time.Now())
	d := logsData{Filter: form, Range: rng, Ranges: logRanges}
	search := url.Values{"page_size": {strconv.Itoa(logPageSize)}}
	for k, v := range api {
		search[k] = v
	}
	if b := in.Get("before"); b != "" {
		search.Set("before", b)
	}
	var res callLogPage
	err := q.call("GET", "/projects/"+url.PathEscape(p.Project)+"/logs?"+search.Encode(), nil, &res)
	var ae *webpage.Refusal
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusBadRequest:
		// A bad filter: the form again, the message beside its field.
		p.Error, p.Errors = ae.Detail, ae.Fields
		status = http.StatusBadRequest
	case err != nil:
		return err
	}
	d.Items = res.Items
	if res.Next != "" {
		older := url.Values{"range": {rng}, "before": {res.Next}}
		for k, v := range form {
			older[k] = v
		}
		d.Older = older.Encode()
	}
	p.Data = d
	q.render(status, "logs", p)
	return nil
}

func logView(q *req, p *page, status int) error {
	var rec spec.CallRecord
	path := "/projects/" + url.PathEscape(p.Project) + "/logs/" + url.PathEscape(q.r.PathValue("id"))
	if err := q.call("GET", path, nil, &rec); err != nil {
		return err
	}
	p.Title = q.t("log.call") + " " + rec.RequestID
	p.Data = rec
	q.render(status, "log", p)
	return nil
}
