package openapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/spec"
)

// A route's design (spec.Parameter, ResponseExample, ErrorCode and the
// backend's constant parameters) and its stored operation (Route.OpenAPI)
// never say the same thing twice: the design is the one source of truth
// for what it can express, the stored operation keeps only the rest.
//   - Export writes the design into the operation: a declared parameter
//     replaces a stored one of the same name and in, declared body fields
//     make the request body (a JSON object schema), examples go into the
//     responses (the stored response of that status is kept, the example
//     added), error codes are x-portico-errors plus a response for each
//     status without one. Mappings and constants are Portico extensions
//     (x-portico-backend on a parameter, a body field's schema, or the
//     operation), written only with ExportOptions.Portico: they name the
//     backend's side.
//   - Import takes back exactly what an export of a design would have
//     written: a parameter, request body or example moves into the design
//     only when the design written again gives the same JSON, so import →
//     export → import is a fixpoint and nothing of a document is lost.
//     What the design cannot say ($ref parameters, styles, schemas with
//     more than a type) stays in the stored operation.
const (
	extBackend = "x-portico-backend" // on a parameter or body field: its mapping; on an operation: {"parameters": constants}
	extErrors  = "x-portico-errors"  // on an operation: the error-code table
)

const jsonMedia = "application/json"

// exportDesign merges the route's design into its operation. op is the
// route's own decoded operation: maps inside it that are changed are
// copied first (Derive may share them).
func exportDesign(op map[string]any, r *spec.Route, portico bool) {
	var body []*spec.Parameter
	var params []any
	declared := map[string]bool{}
	for i := range r.Parameters {
		p := &r.Parameters[i]
		if p.In == "body" {
			body = append(body, p)
			continue
		}
		params = append(params, parameterObject(p, portico))
		declared[p.In+"\x00"+p.Name] = true
	}
	if len(params) > 0 {
		stored, _ := op["parameters"].([]any)
		for _, s := range stored {
			m, _ := s.(map[string]any)
			in, _ := m["in"].(string)
			name, _ := m["name"].(string)
			if m != nil && declared[in+"\x00"+name] {
				continue // the declared one wins
			}
			params = append(params, s)
		}
		op["parameters"] = params
	}
	if len(body) > 0 {
		// Declared body fields are the JSON body: the stored request body
		// is replaced, not merged (two schemas of one body would disagree).
		op["requestBody"] = requestBodyObject(body, portico)
	}
	if portico && r.Backend != nil {
		if be := backendObject(r.Backend); be != nil {
			op[extBackend] = be
		}
		if r.IsComposite() {
			if c := compositeObject(r.Backend.Composite); c != nil {
				op[extComposite] = c
			}
		}
	}
	if len(r.Responses) == 0 && len(r.Errors) == 0 {
		return
	}
	stored, _ := op["responses"].(map[string]any)
	responses := make(map[string]any, len(stored)+len(r.Responses)+len(r.Errors))
	for k, v := range stored {
		responses[k] = v
	}
	for _, s := range exampleStatuses(r.Responses) {
		key := strconv.Itoa(s)
		resp := cloneAny(responses[key])
		desc := ""
		for _, x := range r.Responses {
			if x.Status == s && x.Description != "" && desc == "" {
				desc = x.Description
			}
		}
		if resp == nil {
			resp = map[string]any{"description": defaultDescription(s, r.Errors)}
		}
		if desc != "" {
			resp["description"] = desc
		}
		content := cloneAny(resp["content"])
		if content == nil {
			content = map[string]any{}
		}
		for _, x := range r.Responses {
			if x.Status != s {
				continue
			}
			ct := orJSON(x.ContentType)
			media := cloneAny(content[ct])
			if media == nil {
				media = map[string]any{}
			}
			media["example"] = rawValue(x.Example)
			content[ct] = media
		}
		resp["content"] = content
		responses[key] = resp
	}
	if len(r.Errors) > 0 {
		table := make([]any, len(r.Errors))
		for i, e := range r.Errors {
			table[i] = errorObject(e)
		}
		op[extErrors] = table
		for _, s := range errorStatuses(r.Errors) {
			if _, ok := responses[strconv.Itoa(s)]; !ok {
				responses[strconv.Itoa(s)] = map[string]any{"description": errorsDescription(s, r.Errors)}
			}
		}
	}
	op["responses"] = responses
}

// parameterObject is a declared parameter as an OpenAPI Parameter object.
func parameterObject(p *spec.Parameter, portico bool) map[string]any {
	m := map[string]any{"name": p.Name, "in": p.In, "schema": schemaOf(p)}
	if p.Required || p.In == "path" { // OpenAPI: a path parameter is required
		m["required"] = true
	}
	if p.Description != "" {
		m["description"] = p.Description
	}
	if portico && p.Backend != nil {
		m[extBackend] = targetObject(p.Backend)
	}
	return m
}

// schemaOf is a parameter's schema: its type and what limits its values.
func schemaOf(p *spec.Parameter) map[string]any {
	s := map[string]any{"type": p.TypeOf()}
	if p.TypeOf() == "array" {
		s["items"] = map[string]any{}
	}
	if p.Format != "" {
		s["format"] = p.Format
	}
	if len(p.Default) > 0 {
		s["default"] = rawValue(p.Default)
	}
	if len(p.Enum) > 0 {
		enum := make([]any, len(p.Enum))
		for i, v := range p.Enum {
			enum[i] = rawValue(v)
		}
		s["enum"] = enum
	}
	return s
}

func targetObject(t *spec.ParameterTarget) map[string]any {
	m := map[string]any{"in": t.In}
	if t.Name != "" {
		m["name"] = t.Name
	}
	if t.Pointer != "" {
		m["pointer"] = t.Pointer
	}
	if t.Keep {
		m["keep"] = true
	}
	return m
}

// backendExt is the backend step of a route's design as an operation's
// x-portico-backend says it: where the backend request goes, and the
// constants it always gets. The other backend fields (type, retries)
// are not the document's to say.
type backendExt struct {
	Path       string                `json:"path,omitempty"`
	Method     string                `json:"method,omitempty"`
	Timeout    *spec.Timeout         `json:"timeout,omitempty"`
	Parameters []spec.ConstParameter `json:"parameters,omitempty"`
}

// backendObject is be's x-portico-backend; nil when it has none of it.
func backendObject(be *spec.Backend) map[string]any {
	x := backendExt{Path: be.Path, Method: be.Method, Timeout: be.Timeout, Parameters: be.Parameters}
	if x.Path == "" && x.Method == "" && x.Timeout == nil && len(x.Parameters) == 0 {
		return nil
	}
	b, err := json.Marshal(x)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

func constObject(c spec.ConstParameter) map[string]any {
	m := map[string]any{"in": c.In, "value": rawValue(c.Value)}
	if c.Name != "" {
		m["name"] = c.Name
	}
	if c.Pointer != "" {
		m["pointer"] = c.Pointer
	}
	return m
}

func errorObject(e spec.ErrorCode) map[string]any {
	m := map[string]any{"code": e.Code, "status": e.Status, "message": e.Message}
	if e.Description != "" {
		m["description"] = e.Description
	}
	return m
}

// requestBodyObject is the JSON request body the declared body fields
// make: an object schema, each pointer a path of properties.
func requestBodyObject(body []*spec.Parameter, portico bool) map[string]any {
	root := map[string]any{"type": "object", "properties": map[string]any{}}
	required := false
	for _, p := range body {
		toks, err := spec.ParsePointer(p.BodyPointer())
		if err != nil {
			continue // validation refuses it before anything is exported
		}
		node := root
		for _, tok := range toks[:len(toks)-1] {
			props := node["properties"].(map[string]any)
			child, _ := props[tok].(map[string]any)
			if child == nil || child["properties"] == nil {
				child = map[string]any{"type": "object", "properties": map[string]any{}}
				props[tok] = child
			}
			if p.Required {
				addRequired(node, tok)
			}
			node = child
		}
		leaf := schemaOf(p)
		if p.Description != "" {
			leaf["description"] = p.Description
		}
		if portico && p.Backend != nil {
			leaf[extBackend] = targetObject(p.Backend)
		}
		last := toks[len(toks)-1]
		node["properties"].(map[string]any)[last] = leaf
		if p.Required {
			addRequired(node, last)
			required = true
		}
	}
	rb := map[string]any{"content": map[string]any{jsonMedia: map[string]any{"schema": root}}}
	if required {
		rb["required"] = true
	}
	return rb
}

// addRequired adds name to an object schema's required list, kept sorted
// so that the list does not depend on the fields' order.
func addRequired(node map[string]any, name string) {
	list, _ := node["required"].([]any)
	for _, x := range list {
		if x == name {
			return
		}
	}
	list = append(list, name)
	sort.Slice(list, func(i, j int) bool { return list[i].(string) < list[j].(string) })
	node["required"] = list
}

func exampleStatuses(rs []spec.ResponseExample) []int {
	var out []int
	for _, x := range rs {
		if !slices.Contains(out, x.Status) {
			out = append(out, x.Status)
		}
	}
	return out
}

func errorStatuses(es []spec.ErrorCode) []int {
	var out []int
	for _, e := range es {
		if !slices.Contains(out, e.Status) {
			out = append(out, e.Status)
		}
	}
	sort.Ints(out)
	return out
}

// errorsDescription describes a status by the error codes it carries.
func errorsDescription(status int, es []spec.ErrorCode) string {
	var parts []string
	for _, e := range es {
		if e.Status == status {
			parts = append(parts, e.Code+": "+e.Message)
		}
	}
	return strings.Join(parts, "; ")
}

// defaultDescription is the description an example's new response gets.
func defaultDescription(status int, es []spec.ErrorCode) string {
	if d := errorsDescription(status, es); d != "" {
		return d
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "Status " + strconv.Itoa(status)
}

func orJSON(ct string) string {
	if ct == "" {
		return jsonMedia
	}
	return ct
}

// rawValue is a JSON value for a document that is marshalled again.
func rawValue(v json.RawMessage) any {
	var out any
	if json.Unmarshal(v, &out) != nil {
		return nil
	}
	return out
}

// cloneAny copies a JSON object one level deep; nil when v is not one.
func cloneAny(v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return cloneMap(m)
}

// sameValue compares two JSON-shaped values as JSON.
func sameValue(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var u, v any
	if json.Unmarshal(x, &u) != nil || json.Unmarshal(y, &v) != nil {
		return false
	}
	return reflect.DeepEqual(u, v)
}
