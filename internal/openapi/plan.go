package openapi

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// Change names one object of an import and, for an update, the fields that
// change.
type Change struct {
	ID     string   `json:"id,omitempty"`
	Name   string   `json:"name"`
	Fields []string `json:"fields,omitempty"`
}

// ServiceChange is what happens to the service: create, update or
// unchanged.
type ServiceChange struct {
	Action string `json:"action"`
	Change
}

// RouteChanges lists what happens to the routes.
type RouteChanges struct {
	Created   []Change `json:"created"`
	Changed   []Change `json:"changed"`
	Removed   []Change `json:"removed"`
	Kept      []Change `json:"kept,omitempty"` // routes not from a document, left alone
	Unchanged int      `json:"unchanged"`
}

// Report is the answer of an import, dry run or not.
type Report struct {
	DryRun        bool            `json:"dry_run"`
	SourceVersion string          `json:"source_version"`
	Service       ServiceChange   `json:"service"`
	Routes        RouteChanges    `json:"routes"`
	Plugins       []PluginMapping `json:"plugins"`
	Warnings      []Warning       `json:"warnings"`
}

// Plan is what an import does to the store: the service template to
// create or update and the routes to create, update and remove.
type Plan struct {
	Service spec.Service // without routes; ID set when it exists
	Create  []spec.Route
	Update  []spec.Route // ids set
	Remove  []spec.Route
	Report  Report
}

// Changed reports whether the plan writes anything.
func (p *Plan) Changed() bool {
	return p.Report.Service.Action != "unchanged" || len(p.Create)+len(p.Update)+len(p.Remove) > 0
}

// NewPlan compares an imported document with the stored service (nil:
// none yet; else with its routes). Routes are matched by operationId,
// else by method and path, else by name; routes of the service that came
// from a document and match no operation are removed, routes made by hand
// are kept. The document decides on the managed plugins (Result.Managed)
// of the service and its routes; other plugins, backends, hosts and the
// online switch are kept.
func NewPlan(res *Result, existing *spec.Service) *Plan {
	p := &Plan{Report: Report{SourceVersion: res.SourceVersion, Plugins: res.Plugins, Warnings: res.Warnings}}
	if p.Report.Plugins == nil {
		p.Report.Plugins = []PluginMapping{}
	}
	if p.Report.Warnings == nil {
		p.Report.Warnings = []Warning{}
	}
	rc := &p.Report.Routes
	rc.Created, rc.Changed, rc.Removed = []Change{}, []Change{}, []Change{}
	in := res.Service
	in.Routes = nil
	if existing == nil {
		p.Service = in
		p.Report.Service = ServiceChange{Action: "create", Change: Change{Name: in.Name}}
		for _, r := range res.Service.Routes {
			p.Create = append(p.Create, r)
			rc.Created = append(rc.Created, Change{Name: r.Name})
		}
		return p
	}
	p.Service = mergeService(res, existing, &p.Report)
	p.planRoutes(res, existing.Routes)
	return p
}

func mergeService(res *Result, old *spec.Service, rep *Report) spec.Service {
	s := *old
	s.Routes, s.AllowedActions = nil, nil
	in := &res.Service
	var fields []string
	set := func(name string, changed bool) {
		if changed {
			fields = append(fields, name)
		}
	}
	set("name", s.Name != in.Name)
	s.Name = in.Name
	set("description", s.Description != in.Description)
	s.Description = in.Description
	if res.pathSet {
		set("path", s.Path != in.Path)
		s.Path = in.Path
	}
	if res.upstreamSet {
		if s.UpstreamID != "" {
			rep.Warnings = append(rep.Warnings, Warning{Field: "/servers",
				Message: "the service uses upstream " + s.UpstreamID + "; the document's servers are not applied"})
		} else {
			set("upstream", !sameJSON(mustJSON(s.Upstream), mustJSON(stripUpstream(in.Upstream))))
			s.Upstream = stripUpstream(in.Upstream)
		}
	}
	plugins := mergePlugins(s.Plugins, in.Plugins, res.Managed)
	set("plugins", !samePlugins(s.Plugins, plugins))
	s.Plugins = plugins
	set("openapi", !sameJSON(s.OpenAPI, in.OpenAPI))
	s.OpenAPI = in.OpenAPI
	rep.Service = ServiceChange{Action: "update", Change: Change{ID: s.ID, Name: s.Name, Fields: fields}}
	if len(fields) == 0 {
		rep.Service.Action = "unchanged"
	}
	return s
}

// stripUpstream keeps an inline upstream's configuration only: an export
// of a stored upstream carries no id or timestamps either.
func stripUpstream(u *spec.Upstream) *spec.Upstream {
	if u == nil {
		return nil
	}
	c := *u
	c.ID, c.ProjectID, c.CreatedAt, c.UpdatedAt = "", "", time.Time{}, time.Time{}
	return &c
}

func (p *Plan) planRoutes(res *Result, old []spec.Route) {
	rc := &p.Report.Routes
	byOp, byMP, byName := map[string]int{}, map[string]int{}, map[string]int{}
	for i, r := range old {
		if id := operationID(r.OpenAPI); id != "" {
			byOp[id] = i
		}
		for _, k := range methodPathKeys(&r) {
			if _, dup := byMP[k]; !dup {
				byMP[k] = i
			}
		}
		byName[r.Name] = i
	}
	used := make([]bool, len(old))
	match := make([]int, len(res.Service.Routes))
	// Two passes, so a weaker match (name) never takes a route a stronger
	// one (operationId, method+path) of a later operation wants.
	for j, r := range res.Service.Routes {
		match[j] = -1
		if id := operationID(r.OpenAPI); id != "" {
			if i, ok := byOp[id]; ok && !used[i] {
				match[j], used[i] = i, true
				continue
			}
		}
		for _, k := range methodPathKeys(&r) {
			if i, ok := byMP[k]; ok && !used[i] {
				match[j], used[i] = i, true
				break
			}
		}
	}
	for j, r := range res.Service.Routes {
		if match[j] >= 0 {
			continue
		}
		if i, ok := byName[r.Name]; ok && !used[i] {
			match[j], used[i] = i, true
		}
	}
	for j, r := range res.Service.Routes {
		if match[j] < 0 {
			p.Create = append(p.Create, r)
			rc.Created = append(rc.Created, Change{Name: r.Name})
			continue
		}
		o := old[match[j]]
		merged, fields := mergeRoute(&r, &o, res.Managed)
		if len(fields) == 0 {
			rc.Unchanged++
			continue
		}
		p.Update = append(p.Update, merged)
		rc.Changed = append(rc.Changed, Change{ID: o.ID, Name: merged.Name, Fields: fields})
	}
	for i, r := range old {
		if used[i] {
			continue
		}
		if len(r.OpenAPI) == 0 {
			rc.Kept = append(rc.Kept, Change{ID: r.ID, Name: r.Name})
			continue
		}
		p.Remove = append(p.Remove, r)
		rc.Removed = append(rc.Removed, Change{ID: r.ID, Name: r.Name})
	}
}

func mergeRoute(in, old *spec.Route, managed []string) (spec.Route, []string) {
	r := *old
	var fields []string
	set := func(name string, changed bool) {
		if changed {
			fields = append(fields, name)
		}
	}
	set("name", r.Name != in.Name)
	r.Name = in.Name
	set("description", r.Description != in.Description)
	r.Description = in.Description
	set("paths", !slices.Equal(r.Paths, in.Paths))
	r.Paths = in.Paths
	set("methods", !slices.Equal(r.Methods, in.Methods))
	r.Methods = in.Methods
	plugins := mergePlugins(r.Plugins, in.Plugins, managed)
	set("plugins", !samePlugins(r.Plugins, plugins))
	r.Plugins = plugins
	set("openapi", !sameJSON(r.OpenAPI, in.OpenAPI))
	r.OpenAPI = in.OpenAPI
	params := in.Parameters
	if !mapsBackend(in) {
		params = keepMappings(params, old.Parameters)
	}
	set("parameters", !sameJSON(mustJSON(r.Parameters), mustJSON(params)))
	r.Parameters = params
	set("responses", !sameJSON(mustJSON(r.Responses), mustJSON(in.Responses)))
	r.Responses = in.Responses
	set("errors", !sameJSON(mustJSON(r.Errors), mustJSON(in.Errors)))
	r.Errors = in.Errors
	if in.Backend != nil {
		// The document's x-portico-backend: its part of the backend
		// replaces the stored one's; type and retries stay.
		be := spec.Backend{}
		if r.Backend != nil {
			be = *r.Backend
		}
		be.Path, be.Method, be.Timeout, be.Parameters = in.Backend.Path, in.Backend.Method, in.Backend.Timeout, in.Backend.Parameters
		switch {
		case in.Backend.Type == spec.BackendComposite:
			// x-portico-composite: the document's flow is the backend.
			be.Type, be.Composite, be.SQLBackend = spec.BackendComposite, in.Backend.Composite, nil
		case be.Type == spec.BackendComposite:
			// A provider's export of a route that is not composite (it
			// would have written its flow): the route calls its upstream.
			be.Type, be.Composite = "", nil
		}
		set("backend", !sameJSON(mustJSON(r.Backend), mustJSON(&be)))
		r.Backend = &be
	}
	return r, fields
}

// mapsBackend reports whether an imported route says anything of its
// backend (a Portico export does; another document does not).
func mapsBackend(r *spec.Route) bool {
	if r.Backend != nil {
		return true
	}
	for _, p := range r.Parameters {
		if p.Backend != nil {
			return true
		}
	}
	return false
}

// keepMappings gives the parameters of a document that says nothing of
// the backend the mappings the stored route has for them (same name and
// in): re-importing a provider's document keeps what was designed on top.
func keepMappings(in, old []spec.Parameter) []spec.Parameter {
	if len(in) == 0 || len(old) == 0 {
		return in
	}
	out := slices.Clone(in)
	for i := range out {
		for _, o := range old {
			if o.Backend != nil && o.Name == out[i].Name && o.In == out[i].In && o.BodyPointer() == out[i].BodyPointer() {
				out[i].Backend = o.Backend
			}
		}
	}
	return out
}

// mergePlugins keeps the plugins the document does not decide on and takes
// the managed ones from the document.
func mergePlugins(old, in spec.Plugins, managed []string) spec.Plugins {
	out := spec.Plugins{}
	for k, v := range old {
		if !slices.Contains(managed, k) {
			out[k] = v
		}
	}
	maps.Copy(out, in)
	if len(out) == 0 {
		return nil
	}
	return out
}

func samePlugins(a, b spec.Plugins) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !sameJSON(v, w) {
			return false
		}
	}
	return true
}

// sameJSON compares two JSON texts by value; empty and null are equal.
func sameJSON(a, b []byte) bool {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if bytes.Equal(a, b) {
		return true
	}
	if len(a) == 0 || bytes.Equal(a, []byte("null")) {
		return len(b) == 0 || bytes.Equal(b, []byte("null"))
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// operationID reads the operationId of a stored operation fragment.
func operationID(frag json.RawMessage) string {
	if len(frag) == 0 {
		return ""
	}
	var op struct {
		OperationID string `json:"operationId"`
	}
	if json.Unmarshal(frag, &op) != nil {
		return ""
	}
	return op.OperationID
}

func methodPathKeys(r *spec.Route) []string {
	keys := make([]string, 0, len(r.Methods)*len(r.Paths))
	for _, m := range r.Methods {
		for _, p := range r.Paths {
			keys = append(keys, strings.ToUpper(m)+" "+p)
		}
	}
	return keys
}
