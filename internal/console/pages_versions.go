package console

import (
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// versionRoutes are a service's Versions tab (edit from a version, the
// diff of two versions or of a version and the template) and the preview
// a sync shows before it is confirmed.
func versionRoutes() []pageRoute {
	const S = "/p/{p}/services/{s}"
	return []pageRoute{
		{pattern: "GET " + S + "/versions", perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error { return versionsView(q, q.page("", "services"), 200) }},
		{pattern: "POST " + S + "/versions/{v}/restore", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).restoreVersion},
		// The preview runs the sync as a dry run: it needs what the sync
		// needs, and the admin API checks the group's stage.
		{pattern: "POST " + S + "/sync/preview", perm: rbac.ServicePublish, scope: scopeProject, handle: (*req).previewSync},
	}
}

// templateSide is what the admin API's diff calls the service template.
const templateSide = "template"

// changeRow is one change of a diff as a page shows it: values as compact
// JSON, long ones cut.
type changeRow struct {
	Op, Path, From, To string
}

// changesView is what the changes partial shows: rows and their page.
type changesView struct {
	P       *page
	Changes []changeRow
}

// diffData is the Versions tab: the two sides picked and their changes
// (Shown false: no version to compare yet).
type diffData struct {
	From, To string
	Sides    []string // what either side may be: the versions, newest first, and the template
	Shown    bool
	View     changesView
}

func versionsView(q *req, p *page, status int) error {
	d, err := q.loadService(p, "versions")
	if err != nil {
		return err
	}
	dd := diffData{From: q.r.URL.Query().Get("from"), To: q.r.URL.Query().Get("to")}
	for _, v := range d.Versions {
		dd.Sides = append(dd.Sides, v.Version.Version)
	}
	dd.Sides = append(dd.Sides, templateSide)
	if dd.To == "" {
		dd.To = templateSide
	}
	// Without a choice the newest version is compared with the template:
	// what changed since the last publish.
	if dd.From == "" && len(d.Versions) > 0 {
		dd.From = d.Versions[0].Version.Version
	}
	if dd.From != "" {
		var out struct {
			Changes []spec.FieldChange `json:"changes"`
		}
		v := url.Values{"from": {dd.From}, "to": {dd.To}}
		if err := q.call("GET", q.svcPath()+"/diff?"+v.Encode(), nil, &out); err != nil {
			ae, ok := err.(*webpage.Refusal)
			if !ok || ae.Status >= 500 || ae.Status == 401 {
				return err
			}
			// A side that is no version: the page says so beside the form.
			p.Error, p.Errors = ae.Detail, ae.Fields
		} else {
			dd.Shown, dd.View = true, changesView{P: p, Changes: changeRows(out.Changes)}
		}
	}
	d.Extra = dd
	p.Data = d
	q.render(status, "versions", p)
	return nil
}

func changeRows(cs []spec.FieldChange) []changeRow {
	rows := make([]changeRow, len(cs))
	for i, c := range cs {
		rows[i] = changeRow{Op: c.Op, Path: c.Path}
		if c.Op != spec.ChangeAdded {
			rows[i].From = shownValue(c.From)
		}
		if c.Op != spec.ChangeRemoved {
			rows[i].To = shownValue(c.To)
		}
	}
	return rows
}

// maxShownValue bounds a value in a diff's cell (an added route with its
// OpenAPI operation is the whole route).
const maxShownValue = 300

func shownValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	s := string(b)
	if len(s) <= maxShownValue {
		return s
	}
	cut := maxShownValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// restoreVersion makes the template what a version holds ("edit from
// this version") and opens the service, whose template it now is.
func (q *req) restoreVersion() error {
	v := q.r.PathValue("v")
	if err := q.call("POST", q.svcPath()+"/versions/"+url.PathEscape(v)+"/restore", nil, nil); err != nil {
		return q.reshow(err, "restore-"+v, versionsView, q.t("nav.services"), "services")
	}
	q.redirect(q.svcPage(), "restored")
	return nil
}

// syncPreview is what a sync would change in the target group, with the
// form's fields to send again when the user confirms.
type syncPreview struct {
	Svc      spec.Service
	ID       string
	From, To string
	Version  string
	View     changesView
	Fields   []formField
	Running  string // the version the target runs now, "" for none
}

type formField struct{ Name, Value string }

// syncFields are the sync form's fields the confirmation sends again.
var syncFields = []string{"from_group", "to_group", "scheme", "node_host", "node_port", "node_weight"}

// previewSync asks the admin API for the sync's dry run and shows its
// changes with a form that runs it; a refusal goes back to the sync form.
func (q *req) previewSync() error {
	f := q.r.PostForm
	body := map[string]any{"from_group": f.Get("from_group"), "to_group": f.Get("to_group")}
	if u := upstreamOf(f); u != nil {
		body["upstream"] = u
	}
	var out struct {
		Group   string             `json:"group"`
		Version string             `json:"version"`
		Changes []spec.FieldChange `json:"changes"`
	}
	if err := q.call("POST", q.svcPath()+"/sync?dry_run=true", body, &out); err != nil {
		return q.reshow(err, "sync", serviceView, q.t("nav.services"), "services")
	}
	p := q.page(q.t("nav.services"), "services")
	sp := syncPreview{ID: q.r.PathValue("s"), From: f.Get("from_group"), To: out.Group, Version: out.Version, View: changesView{P: p, Changes: changeRows(out.Changes)}}
	if err := q.call("GET", q.svcPath(), nil, &sp.Svc); err != nil {
		return err
	}
	sp.ID = sp.Svc.ID
	// Without a change of version the target runs this one already; a
	// version added is a target that runs nothing yet.
	sp.Running = out.Version
	for _, c := range out.Changes {
		if c.Path == "version" {
			sp.Running, _ = c.From.(string)
		}
	}
	for _, name := range syncFields {
		for _, v := range f[name] {
			// Node fields go back as they came: host, port and weight
			// pair up by position.
			if strings.TrimSpace(v) != "" || strings.HasPrefix(name, "node_") {
				sp.Fields = append(sp.Fields, formField{Name: name, Value: v})
			}
		}
	}
	p.Title, p.Data = sp.Svc.Name, sp
	q.render(200, "syncpreview", p)
	return nil
}
