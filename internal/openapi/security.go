package openapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/portico-gw/portico/internal/spec"
)

// security maps the security schemes to plugins and reads the document's
// own security requirement; placeAuth puts the plugins once the operations
// are known.
func (im *importer) security() {
	if c := im.doc.Components; c != nil {
		names := make([]string, 0, len(c.SecuritySchemes))
		for n := range c.SecuritySchemes {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			ref := c.SecuritySchemes[n]
			if ref == nil || ref.Value == nil {
				continue
			}
			if m, ok := im.scheme("/components/securitySchemes/"+escapePointer(n), ref.Value); ok {
				im.schemes[n] = m
			}
		}
	}
	im.global = im.requirement("/security", im.doc.Security)
}

// placeAuth puts the authentication plugins where Portico applies them:
// on the service when every operation asks for the same schemes, else on
// each route (a service's plugins run on all its routes, so an operation
// that asks for less could not be described otherwise).
func (im *importer) placeAuth(effective [][]string) {
	same := true
	for _, e := range effective {
		if !slices.Equal(e, im.global) {
			same = false
			break
		}
	}
	if same {
		for _, n := range im.global {
			im.apply(&im.res.Service.Plugins, "/components/securitySchemes/"+escapePointer(n), "service", im.schemes[n])
		}
		return
	}
	for i, names := range effective {
		r := &im.res.Service.Routes[i]
		for _, n := range names {
			im.apply(&r.Plugins, "/components/securitySchemes/"+escapePointer(n), "route:"+r.Name, im.schemes[n])
		}
	}
}

// scheme maps one security scheme to its plugin.
func (im *importer) scheme(ptr string, s *openapi3.SecurityScheme) (mapped, bool) {
	switch strings.ToLower(s.Type) {
	case "apikey":
		switch s.In {
		case "header":
			return mapped{"key-auth", mustJSON(map[string]string{"header": s.Name})}, true
		case "query":
			return mapped{"key-auth", mustJSON(map[string]string{"query": s.Name})}, true
		}
		im.warn(ptr, "an API key in a %s is not supported (key-auth reads a header or a query parameter); not mapped", s.In)
	case "http":
		switch strings.ToLower(s.Scheme) {
		case "basic":
			return mapped{"basic-auth", json.RawMessage(`{}`)}, true
		case "bearer":
			if f := strings.ToLower(s.BearerFormat); f != "" && f != "jwt" {
				im.warn(ptr, "bearer format %q is mapped to jwt-auth: callers must send JWTs", s.BearerFormat)
			}
			return mapped{"jwt-auth", json.RawMessage(`{}`)}, true
		}
		im.warn(ptr, "HTTP scheme %q is not supported; not mapped", s.Scheme)
	case "oauth2":
		if s.Flows != nil && s.Flows.ClientCredentials != nil {
			return mapped{"oauth2", json.RawMessage(`{}`)}, true
		}
		im.warn(ptr, "only the OAuth2 client credentials flow is supported (the gateway's POST /oauth2/token); not mapped")
	default:
		im.warn(ptr, "security scheme type %q is not supported; not mapped", s.Type)
	}
	return mapped{}, false
}

// requirement picks the first alternative of a security requirement list:
// Portico runs every authentication plugin of a route, it cannot offer a
// choice. It answers the scheme names, sorted.
func (im *importer) requirement(ptr string, reqs openapi3.SecurityRequirements) []string {
	if len(reqs) == 0 {
		return []string{}
	}
	if len(reqs) > 1 {
		im.warn(ptr, "only the first of %d alternative security requirements is enforced", len(reqs))
	}
	names := make([]string, 0, len(reqs[0]))
	for n := range reqs[0] {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// apply puts a mapped plugin where it belongs, or only reports it when the
// gateway does not know the plugin yet.
func (im *importer) apply(dst *spec.Plugins, source, scope string, m mapped) {
	if m.plugin == "" {
		return // the scheme was not mapped; warned already
	}
	known := im.opts.KnownPlugin(m.plugin)
	im.res.Plugins = append(im.res.Plugins, PluginMapping{Source: source, Plugin: m.plugin, Config: m.config, Scope: scope, Applied: known})
	if !known {
		im.warn(source, "maps to plugin %s, which this gateway does not run yet; left out until a re-import after it does", m.plugin)
		return
	}
	if *dst == nil {
		*dst = spec.Plugins{}
	}
	(*dst)[m.plugin] = m.config
}

// mockConfig is the mock plugin's configuration.
type mockConfig struct {
	Status  int               `json:"status,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// mock answers the operation with its documented success response: the
// first 2xx (else default, else the lowest code), its JSON media type if
// any, and its example.
func (im *importer) mock(r *spec.Route, ptr string, op *openapi3.Operation) {
	if op.Responses == nil || op.Responses.Len() == 0 {
		im.warn(ptr+"/responses", "no response to mock")
		return
	}
	codes := op.Responses.Keys()
	slices.SortFunc(codes, func(a, b string) int { return responseRank(a) - responseRank(b) })
	code := codes[0]
	ref := op.Responses.Value(code)
	cfg := mockConfig{Status: 200}
	if n, err := strconv.Atoi(code); err == nil {
		cfg.Status = n
	} else if len(code) == 3 && strings.HasSuffix(strings.ToUpper(code), "XX") && code[0] >= '1' && code[0] <= '5' {
		cfg.Status = int(code[0]-'0') * 100
	}
	rptr := ptr + "/responses/" + escapePointer(code)
	if ref != nil && ref.Value != nil && len(ref.Value.Content) > 0 {
		mts := make([]string, 0, len(ref.Value.Content))
		for mt := range ref.Value.Content {
			mts = append(mts, mt)
		}
		slices.SortFunc(mts, func(a, b string) int {
			if isJSON(a) != isJSON(b) {
				if isJSON(a) {
					return -1
				}
				return 1
			}
			return strings.Compare(a, b)
		})
		mt := mts[0]
		cfg.Headers = map[string]string{"Content-Type": mt}
		ex, ok := example(ref.Value.Content[mt])
		switch {
		case !ok:
			im.warn(rptr, "no example: the mock answers %d without a body", cfg.Status)
		case isJSON(mt):
			cfg.Body = mustJSON(ex)
		default:
			s, isStr := ex.(string)
			if !isStr {
				s = string(mustJSON(ex))
			}
			cfg.Body = mustJSON(s)
		}
	}
	im.apply(&r.Plugins, rptr, "route:"+r.Name, mapped{"mock", mustJSON(cfg)})
}

// responseRank orders response codes: 2xx first (lowest first), then
// default, then the others by code.
func responseRank(code string) int {
	switch {
	case strings.HasPrefix(code, "2"):
		n, err := strconv.Atoi(code)
		if err != nil {
			return 299
		}
		return n
	case code == "default":
		return 300
	}
	n, err := strconv.Atoi(code)
	if err != nil {
		return 1000
	}
	return 400 + n
}

func isJSON(mt string) bool {
	mt = strings.ToLower(strings.TrimSpace(strings.SplitN(mt, ";", 2)[0]))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// example finds a media type's example: example, the first of examples
// (by name), else the schema's.
func example(mt *openapi3.MediaType) (any, bool) {
	if mt == nil {
		return nil, false
	}
	if mt.Example != nil {
		return mt.Example, true
	}
	if len(mt.Examples) > 0 {
		names := make([]string, 0, len(mt.Examples))
		for n := range mt.Examples {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if e := mt.Examples[n]; e != nil && e.Value != nil && e.Value.Value != nil {
				return e.Value.Value, true
			}
		}
	}
	if mt.Schema != nil && mt.Schema.Value != nil {
		s := mt.Schema.Value
		if s.Example != nil {
			return s.Example, true
		}
		if len(s.Examples) > 0 {
			return s.Examples[0], true
		}
		if v := sample(s, 0); v != nil {
			return v, true
		}
	}
	return nil, false
}

// sample makes a value of a schema for a mock when the document gives no
// example: its example, default or first enum value, else a placeholder
// of its type, objects and arrays filled a few levels deep.
func sample(s *openapi3.Schema, depth int) any {
	if s == nil || depth > 6 {
		return nil
	}
	switch {
	case s.Example != nil:
		return s.Example
	case len(s.Examples) > 0:
		return s.Examples[0]
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Const != nil:
		return s.Const
	}
	for _, sub := range [][]*openapi3.SchemaRef{s.AllOf, s.OneOf, s.AnyOf} {
		if len(sub) > 0 && sub[0] != nil {
			if s.AllOf == nil || len(s.AllOf) == 1 {
				return sample(sub[0].Value, depth+1)
			}
		}
	}
	types := []string{}
	if s.Type != nil {
		types = s.Type.Slice()
	}
	typ := ""
	for _, t := range types {
		if t != "null" {
			typ = t
			break
		}
	}
	if typ == "" && len(s.Properties) > 0 {
		typ = "object"
	}
	switch typ {
	case "object":
		out := map[string]any{}
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if ref := s.Properties[n]; ref != nil {
				if v := sample(ref.Value, depth+1); v != nil {
					out[n] = v
				}
			}
		}
		return out
	case "array":
		if s.Items != nil {
			if v := sample(s.Items.Value, depth+1); v != nil {
				return []any{v}
			}
		}
		return []any{}
	case "string":
		switch s.Format {
		case "date":
			return "2024-01-01"
		case "date-time":
			return "2024-01-01T00:00:00Z"
		case "uuid":
			return "00000000-0000-0000-0000-000000000000"
		}
		return "string"
	case "integer":
		return 0
	case "number":
		return 0.0
	case "boolean":
		return false
	}
	return nil
}

// mustJSON marshals values built from decoded JSON, which always marshal.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(fmt.Sprintf("%q", fmt.Sprint(v)))
	}
	return b
}
