package console

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// dataAPIRoutes are the generated data APIs of a project's services: the
// list by service, the wizard (data source, table, columns, filters,
// order, page size) and the script editor (statement and parameters) that
// save a sql route, and a route's page with the columns the database said
// it returns and a test run through the test group.
func dataAPIRoutes() []pageRoute {
	const S = "/p/{p}/services/{s}/data-api"
	return []pageRoute{
		{pattern: "GET /p/{p}/data-apis", perm: rbac.ServiceRead, scope: scopeProject, handle: (*req).dataAPIList},
		{pattern: "GET " + S, perm: rbac.ServiceWrite, scope: scopeProject, handle: func(q *req) error {
			return dataAPIFormView(q, q.page(q.t("nav.data_apis"), "data-apis"), 200)
		}},
		{pattern: "POST " + S, perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).saveDataAPI},
		{pattern: "GET " + S + "/{r}", perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error {
			return q.dataAPIRouteView(q.page(q.t("nav.data_apis"), "data-apis"), 200, nil)
		}},
		{pattern: "POST " + S + "/{r}", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).saveDataAPI},
		{pattern: "POST " + S + "/{r}/preview", perm: rbac.ServiceDebug, scope: scopeProject, handle: (*req).previewDataAPI},
		// A page answered to a post has the post's address: the language
		// switch and a reload come back to it with GET, which shows the
		// route again.
		{pattern: "GET " + S + "/{r}/preview", perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error {
			q.redirect(q.svcPage()+"/data-api/"+url.PathEscape(q.r.PathValue("r")), "")
			return nil
		}},
	}
}

func init() {
	// The choices of the wizard's and the script editor's selects, "" the
	// admin API's default.
	funcs["dataOps"] = func() []string { return append([]string{""}, spec.SQLFilterOps...) }
	funcs["dataTypes"] = func() []string { return append([]string{""}, spec.SQLParamTypes...) }
	funcs["paramSources"] = func() []string { return append([]string{""}, spec.SQLParamSources...) }
}

// dataAPIListData is the Data APIs page: a service picked from the
// project's first ones, and its sql routes.
type dataAPIListData struct {
	Services []spec.Service
	Svc      *spec.Service
	Routes   []spec.Route
}

// dataAPIServices bounds the services the picker offers.
const dataAPIServices = 200

func (q *req) projPath() string { return "/projects/" + url.PathEscape(q.r.PathValue("p")) }

func (q *req) dataAPIList() error {
	p := q.page(q.t("nav.data_apis"), "data-apis")
	var d dataAPIListData
	var l webpage.List[spec.Service]
	if err := q.call("GET", q.projPath()+"/services?page_size="+strconv.Itoa(dataAPIServices), nil, &l); err != nil {
		return err
	}
	d.Services = l.Items
	if id := q.r.URL.Query().Get("service"); id != "" {
		var s spec.Service
		if err := q.call("GET", q.projPath()+"/services/"+url.PathEscape(id), nil, &s); err != nil {
			return err
		}
		d.Svc = &s
		for _, r := range s.Routes {
			if r.Backend != nil && r.Backend.Type == "sql" {
				d.Routes = append(d.Routes, r)
			}
		}
	}
	p.Data = d
	q.render(200, "data_apis", p)
	return nil
}

// tableInfo is a table of the admin API's GET …/data-sources/{d}/tables.
type tableInfo struct {
	Name    string           `json:"name"`
	Columns []spec.SQLColumn `json:"columns"`
}

// dataAPIFormData is the wizard and script editor: the service, the route
// being changed (nil: a new one), the values shown, and what the chosen
// data source holds.
type dataAPIFormData struct {
	Svc         spec.Service
	Route       *spec.Route
	Mode        string // wizard | script
	Vals        url.Values
	DataSources []string
	Tables      []tableInfo
	TablesError string
	Columns     []spec.SQLColumn // of the chosen table, when listed
	Filters     []filterRow
	Params      []paramRow
}

type filterRow struct{ Param, Column, Op, In string }

type paramRow struct{ Name, In, Type, Required string }

// blankRows are the empty filter or parameter rows a form offers.
const blankRows = 3

// maxRows bounds the rows a posted form may hold.
const maxRows = 50

// routeValues are a saved sql route as the form's fields.
func routeValues(r *spec.Route) url.Values {
	v := url.Values{"name": {r.Name}}
	if len(r.Paths) > 0 {
		v.Set("path", r.Paths[0])
	}
	if len(r.Methods) > 0 {
		v.Set("method", r.Methods[0])
	}
	if r.Backend == nil || r.Backend.SQLBackend == nil {
		return v
	}
	b := r.Backend.SQLBackend
	v.Set("data_source", b.DataSource)
	v.Set("table", b.Table)
	v["columns"] = b.Columns
	v.Set("order", b.Order)
	if b.PageSize > 0 {
		v.Set("page_size", strconv.Itoa(b.PageSize))
	}
	if b.MaxPageSize > 0 {
		v.Set("max_page_size", strconv.Itoa(b.MaxPageSize))
	}
	for _, f := range b.Filters {
		v.Add("filter_param", f.Param)
		v.Add("filter_column", f.Column)
		v.Add("filter_op", f.Op)
		v.Add("filter_in", f.In)
	}
	v.Set("sql", b.SQL)
	for _, p := range b.Params {
		v.Add("param_name", p.Name)
		v.Add("param_in", p.In)
		v.Add("param_type", p.Type)
		req := ""
		if p.Required != nil {
			req = strconv.FormatBool(*p.Required)
		}
		v.Add("param_required", req)
	}
	if b.AllowWrite {
		v.Set("allow_write", "on")
	}
	return v
}

// at is the i-th value of a repeated field, "" past its end.
func at(v url.Values, name string, i int) string {
	if vs := v[name]; i < len(vs) {
		return vs[i]
	}
	return ""
}

func filterRows(v url.Values) []filterRow {
	n := min(len(v["filter_param"]), maxRows)
	var out []filterRow
	for i := range n + blankRows {
		out = append(out, filterRow{at(v, "filter_param", i), at(v, "filter_column", i), at(v, "filter_op", i), at(v, "filter_in", i)})
	}
	return out
}

func paramRows(v url.Values) []paramRow {
	n := min(len(v["param_name"]), maxRows)
	var out []paramRow
	for i := range n + blankRows {
		out = append(out, paramRow{at(v, "param_name", i), at(v, "param_in", i), at(v, "param_type", i), at(v, "param_required", i)})
	}
	return out
}

// dataAPIFormView shows the wizard or the script editor. The values come
// from the refused form, else from the route being changed (?route=),
// else from the query (the data source and table picked so far).
func dataAPIFormView(q *req, p *page, status int) error {
	d := dataAPIFormData{Mode: "wizard"}
	if err := q.call("GET", q.svcPath(), nil, &d.Svc); err != nil {
		return err
	}
	qv := q.r.URL.Query()
	rid := q.r.PathValue("r")
	if rid == "" {
		rid = qv.Get("route")
	}
	if rid != "" {
		var rt spec.Route
		if err := q.call("GET", q.svcPath()+"/routes/"+url.PathEscape(rid), nil, &rt); err != nil {
			return err
		}
		d.Route = &rt
	}
	switch {
	case p.Form != nil:
		d.Vals = p.Form
	case d.Route != nil:
		d.Vals = routeValues(d.Route)
	default:
		d.Vals = url.Values{}
	}
	// The query's picks (a data source, a table, the mode) win: they are
	// the steps the user just took.
	for _, k := range []string{"data_source", "table", "mode"} {
		if v := qv.Get(k); v != "" {
			d.Vals.Set(k, v)
		}
	}
	if d.Vals.Get("mode") == "script" || (d.Vals.Get("mode") == "" && d.Vals.Get("sql") != "") {
		d.Mode = "script"
	}
	var dss webpage.List[spec.DataSource]
	if q.call("GET", q.projPath()+"/data-sources?page_size=500", nil, &dss) == nil {
		for _, ds := range dss.Items {
			d.DataSources = append(d.DataSources, ds.Name)
		}
	}
	// Listing tables dials the database, which takes datasource:write
	// (as the connection test): without it the table is typed.
	if ds := d.Vals.Get("data_source"); ds != "" && slices.Contains(d.DataSources, ds) && p.Can("POST /p/{p}/data-sources/{d}/test") {
		d.listTables(q, ds)
	}
	d.Filters, d.Params = filterRows(d.Vals), paramRows(d.Vals)
	p.Data = d
	q.render(status, "data_api", p)
	return nil
}

// listTables asks the admin API what the data source holds; a refusal
// (no datasource:write, the rate limit) or a database that does not
// answer leaves the table and columns to be typed.
func (d *dataAPIFormData) listTables(q *req, ds string) {
	var res struct {
		Tables []tableInfo `json:"tables"`
		Error  string      `json:"error"`
	}
	if err := q.call("GET", q.projPath()+"/data-sources/"+url.PathEscape(ds)+"/tables", nil, &res); err != nil {
		var ae *webpage.Refusal
		if errors.As(err, &ae) {
			d.TablesError = ae.Detail
		}
		return
	}
	d.Tables, d.TablesError = res.Tables, res.Error
	for _, t := range res.Tables {
		if t.Name == d.Vals.Get("table") {
			d.Columns = t.Columns
		}
	}
}

// sqlRoute builds the route a posted form describes. Nothing of it is
// spliced into SQL here: the table, columns and statement go to the admin
// API as values, which checks them and has the database prepare them.
func sqlRoute(f url.Values) (spec.Route, error) {
	r := spec.Route{Name: strings.TrimSpace(f.Get("name"))}
	if p := strings.TrimSpace(f.Get("path")); p != "" {
		r.Paths = []string{p}
	}
	if m := strings.TrimSpace(f.Get("method")); m != "" {
		r.Methods = []string{m}
	}
	b := spec.SQLBackend{DataSource: f.Get("data_source")}
	if f.Get("mode") == "script" {
		b.SQL = f.Get("sql")
		for i := range min(len(f["param_name"]), maxRows) {
			name := strings.TrimSpace(at(f, "param_name", i))
			if name == "" {
				continue
			}
			p := spec.SQLParam{Name: name, In: at(f, "param_in", i), Type: at(f, "param_type", i)}
			switch at(f, "param_required", i) {
			case "true":
				p.Required = new(true)
			case "false":
				p.Required = new(false)
			}
			b.Params = append(b.Params, p)
		}
		b.AllowWrite = f.Get("allow_write") == "on"
	} else {
		b.Table = strings.TrimSpace(f.Get("table"))
		for _, c := range f["columns"] {
			if c = strings.TrimSpace(c); c != "" && !slices.Contains(b.Columns, c) {
				b.Columns = append(b.Columns, c)
			}
		}
		for c := range strings.SplitSeq(f.Get("columns_text"), ",") {
			if c = strings.TrimSpace(c); c != "" && !slices.Contains(b.Columns, c) {
				b.Columns = append(b.Columns, c)
			}
		}
		for i := range min(len(f["filter_param"]), maxRows) {
			param := strings.TrimSpace(at(f, "filter_param", i))
			if param == "" {
				continue
			}
			b.Filters = append(b.Filters, spec.SQLFilter{Param: param, Column: strings.TrimSpace(at(f, "filter_column", i)),
				Op: at(f, "filter_op", i), In: at(f, "filter_in", i)})
		}
		b.Order = strings.TrimSpace(f.Get("order"))
		var err error
		if b.PageSize, err = formInt(f, "page_size", 1, 10000); err != nil {
			return r, err
		}
		if b.MaxPageSize, err = formInt(f, "max_page_size", 1, 100000); err != nil {
			return r, err
		}
	}
	r.Backend = &spec.Backend{Type: "sql", SQLBackend: &b}
	return r, nil
}

// saveDataAPI creates the route, or replaces the sql route of the path
// (keeping what the form does not show: plugins, the backend's timeout).
// The admin API prepares the statement against the database as it saves
// it, so saving is the "prepare" check: a statement the database refuses
// comes back beside its field, and a saved one shows its result columns.
func (q *req) saveDataAPI() error {
	title := q.t("nav.data_apis")
	r, err := sqlRoute(q.r.PostForm)
	if err != nil {
		return q.reshow(err, "data-api", dataAPIFormView, title, "data-apis")
	}
	var saved spec.Route
	if rid := q.r.PathValue("r"); rid != "" {
		var old spec.Route
		if err := q.call("GET", q.svcPath()+"/routes/"+url.PathEscape(rid), nil, &old); err != nil {
			return err
		}
		nb := spec.Backend{}
		if old.Backend != nil {
			nb = *old.Backend
		}
		nb.Type, nb.SQLBackend, nb.Composite = "sql", r.Backend.SQLBackend, nil
		old.Name, old.Paths, old.Methods, old.Backend = r.Name, r.Paths, r.Methods, &nb
		err = q.call("PUT", q.svcPath()+"/routes/"+url.PathEscape(rid), old, &saved)
	} else {
		err = q.call("POST", q.svcPath()+"/routes", r, &saved)
	}
	if err != nil {
		return q.reshow(err, "data-api", dataAPIFormView, title, "data-apis")
	}
	q.redirect(q.svcPage()+"/data-api/"+url.PathEscape(saved.ID), "saved")
	return nil
}

// dataAPIRouteData is a sql route's page: the route as saved (with the
// result columns the database described) and a test run's answer.
type dataAPIRouteData struct {
	Svc    spec.Service
	Route  spec.Route
	Path   string // the path a test run sends, under the service's URL
	Method string
	Result *debugAnswer
	Mode   string
}

// debugAnswer is the admin API's answer of POST …/services/{s}/debug.
type debugAnswer struct {
	URL       string            `json:"url"`
	Status    int               `json:"status"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	Truncated bool              `json:"truncated"`
	LatencyMs float64           `json:"latency_ms"`
}

func (q *req) dataAPIRouteView(p *page, status int, res *debugAnswer) error {
	d := dataAPIRouteData{Result: res, Mode: "wizard"}
	if err := q.call("GET", q.svcPath(), nil, &d.Svc); err != nil {
		return err
	}
	if err := q.call("GET", q.svcPath()+"/routes/"+url.PathEscape(q.r.PathValue("r")), nil, &d.Route); err != nil {
		return err
	}
	if d.Route.Backend == nil || d.Route.Backend.SQLBackend == nil {
		return &webpage.Refusal{Status: 404, Title: "Not Found", Detail: "route " + d.Route.Name + " is not a generated data API"}
	}
	if d.Route.Backend.SQL != "" {
		d.Mode = "script"
	}
	d.Path, d.Method = "/"+d.Route.Name, "GET"
	if len(d.Route.Paths) > 0 {
		d.Path = d.Route.Paths[0]
	}
	if len(d.Route.Methods) > 0 {
		d.Method = d.Route.Methods[0]
	}
	if p.Form != nil {
		d.Path, d.Method = p.V("path"), p.V("method")
	} else if d.Mode == "wizard" {
		d.Path += "?page=1&total=true"
	}
	p.Data = d
	q.render(status, "data_api_route", p)
	return nil
}

// previewDataAPI sends one request through the project's test group (the
// admin API's debug call; the service must run there) and shows the
// answer: the rows of a wizard route, a script's result.
func (q *req) previewDataAPI() error {
	f := q.r.PostForm
	body := map[string]any{"method": f.Get("method"), "path": f.Get("path")}
	if b := f.Get("body"); b != "" {
		body["body"] = b
		body["headers"] = map[string]string{"Content-Type": "application/json"}
	}
	var res debugAnswer
	view := func(q *req, p *page, status int) error { return q.dataAPIRouteView(p, status, nil) }
	if err := q.call("POST", q.svcPath()+"/debug", body, &res); err != nil {
		return q.reshow(err, "preview", view, q.t("nav.data_apis"), "data-apis")
	}
	p := q.page(q.t("nav.data_apis"), "data-apis")
	p.Form = f
	return q.dataAPIRouteView(p, 200, &res)
}
