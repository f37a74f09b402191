package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/adminapi"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// auditRoutes are the audit log. A project admin reads their projects'
// events (audit:read there), a super_admin every event: the admin API
// narrows the answer, the console only asks whether any is readable.
func auditRoutes() []pageRoute {
	return []pageRoute{
		{pattern: "GET /audit", perm: rbac.AuditRead, scope: scopeAny, handle: func(q *req) error { return auditView(q, q.page(q.t("nav.audit"), "audit"), 200) }},
	}
}

const auditPageSize = 50

// auditFilters are the filters the page passes on to the admin API.
var auditFilters = []string{"actor", "project", "resource", "action", "since", "until"}

type auditData struct {
	Items      []spec.AuditEvent
	Total      int
	Page, Last int
	Filter     url.Values // as typed, to show in the form
	Query      string     // the filters as the admin API takes them, for the pager and the export
	Export     string
}

// auditTime turns what a date or datetime-local field sends (local time
// of the server) into the RFC 3339 time the admin API takes; anything
// else is passed on for the admin API to refuse beside the field.
func auditTime(v string) string {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return v
}

func auditView(q *req, p *page, status int) error {
	in := q.r.URL.Query()
	d := auditData{Filter: url.Values{}}
	api := url.Values{}
	for _, k := range auditFilters {
		v := strings.TrimSpace(in.Get(k))
		if v == "" {
			continue
		}
		d.Filter.Set(k, v)
		if k == "since" || k == "until" {
			v = auditTime(v)
		}
		api.Set(k, v)
	}
	d.Query = api.Encode()
	// The export is the admin API's own: the browser's session cookie is
	// enough for a GET there, and it streams however long the log is.
	d.Export = adminapi.Prefix + "/audit-events/export"
	if d.Query != "" {
		d.Export += "?" + d.Query
	}
	pg, _ := strconv.Atoi(in.Get("page"))
	d.Page = min(max(pg, 1), 100000)
	list := url.Values{"page": {strconv.Itoa(d.Page)}, "page_size": {strconv.Itoa(auditPageSize)}}
	for k, v := range api {
		list[k] = v
	}
	var al webpage.List[spec.AuditEvent]
	err := q.call("GET", "/audit-events?"+list.Encode(), nil, &al)
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
	d.Last = max((al.Total+auditPageSize-1)/auditPageSize, 1)
	p.Data = d
	q.render(status, "audit", p)
	return nil
}
