package console

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// dataSourceRoutes are a project's data sources: the list with the form
// that registers one, a data source's page (edit, connection test,
// delete). The password is write-only: no page renders it, and a form
// that leaves it empty keeps the stored one.
func dataSourceRoutes() []pageRoute {
	const D = "/p/{p}/data-sources"
	return []pageRoute{
		{pattern: "GET " + D, perm: rbac.DataSourceRead, scope: scopeProject, handle: func(q *req) error { return dataSourcesView(q, q.page(q.t("nav.data_sources"), "data-sources"), 200) }},
		{pattern: "POST " + D, perm: rbac.DataSourceWrite, scope: scopeProject, handle: (*req).createDataSource},
		{pattern: "GET " + D + "/{d}", perm: rbac.DataSourceRead, scope: scopeProject, handle: func(q *req) error {
			return dataSourceView(q, q.page(q.t("nav.data_sources"), "data-sources"), 200)
		}},
		{pattern: "POST " + D + "/{d}", perm: rbac.DataSourceWrite, scope: scopeProject, handle: (*req).updateDataSource},
		{pattern: "POST " + D + "/{d}/test", perm: rbac.DataSourceWrite, scope: scopeProject, handle: (*req).testDataSource},
		// The test's result page has the post's address: a reload or the
		// language switch comes back with GET to the data source's page.
		{pattern: "GET " + D + "/{d}/test", perm: rbac.DataSourceRead, scope: scopeProject, handle: func(q *req) error {
			q.redirect(q.dataSourcesPage()+"/"+url.PathEscape(q.r.PathValue("d")), "")
			return nil
		}},
		{pattern: "POST " + D + "/{d}/delete", perm: rbac.DataSourceWrite, scope: scopeProject, handle: (*req).deleteDataSource},
	}
}

// dataSourcesPageSize bounds the data sources a page lists.
const dataSourcesPageSize = 200

func (q *req) dataSourcesPath() string {
	return "/projects/" + url.PathEscape(q.r.PathValue("p")) + "/data-sources"
}

func (q *req) dataSourcePath() string {
	return q.dataSourcesPath() + "/" + url.PathEscape(q.r.PathValue("d"))
}

func dataSourcesView(q *req, p *page, status int) error {
	var l webpage.List[spec.DataSource]
	if err := q.call("GET", q.dataSourcesPath()+"?page_size="+strconv.Itoa(dataSourcesPageSize), nil, &l); err != nil {
		return err
	}
	p.Data = l.Items
	q.render(status, "data_sources", p)
	return nil
}

// dataSourceData is a data source's page; Test is the connection test's
// result when the page answers one.
type dataSourceData struct {
	DS   spec.DataSource
	Test *dataSourceTest
}

// dataSourceTest is the admin API's answer of POST …/data-sources/{d}/test.
type dataSourceTest struct {
	OK        bool    `json:"ok"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error"`
}

func dataSourceView(q *req, p *page, status int) error {
	return q.showDataSource(p, status, nil)
}

func (q *req) showDataSource(p *page, status int, test *dataSourceTest) error {
	var d dataSourceData
	if err := q.call("GET", q.dataSourcePath(), nil, &d.DS); err != nil {
		return err
	}
	// Answers never carry it; clearing it again keeps a page from ever
	// showing one, whatever the admin API answers.
	d.DS.Password, d.DS.Sealed, d.DS.Secret = "", "", ""
	d.Test = test
	p.Data = d
	q.render(status, "data_source", p)
	return nil
}

// formRefusal is a form the console refuses itself (a port that is no
// number), shown like the admin API's refusals: beside its field.
func formRefusal(field, msg string) *webpage.Refusal {
	return &webpage.Refusal{Status: http.StatusBadRequest, Title: "Bad Request", Detail: field + ": " + msg, Fields: map[string]string{field: msg}}
}

// formInt reads an optional whole number; "" is 0 (the default).
func formInt(f url.Values, field string, lo, hi int) (int, error) {
	s := strings.TrimSpace(f.Get(field))
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, formRefusal(field, "must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi))
	}
	return n, nil
}

// parseOptions reads driver options written one per line as key=value.
func parseOptions(text string) (map[string]string, error) {
	out := map[string]string{}
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, formRefusal("params", "write one option per line as name=value")
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// optionsText writes driver options as the form shows them.
func optionsText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + m[k] + "\n")
	}
	return b.String()
}

func init() {
	funcs["optionsText"] = optionsText
	// dsAddr is a data source's host and port (the type's default when
	// none is set).
	funcs["dsAddr"] = func(d spec.DataSource) string {
		return net.JoinHostPort(d.Host, strconv.Itoa(d.EffectivePort()))
	}
}

// fillDataSource sets d's fields from the form. The password is set only
// when one was typed: empty keeps the stored one.
func fillDataSource(f url.Values, d *spec.DataSource) error {
	port, err := formInt(f, "port", 0, 65535)
	if err != nil {
		return err
	}
	maxOpen, err := formInt(f, "pool_max_open", 0, 1000)
	if err != nil {
		return err
	}
	params, err := parseOptions(f.Get("params"))
	if err != nil {
		return err
	}
	d.Name, d.Description, d.Type = strings.TrimSpace(f.Get("name")), f.Get("description"), f.Get("type")
	d.Host, d.Port, d.Database, d.User = strings.TrimSpace(f.Get("host")), port, strings.TrimSpace(f.Get("database")), strings.TrimSpace(f.Get("user"))
	d.Params = params
	d.Password = f.Get("password")
	if maxOpen > 0 {
		if d.Pool == nil {
			d.Pool = &spec.DataSourcePool{}
		}
		d.Pool.MaxOpen = maxOpen
	} else if d.Pool != nil {
		d.Pool.MaxOpen = 0
	}
	return nil
}

func (q *req) dataSourcesPage() string {
	return "/p/" + url.PathEscape(q.r.PathValue("p")) + "/data-sources"
}

func (q *req) createDataSource() error {
	var d spec.DataSource
	title := q.t("nav.data_sources")
	if err := fillDataSource(q.r.PostForm, &d); err != nil {
		return q.reshow(err, "new-data-source", dataSourcesView, title, "data-sources")
	}
	var made spec.DataSource
	if err := q.call("POST", q.dataSourcesPath(), d, &made); err != nil {
		return q.reshow(err, "new-data-source", dataSourcesView, title, "data-sources")
	}
	q.redirect(q.dataSourcesPage()+"/"+url.PathEscape(made.ID), "created")
	return nil
}

// updateDataSource replaces the data source with the form's fields on
// top of what is stored (pool settings the form does not show are kept);
// PUT keeps the stored password when the form sends none.
func (q *req) updateDataSource() error {
	title := q.t("nav.data_sources")
	var d spec.DataSource
	if err := q.call("GET", q.dataSourcePath(), nil, &d); err != nil {
		return err
	}
	if err := fillDataSource(q.r.PostForm, &d); err != nil {
		return q.reshow(err, "edit", dataSourceView, title, "data-sources")
	}
	body := map[string]any{"name": d.Name, "description": d.Description, "type": d.Type, "host": d.Host, "port": d.Port,
		"database": d.Database, "user": d.User, "params": d.Params, "pool": d.Pool}
	if d.Password != "" {
		body["password"] = d.Password
	}
	var saved spec.DataSource
	if err := q.call("PUT", q.dataSourcePath(), body, &saved); err != nil {
		return q.reshow(err, "edit", dataSourceView, title, "data-sources")
	}
	q.redirect(q.dataSourcesPage()+"/"+url.PathEscape(saved.ID), "saved")
	return nil
}

// testDataSource runs the connection test and shows its result on the
// data source's page (a failed connection is a result, not an error).
func (q *req) testDataSource() error {
	var res dataSourceTest
	p := q.page(q.t("nav.data_sources"), "data-sources")
	if err := q.call("POST", q.dataSourcePath()+"/test", nil, &res); err != nil {
		return q.reshow(err, "", dataSourceView, q.t("nav.data_sources"), "data-sources")
	}
	return q.showDataSource(p, 200, &res)
}

func (q *req) deleteDataSource() error {
	if err := q.call("DELETE", q.dataSourcePath(), nil, nil); err != nil {
		return q.reshow(err, "", dataSourceView, q.t("nav.data_sources"), "data-sources")
	}
	q.redirect(q.dataSourcesPage(), "deleted")
	return nil
}

// dataSourceField is the stored value of a data source form's field; the
// form (editForm) never gives one for the password.
func dataSourceField(d spec.DataSource, name string) string {
	switch name {
	case "name":
		return d.Name
	case "description":
		return d.Description
	case "type":
		return d.Type
	case "host":
		return d.Host
	case "port":
		if d.Port == 0 {
			return ""
		}
		return strconv.Itoa(d.Port)
	case "database":
		return d.Database
	case "user":
		return d.User
	case "params":
		return optionsText(d.Params)
	case "pool_max_open":
		if d.Pool == nil || d.Pool.MaxOpen == 0 {
			return ""
		}
		return strconv.Itoa(d.Pool.MaxOpen)
	}
	return ""
}

func init() {
	// dsForm's d is the stored data source, nil for the form of a new one.
	funcs["dsForm"] = func(p *page, d any, form string) editForm[spec.DataSource] {
		f := editForm[spec.DataSource]{P: p, Form: form, field: dataSourceField, secrets: []string{"password"}}
		if ds, ok := d.(spec.DataSource); ok {
			f.Stored = ds
		}
		return f
	}
}

// dataRoutes are the pages of generated data APIs and what they build
// on: data sources, the wizard and script editor, catalog folders.
func dataRoutes() []pageRoute {
	return slices.Concat(dataSourceRoutes(), folderRoutes(), dataAPIRoutes())
}
