package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/webpage"
)

// pluginRoutes are the policy editor (a service's and its routes'
// plugins, with each route's effective chain) and the edits of a
// service's settings and an upstream's nodes after creation.
func pluginRoutes() []pageRoute {
	const S = "/p/{p}/services/{s}"
	return []pageRoute{
		{pattern: "GET " + S + "/plugins", perm: rbac.ServiceRead, scope: scopeProject, handle: func(q *req) error { return pluginsView(q, q.page(q.t("plg.title"), "services"), 200) }},
		{pattern: "POST " + S + "/plugins", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).savePlugin},
		{pattern: "POST " + S + "/plugins/remove", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).removePlugin},
		{pattern: "POST " + S + "/settings", perm: rbac.ServiceWrite, scope: scopeProject, handle: (*req).saveServiceSettings},
		{pattern: "POST /p/{p}/upstreams/{u}", perm: rbac.UpstreamWrite, scope: scopeProject, handle: (*req).saveUpstreamNodes},
	}
}

// pluginsData is the policy editor's page.
type pluginsData struct {
	*serviceData
	Service      pluginScope
	Routes       []pluginScope
	StreamRoutes []pluginScope // a stream service's: each stream route's plugins
	Upstreams    []spec.Upstream
	Settings     string // the settings form's id
}

// pluginScope is where plugins are set: the service (Key ""), one of its
// routes (Key its id) or one of a stream service's stream routes (Key
// streamScope and its name).
type pluginScope struct {
	P       *page
	Key     string
	Label   string // "the service", "the route x", in the page's language
	Route   *spec.Route
	Stream  string // the stream route's name
	Set     []setPlugin
	Addable []catalogueEntry // the catalogue's plugins not set here
	Adding  *pluginEditor    // the add form, opened by ?add= or refused
	Chain   []chainRow       // routes: what runs, in order
	Action  string           // where the editor's forms post
}

// setPlugin is one plugin set on a scope, with its editor.
type setPlugin struct {
	Name, Phase, Summary string
	Editor               pluginEditor
}

// pluginEditor is the form of one plugin's configuration.
type pluginEditor struct {
	P              *page
	Scope, Name    string
	FormID, Action string
	Known          bool // in the catalogue: Fields; else Raw, the whole JSON
	Fields         []configField
	Raw            string
}

// chainRow is one plugin of a route's effective chain.
type chainRow struct{ Name, Phase, From string }

// streamScope starts the scope key of a stream route, followed by its
// name; a route's key is its id, a UUID, so the two never meet.
const streamScope = "stream-"

// streamRouteOf is the stream route a scope key names.
func streamRouteOf(key string) (name string, ok bool) {
	return strings.CutPrefix(key, streamScope)
}

// pluginFormID names a plugin's form on the page: its scope ("service"
// or the route's id) and the plugin.
func pluginFormID(scope, name string) string {
	if scope == "" {
		scope = "service"
	}
	return "plugin-" + scope + "-" + name
}

// catalogue asks the admin API for the plugins the gateway runs.
func (q *req) catalogue() ([]catalogueEntry, error) {
	var l webpage.List[catalogueEntry]
	if err := q.call("GET", "/plugins", nil, &l); err != nil {
		return nil, err
	}
	return l.Items, nil
}

func findPlugin(cat []catalogueEntry, name string) (catalogueEntry, bool) {
	i := slices.IndexFunc(cat, func(e catalogueEntry) bool { return e.Name == name })
	if i < 0 {
		return catalogueEntry{}, false
	}
	return cat[i], true
}

func pluginsView(q *req, p *page, status int) error {
	d, err := q.loadService(p, "plugins")
	if err != nil {
		return err
	}
	cat, err := q.catalogue()
	if err != nil {
		return err
	}
	var ul webpage.List[spec.Upstream]
	switch {
	case q.who.Has(rbac.UpstreamRead, p.Project):
		if err := q.call("GET", "/projects/"+url.PathEscape(p.Project)+"/upstreams?page_size=500", nil, &ul); err != nil {
			return err
		}
	case d.Svc.UpstreamID != "":
		// Someone who may not list upstreams still sees the one referenced.
		ul.Items = []spec.Upstream{{ID: d.Svc.UpstreamID, Name: d.Svc.UpstreamID}}
	}
	p.Title = d.Svc.Name + " · " + q.t("plg.title")
	pd := &pluginsData{serviceData: d, Upstreams: ul.Items, Settings: "service-settings"}
	action := q.svcPage() + "/plugins"
	pd.Service = q.scope(p, cat, "", q.t("plg.the_service"), nil, d.Svc.Plugins, action)
	for _, sr := range d.Svc.StreamRoutes {
		sc := q.scope(p, cat, streamScope+sr.Name, fmt.Sprintf(q.t("plg.the_stream"), sr.Name), nil, sr.Plugins, action)
		sc.Stream = sr.Name
		pd.StreamRoutes = append(pd.StreamRoutes, sc)
	}
	for i := range d.Svc.Routes {
		rt := &d.Svc.Routes[i]
		sc := q.scope(p, cat, rt.ID, fmt.Sprintf(q.t("plg.the_route"), rt.Name), rt, rt.Plugins, action)
		for _, l := range routing.Chain(d.Svc.Plugins, rt.Plugins) {
			sc.Chain = append(sc.Chain, chainRow{Name: l.Name, Phase: l.Phase.String(), From: q.t("plg.from_" + l.From)})
		}
		pd.Routes = append(pd.Routes, sc)
	}
	p.Data = pd
	q.render(status, "plugins", p)
	return nil
}

// scope builds one scope's list, editors and add form. The add form opens
// for ?scope=KEY&add=NAME, or when the page comes back with that
// plugin's form refused.
func (q *req) scope(p *page, cat []catalogueEntry, key, label string, rt *spec.Route, set spec.Plugins, action string) pluginScope {
	sc := pluginScope{P: p, Key: key, Label: label, Route: rt, Action: action}
	for _, name := range slices.Sorted(maps.Keys(set)) {
		e, known := findPlugin(cat, name)
		ed := q.editor(p, e, known, key, name, set[name], action)
		sp := setPlugin{Name: name, Phase: e.Phase, Summary: summary(set[name]), Editor: ed}
		sc.Set = append(sc.Set, sp)
	}
	_, stream := streamRouteOf(key)
	for _, e := range cat {
		if _, on := set[e.Name]; !on && (e.Services && key == "" || e.Routes && key != "" && !stream || e.Stream && stream) {
			sc.Addable = append(sc.Addable, e)
		}
	}
	add := ""
	if qv := q.r.URL.Query(); qv.Get("scope") == key && q.r.Method == "GET" {
		add = qv.Get("add")
	}
	for _, e := range sc.Addable {
		if e.Name == add || p.Open == pluginFormID(key, e.Name) {
			ed := q.editor(p, e, true, key, e.Name, nil, action)
			sc.Adding = &ed
			break
		}
	}
	return sc
}

// editor builds a plugin's form: from its schema when the catalogue has
// it, filled with what was sent when this form comes back refused.
func (q *req) editor(p *page, e catalogueEntry, known bool, scope, name string, current json.RawMessage, action string) pluginEditor {
	ed := pluginEditor{P: p, Scope: scope, Name: name, FormID: pluginFormID(scope, name), Action: action, Known: known && e.Schema != nil}
	var posted url.Values
	if p.Open == ed.FormID {
		posted = p.Form
	}
	if !ed.Known {
		ed.Raw = prettyConfig(current)
		if posted != nil {
			ed.Raw = posted.Get(rawField)
		}
		return ed
	}
	errs := map[string]string(nil)
	if posted != nil {
		errs = p.Errors
	}
	ed.Fields = formFields(e.Schema, decodeConfig(current), posted, errs, "plugins."+name)
	return ed
}

// summary is a configuration on one line, cut to stay readable.
func summary(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	s := string(b)
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}

func prettyConfig(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "{}"
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// pluginPatch is the admin API body that sets plugin name to cfg (nil:
// removes it) on a scope.
type pluginPatch func(name string, cfg any) (map[string]any, error)

// pluginTarget is where a form's scope is changed: the service, its route
// of that id, or its stream route of that name.
type pluginTarget struct {
	path  string       // the admin API's
	set   spec.Plugins // the plugins set there now
	patch pluginPatch
	// fields starts the admin API's field errors about the scope's plugins
	// before "plugins." (a stream route's "stream_routes[1]."): cut, so
	// they show beside the form's fields.
	fields string
}

func (q *req) pluginTarget(scope string) (pluginTarget, error) {
	var svc spec.Service
	if err := q.call("GET", q.svcPath(), nil, &svc); err != nil {
		return pluginTarget{}, err
	}
	merge := func(name string, cfg any) (map[string]any, error) {
		return map[string]any{"plugins": map[string]any{name: cfg}}, nil
	}
	if scope == "" {
		return pluginTarget{path: q.svcPath(), set: svc.Plugins, patch: merge}, nil
	}
	if name, ok := streamRouteOf(scope); ok {
		for i, sr := range svc.StreamRoutes {
			if sr.Name == name {
				return pluginTarget{path: q.svcPath(), set: sr.Plugins, patch: streamPluginPatch(svc.StreamRoutes, i),
					fields: fmt.Sprintf("stream_routes[%d].", i)}, nil
			}
		}
	}
	for _, rt := range svc.Routes {
		if rt.ID == scope {
			return pluginTarget{path: q.svcPath() + "/routes/" + url.PathEscape(rt.ID), set: rt.Plugins, patch: merge}, nil
		}
	}
	return pluginTarget{}, &webpage.Refusal{Status: 404, Detail: q.t("plg.no_route")}
}

// change sets plugin name to cfg (nil: removes it) through the admin API.
func (t pluginTarget) change(q *req, name string, cfg any) error {
	body, err := t.patch(name, cfg)
	if err == nil {
		err = q.call("PATCH", t.path, body, nil)
	}
	var ae *webpage.Refusal
	if t.fields != "" && errors.As(err, &ae) {
		problems := slices.Clone(ae.Problems)
		for i := range problems {
			problems[i].Field = strings.TrimPrefix(problems[i].Field, t.fields)
		}
		ae.SetFields(problems)
	}
	return err
}

// streamPluginPatch changes a plugin of stream route i. Stream routes are
// a member of the service, and a merge patch replaces an array whole, so
// the body carries every stream route as read, route i's plugins changed.
func streamPluginPatch(routes []spec.StreamRoute, i int) pluginPatch {
	return func(name string, cfg any) (map[string]any, error) {
		routes = slices.Clone(routes)
		set := maps.Clone(routes[i].Plugins)
		if set == nil {
			set = spec.Plugins{}
		}
		if cfg == nil {
			delete(set, name)
		} else {
			raw, err := json.Marshal(cfg)
			if err != nil {
				return nil, fmt.Errorf("encode plugin %s: %w", name, err)
			}
			set[name] = raw
		}
		routes[i].Plugins = set
		return map[string]any{"stream_routes": routes}, nil
	}
}

func (q *req) savePlugin() error {
	f := q.r.PostForm
	scope, name := f.Get("scope"), strings.TrimSpace(f.Get("plugin"))
	form := pluginFormID(scope, name)
	target, err := q.pluginTarget(scope)
	if err != nil {
		return q.reshow(err, form, pluginsView, q.t("plg.title"), "services")
	}
	cat, err := q.catalogue()
	if err != nil {
		return err
	}
	old := decodeConfig(target.set[name])
	var cfg any
	if e, ok := findPlugin(cat, name); ok && e.Schema != nil {
		cfg = replacement(old, configFromForm(e.Schema, f, old))
	} else {
		raw := strings.TrimSpace(f.Get(rawField))
		if raw == "" {
			raw = "{}"
		}
		cfg = jsonOrText(raw)
		if obj, ok := asObject(cfg); ok {
			cfg = replacement(old, obj)
		}
	}
	if err := target.change(q, name, cfg); err != nil {
		return q.reshow(err, form, pluginsView, q.t("plg.title"), "services")
	}
	q.redirect(q.svcPage()+"/plugins", "plugin_saved")
	return nil
}

func (q *req) removePlugin() error {
	f := q.r.PostForm
	scope, name := f.Get("scope"), f.Get("plugin")
	target, err := q.pluginTarget(scope)
	if err == nil {
		err = target.change(q, name, nil)
	}
	if err != nil {
		return q.reshow(err, "remove-"+pluginFormID(scope, name), pluginsView, q.t("plg.title"), "services")
	}
	q.redirect(q.svcPage()+"/plugins", "plugin_gone")
	return nil
}

// orNull is s, or null (the member removed by the merge patch) when empty.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// saveServiceSettings changes a service's path, upstream (a reference to
// an upstream of the project, or none) and description.
func (q *req) saveServiceSettings() error {
	f := q.r.PostForm
	body := map[string]any{"path": orNull(strings.TrimSpace(f.Get("path"))), "description": orNull(f.Get("description"))}
	if _, sent := f["upstream_id"]; sent {
		body["upstream_id"] = orNull(f.Get("upstream_id"))
		if f.Get("upstream_id") != "" {
			// A reference replaces the service's own nodes: the admin
			// API refuses the two together.
			body["upstream"] = nil
		}
	}
	if err := q.call("PATCH", q.svcPath(), body, nil); err != nil {
		return q.reshow(err, "service-settings", pluginsView, q.t("plg.title"), "services")
	}
	q.redirect(q.svcPage()+"/plugins", "saved")
	return nil
}

// saveUpstreamNodes replaces an upstream's nodes.
func (q *req) saveUpstreamNodes() error {
	nodes := nodesOf(q.r.PostForm)
	if nodes == nil {
		nodes = []spec.Node{} // null would remove the member; the admin API says what an upstream needs
	}
	p, u := url.PathEscape(q.r.PathValue("p")), q.r.PathValue("u")
	if err := q.call("PATCH", "/projects/"+p+"/upstreams/"+url.PathEscape(u), map[string]any{"nodes": nodes}, nil); err != nil {
		return q.reshow(err, "upstream-"+u, upstreamsView, q.t("nav.upstreams"), "upstreams")
	}
	q.redirect("/p/"+p+"/upstreams", "saved")
	return nil
}

// upstreamEdit is the nodes form of one upstream on the upstreams page.
type upstreamEdit struct {
	P    *page
	U    spec.Upstream
	Form string
	Rows []nodeRow
}

// upstreamEditOf fills the form with the stored nodes and an empty row,
// or with what was sent when it comes back refused.
func upstreamEditOf(p *page, u spec.Upstream) upstreamEdit {
	e := upstreamEdit{P: p, U: u, Form: "upstream-" + u.ID}
	if p.Open == e.Form {
		e.Rows = postedNodeRows(p.Form)
		return e
	}
	for _, n := range u.Nodes {
		e.Rows = append(e.Rows, nodeRow{Host: n.Host, Port: fmt.Sprint(n.Port), Weight: fmt.Sprint(n.Weight)})
	}
	e.Rows = append(e.Rows, nodeRow{}) // room for one more node
	return e
}

// NodeRows are the form's rows for the "node-rows" template.
func (e upstreamEdit) NodeRows() nodeRows { return nodeRows{P: e.P, Rows: e.Rows} }

// phaseText names a phase of the chain in the page's language; a phase
// the catalogue has no words for is shown as the gateway names it.
func phaseText(p *page, phase string) string {
	if !messages.Has("plg.phase." + phase) {
		return phase
	}
	return p.T("plg.phase." + phase)
}

func init() {
	funcs["upstreamEdit"] = upstreamEditOf
	funcs["phaseText"] = phaseText
}

func init() {
	// pluginScopeOf hands a scope's template whether the user may change
	// it (the page's Can, computed once for the page).
	funcs["pluginScopeOf"] = func(s pluginScope, write bool) struct {
		S     pluginScope
		Write bool
	} {
		return struct {
			S     pluginScope
			Write bool
		}{s, write}
	}
}
