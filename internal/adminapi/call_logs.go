package adminapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// callLogEndpoints are the rows of the call log: the calls gateways
// answered, searched per project, or across projects by those who may.
func (s *server) callLogEndpoints() []endpoint {
	const (
		P  = "/projects/{p}"
		ok = http.StatusOK
	)
	return []endpoint{
		{method: "GET", path: P + "/logs", tag: "logs", perm: rbac.LogRead, summary: "Search the calls the gateways answered for the project, newest first: a page of records and the cursor of the next (?before=); kept for --call-log-retention (a day by default)", resp: callLogPage{}, query: callLogQuery, status: ok, handle: (*call).projectCallLogs},
		{method: "GET", path: P + "/logs/{id}", tag: "logs", perm: rbac.LogRead, summary: "One call the gateways answered for the project, every field of it (404 for a call of another project)", resp: spec.CallRecord{}, status: ok, handle: (*call).projectCallLog},
		{method: "GET", path: "/logs", tag: "logs", perm: rbac.LogRead, anyProject: true, summary: "Search the calls of every project where the caller holds log:read, newest first; a super_admin sees every call, those no route matched too (?project= of another project selects nothing)", resp: callLogPage{}, query: append(slices.Clone(callLogQuery), "project"), status: ok, handle: (*call).callLogs},
		{method: "GET", path: "/logs/{id}", tag: "logs", perm: rbac.LogRead, anyProject: true, summary: "One call the gateways answered, of a project where the caller holds log:read (a super_admin: any call)", resp: spec.CallRecord{}, status: ok, handle: (*call).callLog},
	}
}

// callLogPage is one page of a call log search.
type callLogPage struct {
	Items []spec.CallRecord `json:"items"`
	// Next is the cursor of the next page (pass it as ?before=); "" when
	// this page is the last.
	Next string `json:"next"`
}

// callLogQuery are the filters of a call log search.
var callLogQuery = []string{"group", "service", "route", "status", "consumer", "request_id", "trace_id", "since", "until", "page_size", "before"}

// callLogQueryParams describe the parameters only the call log reads;
// the others (group, service, since, until, page_size, project) are the
// table's.
var callLogQueryParams = map[string]queryParam{
	"route":      {schema: obj{"type": "string"}, desc: "only calls of this route (its name, as the call record holds it)"},
	"status":     {schema: obj{"type": "string", "pattern": "^([1-5][xX][xX]|[1-5][0-9][0-9])$", "examples": []any{"5xx", "404"}}, desc: "only calls answered with this status, or with one of this class (2xx, 3xx, 4xx, 5xx)"},
	"consumer":   {schema: obj{"type": "string"}, desc: "only calls of this consumer (the application an authentication plugin recognised, by name)"},
	"request_id": {schema: obj{"type": "string", "maxLength": maxCallLogFilter}, desc: "only the call with this request id (the X-Request-Id the gateway answered)"},
	"trace_id":   {schema: obj{"type": "string", "maxLength": maxCallLogFilter}, desc: "only calls of this W3C trace id (32 hex digits)"},
	"before":     {schema: obj{"type": "string"}, desc: "continue a search: the next of the previous page"},
}

func init() {
	// Added here rather than in table.go, so that the rows and what they
	// read stay together.
	for name, qp := range callLogQueryParams {
		if _, ok := queryParams[name]; !ok {
			queryParams[name] = qp
		}
	}
	if _, ok := pathParams["logs"]; !ok {
		pathParams["logs"] = "call record id"
	}
}

// maxCallLogFilter bounds a text filter: longer values name nothing the
// log holds.
const maxCallLogFilter = 1024

// callLogFilter reads the search's filters, each bad one a 400 naming it.
// The caller narrows the projects.
func (c *call) callLogFilter() (store.CallLogFilter, error) {
	q := c.r.URL.Query()
	f := store.CallLogFilter{Group: q.Get("group"), Route: q.Get("route"), Consumer: q.Get("consumer"),
		RequestID: q.Get("request_id"), TraceID: q.Get("trace_id"), Limit: 20}
	var fe spec.FieldErrors
	for _, v := range []struct{ name, v string }{{"group", f.Group}, {"service", q.Get("service")}, {"route", f.Route},
		{"consumer", f.Consumer}, {"request_id", f.RequestID}, {"trace_id", f.TraceID}} {
		if len(v.v) > maxCallLogFilter {
			fe.Add(v.name, "must be at most %d bytes", maxCallLogFilter)
		}
	}
	if v := q.Get("status"); v != "" {
		class, exact, err := parseStatusFilter(v)
		if err != nil {
			fe.Add("status", "%v", err)
		}
		f.StatusClass, f.Status = class, exact
	}
	var err error
	if f.Since, err = auditTime(q.Get("since")); err != nil {
		fe.Add("since", "%v", err)
	}
	if f.Until, err = auditTime(q.Get("until")); err != nil {
		fe.Add("until", "%v", err)
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		fe.Add("until", "must be after since")
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxCallLogLimit {
			fe.Add("page_size", "must be an integer between 1 and %d", store.MaxCallLogLimit)
		}
		f.Limit = n
	}
	if f.Before, err = store.ParseCallLogCursor(q.Get("before")); err != nil {
		fe.Add("before", "must be the next of a previous page")
	}
	return f, fe.Err()
}

// parseStatusFilter reads "5xx" (a class) or "502" (one status).
func parseStatusFilter(v string) (class, exact int, err error) {
	bad := errors.New("must be a status class (2xx, 3xx, 4xx, 5xx, or 1xx) or a status from 100 to 599")
	if len(v) != 3 || v[0] < '1' || v[0] > '5' {
		return 0, 0, bad
	}
	if strings.EqualFold(v[1:], "xx") {
		return int(v[0] - '0'), 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, bad
	}
	return 0, n, nil
}

// serviceFilter narrows f to the service named by ?service=: a service of
// project (by id or name) by its id, so that calls before a rename are
// found too; anything else by the name the records hold (a deleted
// service's).
func (c *call) serviceFilter(tx store.Tx, project string, f *store.CallLogFilter) error {
	v := c.r.URL.Query().Get("service")
	if v == "" {
		return nil
	}
	if project != "" {
		svc, err := tx.GetService(c.ctx(), project, v)
		switch {
		case err == nil:
			f.ServiceID = svc.ID
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("call log: service %s: %w", v, err)
		}
	}
	f.Service = v
	return nil
}

// searchCallLogs answers one page of f.
func (c *call) searchCallLogs(f store.CallLogFilter, project string) (any, error) {
	var res callLogPage
	err := c.view(func(tx store.Tx) error {
		if err := c.serviceFilter(tx, project, &f); err != nil {
			return err
		}
		items, next, err := tx.SearchCallRecords(c.ctx(), f)
		if err != nil {
			return fmt.Errorf("search the call log: %w", err)
		}
		res = callLogPage{Items: items, Next: next.String()}
		return nil
	})
	return res, err
}

func (c *call) projectCallLogs() (any, error) {
	f, err := c.callLogFilter()
	if err != nil {
		return nil, err
	}
	p := c.path("p")
	f.Project, f.AllProjects = p, true
	return c.searchCallLogs(f, p)
}

func (c *call) callLogs() (any, error) {
	f, err := c.callLogFilter()
	p := c.r.URL.Query().Get("project")
	if p != "" && !spec.ValidSlug(p) {
		err = fieldErrors(err, fieldError("project", "must be a project id"))
	}
	if err != nil {
		return nil, err
	}
	f.Project = p
	f.Projects, f.AllProjects = c.who.Projects(rbac.LogRead)
	return c.searchCallLogs(f, p)
}

// callRecord reads one record; visible says whether the caller may see
// its project's calls. One they may not see is as missing as one that
// does not exist.
func (c *call) callRecord(visible func(project string) bool) (any, error) {
	id, err := strconv.ParseInt(c.path("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, withDetail(store.ErrNotFound, "call record %q not found", c.path("id"))
	}
	var rec spec.CallRecord
	err = c.view(func(tx store.Tx) error {
		rec, err = tx.CallRecord(c.ctx(), id)
		return err
	})
	if err == nil && !visible(rec.Project) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, withDetail(store.ErrNotFound, "call record %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("call record %d: %w", id, err)
	}
	return rec, nil
}

func (c *call) projectCallLog() (any, error) {
	p := c.path("p")
	return c.callRecord(func(project string) bool { return project == p })
}

func (c *call) callLog() (any, error) {
	projects, all := c.who.Projects(rbac.LogRead)
	return c.callRecord(func(project string) bool {
		return all || (project != "" && slices.Contains(projects, project))
	})
}
