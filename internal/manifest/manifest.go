// Package manifest is a project's declarative configuration: one YAML
// document naming its upstreams and its services with their routes and
// plugins, in a stable order and without volatile fields (ids, timestamps,
// lifecycle state), so that it diffs cleanly in git. Diff computes what
// applying a document changes; the admin API applies it in one
// transaction.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/portico-gw/portico/internal/spec"
)

// Document is a project's declarative configuration. Services refer to
// upstreams by name (upstream_id holds the name); applications are the
// project's call credentials without their credentials (secrets never
// leave the install) and name their services.
type Document struct {
	Project      string             `json:"project"`
	Upstreams    []spec.Upstream    `json:"upstreams"`
	Services     []spec.Service     `json:"services"`
	Applications []spec.Application `json:"applications,omitempty"`
}

// Normalize clears what varies between installs and reads (ids,
// timestamps, state, folders) and what the server fills in when it saves
// (the result_columns of a sql backend, read from its data source), and
// sorts everything by name. byID maps upstream and service ids to names,
// so references survive between environments.
func Normalize(d *Document, byID map[string]string) {
	for i := range d.Applications {
		a := &d.Applications[i]
		a.ID, a.ProjectID, a.Owner = "", "", ""
		a.CreatedAt, a.UpdatedAt = spec.Application{}.CreatedAt, spec.Application{}.UpdatedAt
		for j, id := range a.Services {
			if name, ok := byID[id]; ok {
				a.Services[j] = name
			}
		}
		slices.Sort(a.Services)
	}
	sort.Slice(d.Applications, func(i, j int) bool { return d.Applications[i].Name < d.Applications[j].Name })
	for i := range d.Upstreams {
		cleanUpstream(&d.Upstreams[i])
	}
	sort.Slice(d.Upstreams, func(i, j int) bool { return d.Upstreams[i].Name < d.Upstreams[j].Name })
	for i := range d.Services {
		s := &d.Services[i]
		s.ID, s.ProjectID, s.State, s.AllowedActions, s.FolderID, s.FolderPath = "", "", "", nil, "", ""
		s.CreatedAt, s.UpdatedAt = spec.Service{}.CreatedAt, spec.Service{}.UpdatedAt
		if name, ok := byID[s.UpstreamID]; ok {
			s.UpstreamID = name
		}
		if s.Upstream != nil {
			cleanUpstream(s.Upstream)
		}
		for j := range s.Routes {
			r := &s.Routes[j]
			r.ID, r.ServiceID = "", ""
			r.CreatedAt, r.UpdatedAt = spec.Route{}.CreatedAt, spec.Route{}.UpdatedAt
			if b := r.Backend; b != nil && b.SQLBackend != nil && b.ResultColumns != nil {
				nb, sb := *b, *b.SQLBackend
				sb.ResultColumns = nil
				nb.SQLBackend = &sb
				r.Backend = &nb
			}
		}
		sort.Slice(s.Routes, func(a, b int) bool { return s.Routes[a].Name < s.Routes[b].Name })
	}
	sort.Slice(d.Services, func(i, j int) bool { return d.Services[i].Name < d.Services[j].Name })
	if d.Upstreams == nil {
		d.Upstreams = []spec.Upstream{}
	}
	if d.Services == nil {
		d.Services = []spec.Service{}
	}
}

func cleanUpstream(u *spec.Upstream) {
	u.ID, u.ProjectID = "", ""
	u.CreatedAt, u.UpdatedAt = spec.Upstream{}.CreatedAt, spec.Upstream{}.UpdatedAt
}

// Marshal renders d as YAML.
func Marshal(d *Document) ([]byte, error) {
	b, err := yaml.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("render YAML: %w", err)
	}
	return b, nil
}

// Decoder reads the JSON form of a document or of a package file into v.
// It must be strict: the admin API passes its own decoder, which refuses
// unknown members and names spelt otherwise than documented ("Name" is
// not name; encoding/json alone takes it), naming each problem by its JSON
// path (spec.FieldErrors).
type Decoder func(b []byte, v any) error

// Parse reads a YAML (or JSON) document with decode: an unknown field is an
// error naming it. A service's folder_id is refused: folder ids are one
// install's, and a document leaves a service's folder alone.
func Parse(b []byte, decode Decoder) (Document, error) {
	var d Document
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return d, spec.FieldErrors{{Field: "", Message: "not a YAML document: " + err.Error()}}
	}
	if err := decode(j, &d); err != nil {
		if fe, ok := errors.AsType[spec.FieldErrors](err); ok {
			return d, fe
		}
		return d, spec.FieldErrors{{Field: "", Message: "does not match the project config: " + err.Error()}}
	}
	var fe spec.FieldErrors
	for i := range d.Services {
		if d.Services[i].FolderID != "" {
			fe.Add(fmt.Sprintf("services[%d].folder_id", i), "is not part of a configuration document (folder ids are one install's): "+
				"a service the document creates is in no folder, one it changes keeps its folder; place it with PATCH …/services/{s} {\"folder_id\": …}")
		}
	}
	dupes(&fe, "upstreams", len(d.Upstreams), func(i int) string { return d.Upstreams[i].Name })
	dupes(&fe, "services", len(d.Services), func(i int) string { return d.Services[i].Name })
	dupes(&fe, "applications", len(d.Applications), func(i int) string { return d.Applications[i].Name })
	for i := range d.Services {
		s := &d.Services[i]
		dupes(&fe, fmt.Sprintf("services[%d].routes", i), len(s.Routes), func(j int) string { return s.Routes[j].Name })
	}
	return d, fe.Err()
}

func dupes(fe *spec.FieldErrors, field string, n int, name func(int) string) {
	seen := map[string]bool{}
	for i := range n {
		switch nm := name(i); {
		case nm == "":
			fe.Add(fmt.Sprintf("%s[%d].name", field, i), "is required")
		case seen[nm]:
			fe.Add(fmt.Sprintf("%s[%d].name", field, i), "%q is listed twice", nm)
		default:
			seen[nm] = true
		}
	}
}

// Change is one step of applying a document.
type Change struct {
	Kind   string   `json:"kind"`   // upstream | service | route
	Name   string   `json:"name"`   // route: service/route
	Action string   `json:"action"` // create | update | delete
	Fields []string `json:"fields,omitempty"`
}

// Plan is every change, in the order they apply: upstreams created and
// updated, services, routes, applications, then what is removed (routes;
// with prune applications, services, upstreams).
type Plan struct {
	Changes []Change `json:"changes"`
}

// Empty reports whether applying changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Diff compares the current (normalized) configuration with the desired
// one. Routes a listed service no longer names are removed; services and
// upstreams the document does not name are removed only with prune.
func Diff(cur, want *Document, prune bool) Plan {
	p := Plan{Changes: []Change{}}
	curUp := indexBy(cur.Upstreams, func(u spec.Upstream) string { return u.Name })
	for _, u := range want.Upstreams {
		if old, ok := curUp[u.Name]; !ok {
			p.add("upstream", u.Name, "create", nil)
		} else if f := changedFields(old, u); len(f) > 0 {
			p.add("upstream", u.Name, "update", f)
		}
	}
	curSvc := indexBy(cur.Services, func(s spec.Service) string { return s.Name })
	var routeDeletes []Change
	for _, s := range want.Services {
		old, ok := curSvc[s.Name]
		if !ok {
			p.add("service", s.Name, "create", nil)
			for _, r := range s.Routes {
				p.add("route", s.Name+"/"+r.Name, "create", nil)
			}
			continue
		}
		tmplOld, tmplNew := old, s
		tmplOld.Routes, tmplNew.Routes = nil, nil
		if f := changedFields(tmplOld, tmplNew); len(f) > 0 {
			p.add("service", s.Name, "update", f)
		}
		oldRoutes := indexBy(old.Routes, func(r spec.Route) string { return r.Name })
		for _, r := range s.Routes {
			if o, ok := oldRoutes[r.Name]; !ok {
				p.add("route", s.Name+"/"+r.Name, "create", nil)
			} else if f := changedFields(o, serverFilled(o, r)); len(f) > 0 {
				p.add("route", s.Name+"/"+r.Name, "update", f)
			}
		}
		wantRoutes := indexBy(s.Routes, func(r spec.Route) string { return r.Name })
		for _, r := range old.Routes {
			if _, ok := wantRoutes[r.Name]; !ok {
				routeDeletes = append(routeDeletes, Change{Kind: "route", Name: s.Name + "/" + r.Name, Action: "delete"})
			}
		}
	}
	curApp := indexBy(cur.Applications, func(a spec.Application) string { return a.Name })
	for _, a := range want.Applications {
		if old, ok := curApp[a.Name]; !ok {
			p.add("application", a.Name, "create", nil)
		} else if f := changedFields(old, a); len(f) > 0 {
			p.add("application", a.Name, "update", f)
		}
	}
	p.Changes = append(p.Changes, routeDeletes...)
	if prune {
		wantApp := indexBy(want.Applications, func(a spec.Application) string { return a.Name })
		for _, a := range cur.Applications {
			if _, ok := wantApp[a.Name]; !ok {
				p.add("application", a.Name, "delete", nil)
			}
		}
		wantSvc := indexBy(want.Services, func(s spec.Service) string { return s.Name })
		for _, s := range cur.Services {
			if _, ok := wantSvc[s.Name]; !ok {
				p.add("service", s.Name, "delete", nil)
			}
		}
		wantUp := indexBy(want.Upstreams, func(u spec.Upstream) string { return u.Name })
		for _, u := range cur.Upstreams {
			if _, ok := wantUp[u.Name]; !ok {
				p.add("upstream", u.Name, "delete", nil)
			}
		}
	}
	return p
}

// serverFilled is r with what the admin API filled in when it saved o,
// the stored route, where r leaves it out: the type of a sql filter (read
// from its column) that is otherwise the same. A document that leaves the
// types out then does not differ from the routes it made.
func serverFilled(o, r spec.Route) spec.Route {
	ob, rb := o.Backend, r.Backend
	if ob == nil || rb == nil || ob.SQLBackend == nil || rb.SQLBackend == nil || len(ob.Filters) != len(rb.Filters) {
		return r
	}
	var filters []spec.SQLFilter
	for i, f := range rb.Filters {
		if f.Type == "" && ob.Filters[i].Type != "" {
			if f.Type = ob.Filters[i].Type; f == ob.Filters[i] {
				if filters == nil {
					filters = append([]spec.SQLFilter(nil), rb.Filters...)
				}
				filters[i] = f
			}
		}
	}
	if filters == nil {
		return r
	}
	nb, sb := *rb, *rb.SQLBackend
	sb.Filters = filters
	nb.SQLBackend = &sb
	r.Backend = &nb
	return r
}

func (p *Plan) add(kind, name, action string, fields []string) {
	p.Changes = append(p.Changes, Change{Kind: kind, Name: name, Action: action, Fields: fields})
}

// String is the plan as a reviewer reads it: + create, ~ update, - delete.
func (p *Plan) String() string {
	var b strings.Builder
	for _, c := range p.Changes {
		mark := map[string]string{"create": "+", "update": "~", "delete": "-"}[c.Action]
		fmt.Fprintf(&b, "%s %s %s", mark, c.Kind, c.Name)
		if len(c.Fields) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(c.Fields, ", "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func indexBy[T any](items []T, key func(T) string) map[string]T {
	m := make(map[string]T, len(items))
	for _, it := range items {
		m[key(it)] = it
	}
	return m
}

// changedFields names the top-level JSON members that differ.
func changedFields(a, b any) []string {
	ma, mb := members(a), members(b)
	var out []string
	for k, va := range ma {
		if vb, ok := mb[k]; !ok || !jsonEqual(va, vb) {
			out = append(out, k)
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func members(v any) map[string]json.RawMessage {
	b, _ := json.Marshal(v)
	m := map[string]json.RawMessage{}
	_ = json.Unmarshal(b, &m)
	return m
}

// jsonEqual compares two JSON values by meaning (member order and spacing
// do not matter).
func jsonEqual(a, b json.RawMessage) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}
