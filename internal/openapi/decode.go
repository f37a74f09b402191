package openapi

import (
	"encoding/json"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// decodeDocument decodes an OpenAPI 3.x document (JSON) into kin-openapi's
// types, giving what json.Unmarshal(js, &openapi3.T{}) gives, faster.
//
// kin-openapi's UnmarshalJSON methods each decode their object twice, once
// for the fields and once more, whole, into a map for the extensions; the
// document's and the components' and paths' objects so decode all they
// hold again (GitHub's 13 MB description about three times over). Here
// those three outer objects are split into their members once and each
// component, path item and extension is decoded on its own with
// kin-openapi's methods, spread over GOMAXPROCS goroutines: the members
// are independent. The outer objects' other members (info, servers, tags,
// …) still go through kin-openapi's own decoding.
//
// Whatever this split cannot give exactly as json.Unmarshal would (a
// member name differing from a field's only in case, a section that is
// not an object, a member that does not decode) is decoded the plain way,
// so an error names what it always named. top is js split by
// objectMembers, when the caller has it, or nil.
func decodeDocument(js []byte, top map[string]json.RawMessage) (*openapi3.T, error) {
	if doc, ok := decodeSplit(js, top); ok {
		return doc, nil
	}
	doc := &openapi3.T{}
	if err := json.Unmarshal(js, doc); err != nil {
		return nil, decodeError(err)
	}
	return doc, nil
}

// The JSON names of the fields of openapi3.T and openapi3.Components
// (json.Unmarshal matches a member to a field ignoring case).
var (
	documentFields   = []string{"openapi", "components", "info", "paths", "security", "servers", "tags", "externalDocs", "webhooks", "jsonSchemaDialect"}
	componentsFields = []string{"schemas", "parameters", "headers", "requestBodies", "responses", "securitySchemes", "examples", "links", "callbacks"}
)

// decodeSplit is decodeDocument's fast way; false: decode the plain way.
// top is js split by objectMembers, or nil.
func decodeSplit(js []byte, top map[string]json.RawMessage) (*openapi3.T, bool) {
	if top == nil {
		var ok bool
		if top, ok = objectMembers(js); !ok {
			return nil, false
		}
	}
	var jobs decodeJobs
	rest, ext, ok := splitObject(top, documentFields, []string{"components", "paths"}, &jobs)
	if !ok {
		return nil, false
	}
	var components *openapi3.Components
	if raw, ok := top["components"]; ok {
		if components = splitComponents(raw, &jobs); components == nil {
			return nil, false
		}
	}
	var paths *openapi3.Paths
	var setPaths func()
	if raw, ok := top["paths"]; ok {
		if paths, setPaths = splitPaths(raw, &jobs); paths == nil {
			return nil, false
		}
	}
	if !jobs.run() {
		return nil, false
	}
	doc := &openapi3.T{}
	if b, err := json.Marshal(rest); err != nil || doc.UnmarshalJSON(b) != nil {
		return nil, false
	}
	doc.Components, doc.Paths = components, paths
	if setPaths != nil {
		setPaths()
	}
	doc.Extensions = mergeExtensions(doc.Extensions, ext)
	return doc, true
}

// splitObject sorts an object's members: those named like one of fields
// (ignoring case, as json.Unmarshal does) but not in split are returned in
// rest, for the type's own decoding; the others are extensions, decoded by
// jobs into ext. It answers false for a member json.Unmarshal would give
// to a split field without its exact name, and for members whose names
// differ only in case (json.Unmarshal keeps the one last in the document,
// which a map no longer says).
func splitObject(obj map[string]json.RawMessage, fields, split []string, jobs *decodeJobs) (rest map[string]json.RawMessage, ext map[string]*any, ok bool) {
	rest, ext = map[string]json.RawMessage{}, map[string]*any{}
	folded := make(map[string]bool, len(obj))
	for k, raw := range obj {
		lower := strings.ToLower(k)
		if folded[lower] {
			return nil, nil, false
		}
		folded[lower] = true
		field := ""
		for _, f := range fields {
			if strings.EqualFold(k, f) {
				field = f
				break
			}
		}
		switch {
		case field == "":
			v := new(any)
			ext[k] = v
			jobs.add(func() error { return json.Unmarshal(raw, v) })
		case contains(split, field):
			if k != field || !isObject(raw) {
				return nil, nil, false
			}
		default:
			rest[k] = raw
		}
	}
	return rest, ext, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isObject(raw json.RawMessage) bool {
	return len(raw) > 0 && raw[0] == '{'
}

// mergeExtensions adds the separately decoded extensions to those the
// type's own decoding found (members named like a field but for case);
// nil when there are none, as kin-openapi leaves it.
func mergeExtensions(into map[string]any, ext map[string]*any) map[string]any {
	if len(ext) == 0 {
		return into
	}
	if into == nil {
		into = make(map[string]any, len(ext))
	}
	for k, v := range ext {
		into[k] = *v
	}
	return into
}

// splitComponents decodes the components object: each member of each
// section on its own (jobs), the rest by kin-openapi. nil: it cannot.
func splitComponents(raw json.RawMessage, jobs *decodeJobs) *openapi3.Components {
	obj, ok := objectMembers(raw)
	if !ok {
		return nil
	}
	// Sections that are not objects (null, or wrong) are left to
	// kin-openapi with the rest.
	var sections []string
	for _, f := range componentsFields {
		if isObject(obj[f]) {
			sections = append(sections, f)
		}
	}
	rest, ext, ok := splitObject(obj, componentsFields, sections, jobs)
	if !ok {
		return nil
	}
	c := &openapi3.Components{}
	var fill []func() bool
	for _, s := range sections {
		var f func() bool
		switch s {
		case "schemas":
			f = splitMap(obj[s], jobs, true, func(m map[string]*openapi3.SchemaRef) { c.Schemas = m })
		case "parameters":
			f = splitMap(obj[s], jobs, true, func(m map[string]*openapi3.ParameterRef) { c.Parameters = m })
		case "headers":
			f = splitMap(obj[s], jobs, true, func(m map[string]*openapi3.HeaderRef) { c.Headers = m })
		case "requestBodies":
			f = splitMap(obj[s], jobs, true, func(m map[string]*openapi3.RequestBodyRef) { c.RequestBodies = m })
		case "responses":
			f = splitMap(obj[s], jobs, true, func(m map[string]*openapi3.ResponseRef) { c.Responses = m })
		case "securitySchemes":
			f = splitMap(obj[s], jobs, false, func(m map[string]*openapi3.SecuritySchemeRef) { c.SecuritySchemes = m })
		case "examples":
			f = splitMap(obj[s], jobs, false, func(m map[string]*openapi3.ExampleRef) { c.Examples = m })
		case "links":
			f = splitMap(obj[s], jobs, false, func(m map[string]*openapi3.LinkRef) { c.Links = m })
		case "callbacks":
			f = splitMap(obj[s], jobs, false, func(m map[string]*openapi3.CallbackRef) { c.Callbacks = m })
		}
		if f == nil {
			return nil
		}
		fill = append(fill, f)
	}
	// The rest and the sections are put together once the jobs have run.
	jobs.after(func() bool {
		b, err := json.Marshal(rest)
		if err != nil || c.UnmarshalJSON(b) != nil {
			return false
		}
		for _, f := range fill {
			if !f() {
				return false
			}
		}
		c.Extensions = mergeExtensions(c.Extensions, ext)
		return true
	})
	return c
}

// splitMap decodes each member of a JSON object into a *V (null into nil,
// as json.Unmarshal does for a map of pointers), as jobs; the function it
// answers hands the map to set once they have run.
func splitMap[V any, PV interface {
	*V
	json.Unmarshaler
}](raw json.RawMessage, jobs *decodeJobs, hoist bool, set func(map[string]*V)) func() bool {
	obj, ok := objectMembers(raw)
	if !ok {
		return nil
	}
	values := make(map[string]**V, len(obj))
	for k, member := range obj {
		v := new(*V)
		values[k] = v
		if string(member) == "null" {
			continue
		}
		jobs.add(func() error {
			// What json.Unmarshal calls, without its own scan of member.
			*v = new(V)
			if hoist && decodeHoisted(PV(*v), member) == nil {
				return nil
			}
			*v = new(V)
			return PV(*v).UnmarshalJSON(member)
		})
	}
	return func() bool {
		m := make(map[string]*V, len(values))
		for k, v := range values {
			m[k] = *v
		}
		set(m)
		return true
	}
}

// splitPaths decodes the paths object as openapi3.Paths.UnmarshalJSON
// does (x- members are extensions, every other member a path item, null
// an empty one), each path item on its own (jobs) and from the document's
// bytes rather than re-encoded. The function it answers fills the paths
// once the jobs have run.
func splitPaths(raw json.RawMessage, jobs *decodeJobs) (*openapi3.Paths, func()) {
	obj, ok := objectMembers(raw)
	if !ok {
		return nil, nil
	}
	paths := openapi3.NewPathsWithCapacity(len(obj))
	paths.Extensions = map[string]any{}
	ext := map[string]*any{}
	items := map[string]*openapi3.PathItem{}
	for k, member := range obj {
		if strings.HasPrefix(k, "x-") {
			v := new(any)
			ext[k] = v
			jobs.add(func() error { return json.Unmarshal(member, v) })
			continue
		}
		item := &openapi3.PathItem{}
		items[k] = item
		jobs.add(func() error {
			if decodeHoisted(item, member) == nil {
				return nil
			}
			*item = openapi3.PathItem{}
			return item.UnmarshalJSON(member)
		})
	}
	return paths, func() {
		for k, item := range items {
			paths.Set(k, item)
		}
		for k, v := range ext {
			paths.Extensions[k] = *v
		}
	}
}

// decodeJobs are independent decodings, run in parallel, then the steps
// that put their results together.
type decodeJobs struct {
	list  []func() error
	steps []func() bool
}

func (j *decodeJobs) add(f func() error) { j.list = append(j.list, f) }

func (j *decodeJobs) after(f func() bool) { j.steps = append(j.steps, f) }

// run runs the jobs, then the steps; false when any failed (the plain
// decoding then says why).
func (j *decodeJobs) run() bool {
	if parallel(len(j.list), func(i int) error { return j.list[i]() }) != nil {
		return false
	}
	for _, f := range j.steps {
		if !f() {
			return false
		}
	}
	return true
}
