package openapi

// Import of a route's design: the parameters, body fields and examples an
// imported operation declares become the route's own when writing them
// back gives the same JSON (params.go says why).
import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/portico-gw/portico/internal/spec"
)

// design takes the route's design out of its stored operation (see the
// comment at the top of this file) and keeps the rest as the operation.
// op is r.OpenAPI decoded; design may change it.
func (im *importer) design(r *spec.Route, ptr string, op map[string]any) error {
	changed := false
	if ext, ok := op[extBackend]; ok {
		var x backendExt
		b, _ := json.Marshal(ext)
		err := strictJSON(b, &x)
		be := &spec.Backend{Path: x.Path, Method: x.Method, Timeout: x.Timeout, Parameters: x.Parameters}
		if err == nil {
			// Paths must hold the backend path's parameters: checked with
			// the route's own.
			err = (&spec.Route{Name: "probe", Paths: r.Paths, Backend: be}).Validate()
		}
		if err != nil || backendObject(be) == nil {
			im.warn(ptr+"/"+extBackend, "is not a valid backend (path, method, timeout, parameters); ignored")
		} else {
			r.Backend = be
		}
		delete(op, extBackend)
		changed = true
	}
	if ext, ok := op[extComposite]; ok {
		if err := takeComposite(r, ptr, ext); err != nil {
			return err
		}
		if sameValue(op["responses"], compositeResponses()) {
			delete(op, "responses") // what the export writes for a composite route
		}
		delete(op, extComposite)
		changed = true
	}
	if im.takeParameters(r, op) {
		changed = true
	}
	if im.takeBody(r, op) {
		changed = true
	}
	if ext, ok := op[extErrors]; ok {
		var es []spec.ErrorCode
		b, _ := json.Marshal(ext)
		probe := spec.Route{Name: "probe"}
		if err := strictJSON(b, &es); err == nil {
			probe.Errors = es
		}
		if err := probe.Validate(); err != nil || len(es) == 0 {
			im.warn(ptr+"/"+extErrors, "is not a valid error-code table; ignored (%v)", err)
		} else {
			r.Errors = es
		}
		delete(op, extErrors)
		changed = true
	}
	if takeExamples(r, op) {
		changed = true
	}
	if !changed {
		return nil
	}
	frag, err := json.Marshal(op)
	if err != nil {
		return fmt.Errorf("openapi: operation %s: %w", ptr, err)
	}
	r.OpenAPI = frag
	return nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// takeParameters moves the operation's parameters a declared parameter
// describes exactly into the route's design.
func (im *importer) takeParameters(r *spec.Route, op map[string]any) bool {
	list, _ := op["parameters"].([]any)
	if len(list) == 0 {
		return false
	}
	var keep []any
	for _, x := range list {
		m, _ := x.(map[string]any)
		p, ok := declaredParameter(m, r)
		if !ok || len(r.Parameters) >= spec.MaxRouteParameters {
			keep = append(keep, x)
			continue
		}
		r.Parameters = append(r.Parameters, p)
	}
	if len(keep) == len(list) {
		return false
	}
	if len(keep) == 0 {
		delete(op, "parameters")
	} else {
		op["parameters"] = keep
	}
	return true
}

// declaredParameter reads a Parameter object as a declared parameter; ok
// only when writing it again gives the same object and the route takes it.
func declaredParameter(m map[string]any, r *spec.Route) (spec.Parameter, bool) {
	if m == nil {
		return spec.Parameter{}, false
	}
	var p spec.Parameter
	p.Name, _ = m["name"].(string)
	p.In, _ = m["in"].(string)
	if p.In == "body" || p.In == "" {
		return p, false
	}
	p.Required, _ = m["required"].(bool)
	p.Description, _ = m["description"].(string)
	schema, _ := m["schema"].(map[string]any)
	if !readSchema(&p, schema) {
		return p, false
	}
	if t, ok := m[extBackend]; ok && !readTarget(&p, t) {
		return p, false
	}
	if !sameValue(parameterObject(&p, true), m) {
		return p, false
	}
	return p, acceptable(r, p)
}

// acceptable reports whether the route, with p added, is still valid in
// what p touches (a parameter the design cannot hold stays in the stored
// operation instead of failing the import).
func acceptable(r *spec.Route, p spec.Parameter) bool {
	probe := spec.Route{Name: "probe", Paths: r.Paths, Backend: r.Backend, Parameters: append(slices.Clip(r.Parameters), p)}
	return probe.Validate() == nil
}

// readSchema reads type, format, default and enum from a parameter's
// schema (anything else fails the exact comparison afterwards).
func readSchema(p *spec.Parameter, s map[string]any) bool {
	if s == nil {
		return false
	}
	typ, _ := s["type"].(string)
	if !slices.Contains(spec.ParameterTypes, typ) {
		return false
	}
	if typ != "string" {
		p.Type = typ
	}
	p.Format, _ = s["format"].(string)
	if d, ok := s["default"]; ok {
		b, err := json.Marshal(d)
		if err != nil {
			return false
		}
		p.Default = b
	}
	if e, ok := s["enum"].([]any); ok {
		for _, v := range e {
			b, err := json.Marshal(v)
			if err != nil {
				return false
			}
			p.Enum = append(p.Enum, b)
		}
	}
	if d, ok := s["description"].(string); ok && p.In == "body" {
		p.Description = d
	}
	return true
}

func readTarget(p *spec.Parameter, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	var t spec.ParameterTarget
	if strictJSON(b, &t) != nil {
		return false
	}
	p.Backend = &t
	return true
}

// takeBody moves a JSON request body that declared body fields describe
// exactly into the route's design.
func (im *importer) takeBody(r *spec.Route, op map[string]any) bool {
	rb, _ := op["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	media, _ := content[jsonMedia].(map[string]any)
	root, _ := media["schema"].(map[string]any)
	if root == nil || root["type"] != "object" {
		return false
	}
	var fields []spec.Parameter
	if !bodyFields(root, "", &fields) || len(fields) == 0 || len(r.Parameters)+len(fields) > spec.MaxRouteParameters {
		return false
	}
	ptrs := make([]*spec.Parameter, len(fields))
	for i := range fields {
		ptrs[i] = &fields[i]
	}
	if !sameValue(requestBodyObject(ptrs, true), rb) {
		return false
	}
	probe := spec.Route{Name: "probe", Paths: r.Paths, Backend: r.Backend, Parameters: append(slices.Clip(r.Parameters), fields...)}
	if probe.Validate() != nil {
		return false
	}
	r.Parameters = append(r.Parameters, fields...)
	delete(op, "requestBody")
	return true
}

// bodyFields walks an object schema's properties in name order: an object
// with properties is walked into, anything else is a field. required
// says whether the field is in its parent's required list; the exact
// comparison afterwards refuses what this reading cannot say.
func bodyFields(node map[string]any, prefix string, out *[]spec.Parameter) bool {
	props, ok := node["properties"].(map[string]any)
	if !ok || len(*out) > spec.MaxRouteParameters {
		return false
	}
	req, _ := node["required"].([]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		child, _ := props[name].(map[string]any)
		if child == nil {
			return false
		}
		ptr := prefix + "/" + spec.EscapePointerToken(name)
		if _, nested := child["properties"]; nested {
			if !bodyFields(child, ptr, out) {
				return false
			}
			continue
		}
		p := spec.Parameter{Name: name, In: "body", Required: slices.Contains(req, any(name))}
		if ptr != "/"+spec.EscapePointerToken(name) {
			p.Pointer = ptr
		}
		if !readSchema(&p, child) {
			return false
		}
		if t, ok := child[extBackend]; ok && !readTarget(&p, t) {
			return false
		}
		*out = append(*out, p)
	}
	return true
}

// takeExamples moves the responses' examples into the route's design,
// and drops the responses an export makes from the design alone.
func takeExamples(r *spec.Route, op map[string]any) bool {
	responses, _ := op["responses"].(map[string]any)
	if len(responses) == 0 {
		return false
	}
	changed := false
	keys := make([]string, 0, len(responses))
	for k := range responses {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		status, err := strconv.Atoi(k)
		if err != nil || status < 100 || status > 599 || len(r.Responses) >= spec.MaxResponseExamples {
			continue
		}
		resp, _ := responses[k].(map[string]any)
		content, _ := resp["content"].(map[string]any)
		first := len(r.Responses)
		var taken []string
		cts := make([]string, 0, len(content))
		for ct := range content {
			cts = append(cts, ct)
		}
		sort.Strings(cts)
		for _, ct := range cts {
			media, _ := content[ct].(map[string]any)
			ex, ok := media["example"]
			if !ok || ex == nil {
				continue
			}
			b, err := json.Marshal(ex)
			if err != nil || len(b) > 64<<10 {
				continue
			}
			x := spec.ResponseExample{Status: status, Example: b}
			if ct != jsonMedia {
				x.ContentType = ct
			}
			probe := spec.Route{Name: "probe", Responses: append(slices.Clip(r.Responses), x)}
			if probe.Validate() != nil {
				continue
			}
			r.Responses = append(r.Responses, x)
			taken = append(taken, ct)
		}
		if len(taken) == 0 {
			continue
		}
		changed = true
		resp = cloneMap(resp)
		content = cloneMap(content)
		for _, ct := range taken {
			media := cloneMap(content[ct].(map[string]any))
			delete(media, "example")
			if len(media) == 0 {
				delete(content, ct)
			} else {
				content[ct] = media
			}
		}
		if len(content) == 0 {
			delete(resp, "content")
		} else {
			resp["content"] = content
		}
		desc, _ := resp["description"].(string)
		if _, only := resp["description"]; only && len(resp) == 1 {
			// Nothing but the description: the export makes it again.
			delete(responses, k)
			if desc != defaultDescription(status, r.Errors) {
				r.Responses[first].Description = desc
			}
			continue
		}
		responses[k] = resp
	}
	for _, s := range errorStatuses(r.Errors) {
		k := strconv.Itoa(s)
		if sameValue(responses[k], map[string]any{"description": errorsDescription(s, r.Errors)}) {
			delete(responses, k)
			changed = true
		}
	}
	if changed && len(responses) == 0 {
		delete(op, "responses")
	}
	return changed
}
