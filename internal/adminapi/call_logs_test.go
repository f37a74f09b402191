package adminapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// callLogT0 is when the seeded calls start.
var callLogT0 = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)

// seedCallLogs stores calls of project default (service orders, renamed
// later: the records keep the old name), of project other, and one no
// route matched, and answers them by request id.
func seedCallLogs(t *testing.T, a *testAPI) map[string]spec.CallRecord {
	t.Helper()
	a.newProject(t, "other")
	svc := a.createService("orders")
	at := func(s int) time.Time { return callLogT0.Add(time.Duration(s) * time.Second) }
	recs := []spec.CallRecord{
		{Time: at(0), RequestID: "d-ok", TraceID: "0af7651916cd43dd8448eb211c80319c", Group: "default", Project: "default", Service: "orders-old", ServiceID: svc.ID, Route: "list", Consumer: "app-1", Method: "GET", Path: "/orders", Status: 200, LatencyMs: 3},
		{Time: at(1), RequestID: "d-fail", Group: "default", Project: "default", Service: "orders", ServiceID: svc.ID, Route: "get", Method: "GET", Path: "/orders/1", Status: 502, Error: "upstream_unavailable", ErrorDetail: "connect", Upstream: "10.0.0.9:8080", LatencyMs: 30},
		{Time: at(2), RequestID: "d-missing", Group: "default", Project: "default", Service: "gone", ServiceID: "svc-gone", Route: "x", Method: "GET", Path: "/gone", Status: 404, LatencyMs: 1},
		{Time: at(3), RequestID: "o-ok", Group: "default", Project: "other", Service: "orders", ServiceID: "svc-other", Route: "list", Method: "GET", Path: "/other", Status: 204, LatencyMs: 2},
		{Time: at(4), RequestID: "nomatch", Group: "default", Method: "GET", Path: "/nowhere", Status: 404, Error: "route_not_found"},
	}
	ctx := context.Background()
	if err := a.store.Tx(ctx, func(tx store.Tx) error { return tx.InsertCallRecords(ctx, recs) }); err != nil {
		t.Fatal(err)
	}
	out := map[string]spec.CallRecord{}
	for _, r := range recs {
		out[r.RequestID] = r
	}
	return out
}

// callLogSearch answers the request ids of one search (with ?query) and
// its next cursor.
func (a *testAPI) callLogSearch(t *testing.T, token, path, query string) ([]string, string) {
	t.Helper()
	var page callLogPage
	a.decode(a.doToken(token, "GET", path+"?"+query, nil), &page)
	ids := []string{}
	for _, r := range page.Items {
		ids = append(ids, r.RequestID)
	}
	return ids, page.Next
}

// TestCallLogsFilters: each filter of the project's search, newest first.
func TestCallLogsFilters(t *testing.T) {
	a := newTestAPI(t)
	recs := seedCallLogs(t, a)
	svcID := recs["d-ok"].ServiceID
	for _, tc := range []struct{ query, want []string }{
		{nil, []string{"d-missing", "d-fail", "d-ok"}},
		{[]string{"status=5xx"}, []string{"d-fail"}},
		{[]string{"status=4XX"}, []string{"d-missing"}},
		{[]string{"status=200"}, []string{"d-ok"}},
		{[]string{"route=get"}, []string{"d-fail"}},
		{[]string{"consumer=app-1"}, []string{"d-ok"}},
		{[]string{"request_id=d-fail"}, []string{"d-fail"}},
		{[]string{"trace_id=0af7651916cd43dd8448eb211c80319c"}, []string{"d-ok"}},
		{[]string{"group=default", "status=2xx"}, []string{"d-ok"}},
		{[]string{"group=elsewhere"}, []string{}},
		// A service of the project by name or id: its calls under any name.
		{[]string{"service=orders"}, []string{"d-fail", "d-ok"}},
		{[]string{"service=" + svcID}, []string{"d-fail", "d-ok"}},
		// A name no service has now: the records' name.
		{[]string{"service=gone"}, []string{"d-missing"}},
		{[]string{"since=" + callLogT0.Add(time.Second).Format(time.RFC3339), "until=" + callLogT0.Add(2*time.Second).Format(time.RFC3339)}, []string{"d-fail"}},
	} {
		q := url.Values{}
		for _, kv := range tc.query {
			k, v, _ := strings.Cut(kv, "=")
			q.Set(k, v)
		}
		got, next := a.callLogSearch(t, a.token, "/projects/default/logs", q.Encode())
		if !slices.Equal(got, tc.want) || next != "" {
			t.Errorf("?%s: %v next %q, want %v", q.Encode(), got, next, tc.want)
		}
	}
	// One record: every field as stored, with its id.
	var page callLogPage
	a.decode(a.doToken(a.token, "GET", "/projects/default/logs?request_id=d-fail", nil), &page)
	var one spec.CallRecord
	a.decode(a.doToken(a.token, "GET", fmt.Sprintf("/projects/default/logs/%d", page.Items[0].ID), nil), &one)
	want := recs["d-fail"]
	want.ID = page.Items[0].ID
	if !reflect.DeepEqual(one, want) {
		t.Errorf("the record:\n got %+v\nwant %+v", one, want)
	}
}

// TestCallLogsPages: pages of page_size follow each other by cursor to
// the last, every record once.
func TestCallLogsPages(t *testing.T) {
	a := newTestAPI(t)
	seedCallLogs(t, a)
	var all []string
	query := "page_size=2"
	for range 5 {
		ids, next := a.callLogSearch(t, a.token, "/logs", query)
		all = append(all, ids...)
		if next == "" {
			break
		}
		query = "page_size=2&before=" + url.QueryEscape(next)
	}
	if want := []string{"nomatch", "o-ok", "d-missing", "d-fail", "d-ok"}; !slices.Equal(all, want) {
		t.Errorf("pages: %v, want %v", all, want)
	}
}

// TestCallLogsProjectIsolation: a member of project other never sees the
// calls of default, in a search or by id, nor calls no route matched;
// a super_admin sees them all.
func TestCallLogsProjectIsolation(t *testing.T) {
	a := newTestAPI(t)
	recs := seedCallLogs(t, a)
	ids := map[string]int64{}
	for rid := range recs {
		var page callLogPage
		a.decode(a.doToken(a.token, "GET", "/logs?request_id="+rid, nil), &page)
		if len(page.Items) != 1 {
			t.Fatalf("super_admin finds %d calls of %s", len(page.Items), rid)
		}
		ids[rid] = page.Items[0].ID
	}
	tok := a.personIn(t, "olga", "other", rbac.Viewer)

	if got, _ := a.callLogSearch(t, tok, "/projects/other/logs", ""); !slices.Equal(got, []string{"o-ok"}) {
		t.Errorf("other's search: %v", got)
	}
	if got, _ := a.callLogSearch(t, tok, "/logs", ""); !slices.Equal(got, []string{"o-ok"}) {
		t.Errorf("/logs of a member of other: %v", got)
	}
	if got, _ := a.callLogSearch(t, tok, "/logs", "project=default"); len(got) != 0 {
		t.Errorf("/logs?project=default of a member of other: %v", got)
	}
	if got, _ := a.callLogSearch(t, tok, "/logs", "request_id=d-fail"); len(got) != 0 {
		t.Errorf("/logs by default's request id: %v", got)
	}
	wantCode(t, "default's search", a.doToken(tok, "GET", "/projects/default/logs", nil), http.StatusNotFound)
	for _, rid := range []string{"d-fail", "nomatch"} {
		wantCode(t, rid+" under other", a.doToken(tok, "GET", fmt.Sprintf("/projects/other/logs/%d", ids[rid]), nil), http.StatusNotFound)
		wantCode(t, rid+" under /logs", a.doToken(tok, "GET", fmt.Sprintf("/logs/%d", ids[rid]), nil), http.StatusNotFound)
	}
	wantCode(t, "other's call", a.doToken(tok, "GET", fmt.Sprintf("/logs/%d", ids["o-ok"]), nil), http.StatusOK)
	wantCode(t, "other's call under other", a.doToken(tok, "GET", fmt.Sprintf("/projects/other/logs/%d", ids["o-ok"]), nil), http.StatusOK)

	if got, _ := a.callLogSearch(t, a.token, "/logs", "project=default"); !slices.Equal(got, []string{"d-missing", "d-fail", "d-ok"}) {
		t.Errorf("super_admin's /logs?project=default: %v", got)
	}
	wantCode(t, "a call no route matched, to a super_admin", a.doToken(a.token, "GET", fmt.Sprintf("/logs/%d", ids["nomatch"]), nil), http.StatusOK)
	wantCode(t, "a missing call", a.doToken(a.token, "GET", "/logs/999999", nil), http.StatusNotFound)
	wantCode(t, "not an id", a.doToken(a.token, "GET", "/logs/x", nil), http.StatusNotFound)
}

// TestCallLogsPermission: a developer (no log:read) is refused with 403
// naming the permission; the roles that hold it read.
func TestCallLogsPermission(t *testing.T) {
	a := newTestAPI(t)
	seedCallLogs(t, a)
	dev := a.personIn(t, "dave", "default", rbac.Developer)
	for _, path := range []string{"/projects/default/logs", "/logs", "/logs/1", "/projects/default/logs/1"} {
		r := a.doToken(dev, "GET", path, nil)
		wantCode(t, "developer "+path, r, http.StatusForbidden)
		if p := r.problem(t); p.Permission != string(rbac.LogRead) {
			t.Errorf("developer %s: refused for %q, want %s", path, p.Permission, rbac.LogRead)
		}
	}
	for i, role := range []string{rbac.Viewer, rbac.APIProvider, rbac.ProjectAdmin} {
		tok := a.personIn(t, fmt.Sprintf("reader%d", i), "default", role)
		if got, _ := a.callLogSearch(t, tok, "/projects/default/logs", "status=5xx"); !slices.Equal(got, []string{"d-fail"}) {
			t.Errorf("%s: %v", role, got)
		}
	}
}

// TestCallLogsBadFilters: each bad filter is a 400 naming it.
func TestCallLogsBadFilters(t *testing.T) {
	a := newTestAPI(t)
	long := make([]byte, maxCallLogFilter+1)
	for i := range long {
		long[i] = 'r'
	}
	for query, field := range map[string]string{
		"status=7xx":                 "status",
		"status=600":                 "status",
		"status=2x":                  "status",
		"status=ok":                  "status",
		"since=yesterday":            "since",
		"until=2026-13-01T00:00:00Z": "until",
		"since=2026-06-02T00:00:00Z&until=2026-06-01T00:00:00Z": "until",
		"page_size=0":                "page_size",
		"page_size=501":              "page_size",
		"before=12":                  "before",
		"request_id=" + string(long): "request_id",
		"nonsense=1":                 "nonsense",
	} {
		r := a.doToken(a.token, "GET", "/projects/default/logs?"+query, nil)
		wantCode(t, query, r, http.StatusBadRequest)
		if got := r.fields(t); !slices.Contains(got, field) {
			t.Errorf("?%s: fields %v, want %s", query, got, field)
		}
	}
	r := a.doToken(a.token, "GET", "/logs?project=Not_A_Slug", nil)
	wantCode(t, "a bad project", r, http.StatusBadRequest)
	if got := r.fields(t); !slices.Contains(got, "project") {
		t.Errorf("?project=Not_A_Slug: fields %v", got)
	}
}

// TestParseStatusFilter: classes and statuses, nothing else.
func TestParseStatusFilter(t *testing.T) {
	for _, tc := range []struct {
		in           string
		class, exact int
		ok           bool
	}{
		{"1xx", 1, 0, true}, {"2xx", 2, 0, true}, {"5XX", 5, 0, true}, {"404", 0, 404, true}, {"599", 0, 599, true},
		{"6xx", 0, 0, false}, {"0xx", 0, 0, false}, {"099", 0, 0, false}, {"600", 0, 0, false}, {"2x", 0, 0, false},
		{"2xxx", 0, 0, false}, {"20x", 0, 0, false}, {"", 0, 0, false}, {"+20", 0, 0, false},
	} {
		class, exact, err := parseStatusFilter(tc.in)
		if (err == nil) != tc.ok || class != tc.class || exact != tc.exact {
			t.Errorf("parseStatusFilter(%q) = %d, %d, %v", tc.in, class, exact, err)
		}
	}
}
