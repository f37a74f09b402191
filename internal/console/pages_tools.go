package console

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// toolRoutes are a service's canary, debug, description and figures
// tabs, the OpenAPI import and the applications.
func toolRoutes() []pageRoute {
	const S = "/p/{p}/services/{s}"
	svc := func(tab string, fill func(q *req, d *serviceData) error) view {
		return func(q *req, p *page, status int) error {
			d, err := q.loadService(p, tab)
			if err != nil {
				return err
			}
			if err := fill(q, d); err != nil {
				return err
			}
			p.Data = d
			q.render(status, tab, p)
			return nil
		}
	}
	canary := svc("canary", fillCanary)
	debug := svc("debug", func(*req, *serviceData) error { return nil })
	return []pageRoute{
		{pattern: "GET " + S + "/canary", perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error { return canary(q, q.page("", "services"), 200) }},
		{pattern: "POST " + S + "/canary", perm: rbac.CanaryWrite, scope: scopeProject, handle: func(q *req) error { return q.canaryPost(canary) }},
		{pattern: "POST " + S + "/canary/{c}/{op}", perm: rbac.CanaryWrite, scope: scopeProject, handle: func(q *req) error { return q.canaryPost(canary) }},
		// The debug tab is a form that sends a request: without
		// service:debug there is nothing to do on it.
		{pattern: "GET " + S + "/debug", perm: rbac.ServiceDebug, scope: scopeProject, handle: func(q *req) error { return debug(q, q.page("", "services"), 200) }},
		{pattern: "POST " + S + "/debug", perm: rbac.ServiceDebug, scope: scopeProject, handle: func(q *req) error { return q.debugPost(debug) }},
		{pattern: "GET " + S + "/spec", perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error { return svc("spec", fillSpec)(q, q.page("", "services"), 200) }},
		{pattern: "GET " + S + "/stats", perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error { return svc("stats", fillStats)(q, q.page("", "services"), 200) }},
		// The import page is its form: without service:write it is useless.
		{pattern: "GET /p/{p}/import", perm: rbac.ServiceWrite, scope: scopeProject, handle: func(q *req) error { return importView(q, q.page(q.t("nav.import"), "import"), 200) }},
		{pattern: "POST /p/{p}/import", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).importPost},
		// Everyone has applications of their own; the admin API decides
		// which ones (a project's need application:write there).
		{pattern: "GET /applications", perm: rbac.ApplicationOwn, handle: func(q *req) error { return appsView(q, q.page(q.t("nav.apps"), "apps"), 200) }},
		{pattern: "POST /applications", perm: rbac.ApplicationOwn, handle: (*req).createApp},
		{pattern: "GET /applications/{a}", perm: rbac.ApplicationOwn, handle: func(q *req) error { return appView(q, q.page(q.t("nav.apps"), "apps"), 200) }},
		{pattern: "POST /applications/{a}/credentials", perm: rbac.ApplicationOwn, handle: (*req).createCredential},
		{pattern: "POST /applications/{a}/credentials/{c}/delete", perm: rbac.ApplicationOwn, handle: (*req).deleteCredential},
		{pattern: "POST /applications/{a}/credentials/{c}/rotate", perm: rbac.ApplicationOwn, handle: (*req).rotateCredential},
	}
}

type debugData struct {
	Result *struct {
		URL       string            `json:"url"`
		Status    int               `json:"status"`
		Headers   map[string]string `json:"headers"`
		Body      string            `json:"body"`
		LatencyMs float64           `json:"latency_ms"`
	}
	// Steps are the composite steps of the call, from its record.
	Steps *callSteps
}

func (q *req) debugPost(v view) error {
	f := q.r.PostForm
	headers := map[string]string{}
	for line := range strings.SplitSeq(f.Get("headers"), "\n") {
		if k, val, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) != "" {
			headers[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	body := map[string]any{"group": f.Get("group"), "method": f.Get("method"), "path": strings.TrimSpace(f.Get("path")), "headers": headers, "body": f.Get("body")}
	var dd debugData
	if err := q.call("POST", q.svcPath()+"/debug", body, &dd.Result); err != nil {
		return q.reshow(err, "debug", v, "", "services")
	}
	p := q.page("", "services")
	p.Form = f
	d, err := q.loadService(p, "debug")
	if err != nil {
		return err
	}
	if dd.Result != nil {
		dd.Steps = q.debugSteps(&d.Svc, requestIDOf(dd.Result.Headers))
	}
	d.Extra = dd
	p.Data = d
	q.render(200, "debug", p)
	return nil
}

func fillSpec(q *req, d *serviceData) error {
	var raw, yml []byte
	if err := q.call("GET", q.svcPath()+"/openapi", nil, &raw); err != nil {
		return err
	}
	if err := q.call("GET", q.svcPath()+"/openapi?format=yaml", nil, &yml); err != nil {
		return err
	}
	ops, info := readableOps(raw)
	d.Extra = map[string]any{"Ops": ops, "Info": info, "YAML": string(yml)}
	return nil
}

type statsData struct {
	Group, Window string
	Total         svcstats.Point
	Serving       bool
	Charts        []chart
}

func fillStats(q *req, d *serviceData) error {
	v := url.Values{}
	if g := q.r.URL.Query().Get("group"); g != "" {
		v.Set("group", g)
	}
	if w := q.r.URL.Query().Get("window"); w != "" {
		v.Set("window", w)
	}
	var out struct {
		Group   string           `json:"group"`
		Window  string           `json:"window"`
		Points  []svcstats.Point `json:"points"`
		Total   svcstats.Point   `json:"total"`
		Serving bool             `json:"serving"`
	}
	if err := q.call("GET", q.svcPath()+"/stats?"+v.Encode(), nil, &out); err != nil {
		return err
	}
	sd := statsData{Group: out.Group, Window: out.Window, Total: out.Total, Serving: out.Serving}
	sd.Charts = statsCharts(q, out.Points)
	d.Extra = sd
	return nil
}

func importView(q *req, p *page, status int) error {
	if p.Data == nil {
		p.Data = map[string]any{}
	}
	q.render(status, "import", p)
	return nil
}

// importPost previews (dry run) or applies an OpenAPI document pasted or uploaded.
func (q *req) importPost() error {
	f := q.r.PostForm
	doc := []byte(f.Get("document"))
	if q.r.MultipartForm != nil {
		doc = []byte(q.r.FormValue("document"))
		if file, _, err := q.r.FormFile("file"); err == nil {
			b, err := io.ReadAll(io.LimitReader(file, maxForm))
			file.Close()
			if err == nil && len(b) > 0 {
				doc = b
			}
		}
	}
	apply := q.r.FormValue("apply") == "1"
	path := "/projects/" + url.PathEscape(q.r.PathValue("p")) + "/services/import"
	if !apply {
		path += "?dry_run=true"
	}
	var res struct {
		Report  json.RawMessage `json:"report"`
		Service *spec.Service   `json:"service"`
	}
	p := q.page(q.t("nav.import"), "import")
	p.Form = url.Values{"document": {string(doc)}}
	if err := q.call("POST", path, doc, &res); err != nil {
		return q.reshow(err, "import", importView, q.t("nav.import"), "import")
	}
	if apply && res.Service != nil {
		q.redirect("/p/"+url.PathEscape(q.r.PathValue("p"))+"/services/"+url.PathEscape(res.Service.ID), "imported")
		return nil
	}
	var rep importReport
	_ = json.Unmarshal(res.Report, &rep)
	p.Data = map[string]any{"Report": rep, "Doc": string(doc)}
	q.render(200, "import", p)
	return nil
}

type importChange struct {
	Name   string   `json:"name"`
	Fields []string `json:"fields"`
}

type importReport struct {
	Service struct {
		Name   string `json:"name"`
		Action string `json:"action"`
	} `json:"service"`
	Routes struct {
		Created   []importChange `json:"created"`
		Changed   []importChange `json:"changed"`
		Removed   []importChange `json:"removed"`
		Unchanged int            `json:"unchanged"`
	} `json:"routes"`
	Warnings []json.RawMessage `json:"warnings"`
}

func appsView(q *req, p *page, status int) error {
	var al webpage.List[spec.Application]
	if err := q.call("GET", "/applications?page_size=500", nil, &al); err != nil {
		return err
	}
	p.Data = al.Items
	q.render(status, "apps", p)
	return nil
}

func (q *req) createApp() error {
	f := q.r.PostForm
	body := map[string]any{"name": strings.TrimSpace(f.Get("name")), "description": f.Get("description")}
	if pr := strings.TrimSpace(f.Get("project")); pr != "" {
		body["project"] = pr
	}
	var out spec.Application
	if err := q.call("POST", "/applications", body, &out); err != nil {
		return q.reshow(err, "new-app", appsView, q.t("nav.apps"), "apps")
	}
	q.redirect("/applications/"+url.PathEscape(out.ID), "created")
	return nil
}

type appData struct {
	App   spec.Application
	Creds []spec.Credential
	New   *spec.Credential // the one just created: its secret, once
}

func appView(q *req, p *page, status int) error {
	a := url.PathEscape(q.r.PathValue("a"))
	var d appData
	if err := q.call("GET", "/applications/"+a, nil, &d.App); err != nil {
		return err
	}
	var cl webpage.List[spec.Credential]
	if err := q.call("GET", "/applications/"+a+"/credentials", nil, &cl); err != nil {
		return err
	}
	d.Creds = cl.Items
	if nc, ok := p.Data.(*spec.Credential); ok {
		d.New = nc
	}
	p.Data = d
	q.render(status, "app", p)
	return nil
}

func (q *req) createCredential() error {
	f := q.r.PostForm
	cr := spec.Credential{Type: f.Get("type"), Username: strings.TrimSpace(f.Get("username")), AccessKey: strings.TrimSpace(f.Get("access_key")),
		Key: strings.TrimSpace(f.Get("key")), ClientID: strings.TrimSpace(f.Get("client_id"))}
	var out spec.Credential
	if err := q.call("POST", "/applications/"+url.PathEscape(q.r.PathValue("a"))+"/credentials", cr, &out); err != nil {
		return q.reshow(err, "new-cred", appView, q.t("nav.apps"), "apps")
	}
	// No redirect: this answer is the only one that may show the secret.
	p := q.page(q.t("nav.apps"), "apps")
	p.Flash = q.t("flash.secret_once")
	p.Data = &out
	return appView(q, p, 200)
}

// rotateCredential gives the credential a new secret; the old one keeps
// working for the overlap the form picked (seconds; 0 revokes it now), so
// callers can move over without an outage.
func (q *req) rotateCredential() error {
	body := map[string]int64{}
	if s := q.r.PostFormValue("overlap"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return q.reshow(&webpage.Refusal{Status: http.StatusBadRequest, Detail: q.t("cred.bad_overlap")}, "", appView, q.t("nav.apps"), "apps")
		}
		body["overlap"] = n
	}
	a := url.PathEscape(q.r.PathValue("a"))
	var out spec.Credential
	if err := q.call("POST", "/applications/"+a+"/credentials/"+url.PathEscape(q.r.PathValue("c"))+"/rotate", body, &out); err != nil {
		return q.reshow(err, "", appView, q.t("nav.apps"), "apps")
	}
	// No redirect: this answer is the only one that may show the secret.
	p := q.page(q.t("nav.apps"), "apps")
	p.Flash = q.t("flash.cred_rotated")
	p.Data = &out
	return appView(q, p, 200)
}

func (q *req) deleteCredential() error {
	a := url.PathEscape(q.r.PathValue("a"))
	if err := q.call("DELETE", "/applications/"+a+"/credentials/"+url.PathEscape(q.r.PathValue("c")), nil, nil); err != nil {
		return q.reshow(err, "", appView, q.t("nav.apps"), "apps")
	}
	q.redirect("/applications/"+a, "deleted")
	return nil
}
