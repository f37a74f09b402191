package openapi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/portico-gw/portico/internal/spec"
)

// Server is one entry of an exported document's servers.
type Server struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
}

// ExportOptions tunes Export.
type ExportOptions struct {
	// Servers are where the gateway serves the service (group prefix +
	// service path); none: the service path alone.
	Servers []Server
	// Version, when set, is info.version (a published version's export).
	Version string
	// Portico writes the x-portico-* extensions (service path, inline
	// upstream, wildcard paths, offline routes) so that a re-import
	// restores the service exactly. Leave it off for documents shown to
	// API consumers: the upstream is the backend's address.
	Portico bool
	// Derive, when set, gives the operation parts a route's backend
	// defines (a generated data API's parameters and response schema);
	// what the stored operation says wins.
	Derive func(*spec.Route) map[string]any
}

// exportMethods are the operations a route without methods (any method)
// is described by.
var exportMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// Export writes the OpenAPI 3.1 description of a service and its routes
// (svc.Routes) as a JSON-ready value: the stored document fragment with
// info, servers and paths from what Portico serves.
func Export(svc *spec.Service, opts ExportOptions) (map[string]any, error) {
	doc := map[string]any{}
	if len(svc.OpenAPI) > 0 {
		if err := json.Unmarshal(svc.OpenAPI, &doc); err != nil {
			return nil, fmt.Errorf("openapi: service %q: stored document: %w", svc.Name, err)
		}
	}
	doc["openapi"] = Version
	info, _ := doc["info"].(map[string]any)
	if info == nil {
		info = map[string]any{}
	}
	if t, _ := info["title"].(string); t == "" || serviceName(t) != svc.Name {
		info["title"] = svc.Name
	}
	if svc.Description != "" {
		info["description"] = svc.Description
	} else {
		delete(info, "description")
	}
	if opts.Version != "" {
		info["version"] = opts.Version
	} else if v, _ := info["version"].(string); v == "" {
		info["version"] = "1.0.0"
	}
	doc["info"] = info
	servers := opts.Servers
	if len(servers) == 0 {
		servers = []Server{{URL: orSlash(strings.TrimRight(svc.EffectivePath(), "/")), Description: "the service path (not published yet)"}}
	}
	doc["servers"] = servers
	if opts.Portico {
		if svc.Path != "" {
			doc[extServicePath] = svc.Path
		}
		if svc.Upstream != nil {
			doc[extUpstream] = stripUpstream(svc.Upstream)
		}
	}
	exportSecurity(doc, svc.Plugins)
	paths := map[string]any{}
	usedIDs := map[string]bool{}
	for i := range svc.Routes {
		r := &svc.Routes[i]
		if !r.IsOnline() && !opts.Portico {
			continue // not served
		}
		if err := exportRoute(paths, usedIDs, r, opts, paramNames(doc)); err != nil {
			return nil, fmt.Errorf("openapi: service %q: %w", svc.Name, err)
		}
	}
	doc["paths"] = paths
	return doc, nil
}

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

var routeParam = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}|^:([A-Za-z_][A-Za-z0-9_]*)$`)

// openAPIPath turns a route path into an OpenAPI path template: :param is
// {param}; a trailing wildcard is a {path} parameter (OpenAPI has no
// multi-segment parameter, hence x-portico-path). It answers the template,
// its parameter names, and whether it is exact.
func openAPIPath(p string) (string, []string, bool) {
	segs := strings.Split(p, "/")
	var params []string
	exact := true
	for i, s := range segs {
		switch {
		case strings.HasSuffix(s, "*"):
			exact = false
			name := "path"
			if pre := strings.TrimSuffix(s, "*"); pre != "" {
				name = "rest"
				segs[i] = pre + "{" + name + "}"
			} else {
				segs[i] = "{" + name + "}"
			}
			params = append(params, name)
		case strings.HasPrefix(s, ":"):
			exact = false
			params = append(params, s[1:])
			segs[i] = "{" + s[1:] + "}"
		default:
			for _, m := range routeParam.FindAllStringSubmatch(s, -1) {
				params = append(params, m[1])
			}
		}
	}
	return strings.Join(segs, "/"), params, exact
}

// paramNames maps "#/components/parameters/X" to the name of parameter X.
func paramNames(doc map[string]any) map[string]string {
	out := map[string]string{}
	comps, _ := doc["components"].(map[string]any)
	params, _ := comps["parameters"].(map[string]any)
	for k, v := range params {
		if m, ok := v.(map[string]any); ok && m["in"] == "path" {
			n, _ := m["name"].(string)
			out["#/components/parameters/"+escapePointer(k)] = n
		}
	}
	return out
}

func exportRoute(paths map[string]any, usedIDs map[string]bool, r *spec.Route, opts ExportOptions, refs map[string]string) error {
	portico := opts.Portico
	base := map[string]any{}
	if len(r.OpenAPI) > 0 {
		if err := json.Unmarshal(r.OpenAPI, &base); err != nil {
			return fmt.Errorf("route %q: stored operation: %w", r.Name, err)
		}
	}
	if opts.Derive != nil {
		for k, v := range opts.Derive(r) {
			if _, set := base[k]; !set {
				base[k] = v
			}
		}
	}
	exportDesign(base, r, portico)
	opID, _ := base["operationId"].(string)
	// An operation without operationId keeps none when its method and
	// path give the route's name anyway: a re-import then sees the same.
	derived := opID == "" && len(r.Paths) == 1 && len(r.Methods) == 1 && RouteName("", r.Methods[0], r.Paths[0]) == r.Name
	if !derived && (opID == "" || RouteName(opID, "", "") != r.Name) {
		opID = r.Name
	}
	rpaths := r.Paths
	if len(rpaths) == 0 {
		rpaths = []string{"/" + r.Name}
	}
	methods := r.Methods
	if len(methods) == 0 {
		methods = exportMethods
	}
	n := 0
	for _, rp := range rpaths {
		tmpl, params, exact := openAPIPath(rp)
		item, _ := paths[tmpl].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[tmpl] = item
		}
		for _, m := range methods {
			op := cloneMap(base)
			n++
			id := opID
			if n > 1 {
				id = fmt.Sprintf("%s_%d", opID, n)
			}
			for usedIDs[id] {
				id += "_"
			}
			usedIDs[id] = true
			if !derived {
				op["operationId"] = id
			}
			if desc := describe(op); r.Description != desc {
				op["summary"] = r.Description
				if r.Description == "" {
					delete(op, "summary")
				}
			}
			addPathParams(op, params, refs)
			if _, ok := op["responses"]; !ok {
				if r.IsComposite() {
					op["responses"] = compositeResponses()
				} else {
					op["responses"] = map[string]any{"default": map[string]any{"description": defaultResponseDescription}}
				}
			}
			if portico && !exact {
				op[extPath] = rp
			}
			if portico && !r.IsOnline() {
				op[extOffline] = true
			}
			item[strings.ToLower(m)] = op
		}
	}
	return nil
}

// describe is the route description an import derives from an operation.
func describe(op map[string]any) string {
	if s, _ := op["summary"].(string); s != "" {
		return s
	}
	s, _ := op["description"].(string)
	return s
}

// addPathParams declares the path template's parameters the operation
// does not: a valid document declares every one.
func addPathParams(op map[string]any, names []string, refs map[string]string) {
	if len(names) == 0 {
		return
	}
	list, _ := op["parameters"].([]any)
	have := map[string]bool{}
	for _, p := range list {
		m, _ := p.(map[string]any)
		if ref, _ := m["$ref"].(string); ref != "" {
			have[refs[ref]] = true
		} else if m["in"] == "path" {
			n, _ := m["name"].(string)
			have[n] = true
		}
	}
	for _, n := range names {
		if !have[n] {
			list = append(list, map[string]any{"name": n, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
	}
	op["parameters"] = list
}

// exportSecurity describes authentication plugins of the service that the
// stored document's own security does not, so the document says how to
// call what the gateway serves.
func exportSecurity(doc map[string]any, plugins spec.Plugins) {
	covered := map[string]bool{}
	comps, _ := doc["components"].(map[string]any)
	schemes, _ := comps["securitySchemes"].(map[string]any)
	sec, _ := doc["security"].([]any)
	if len(sec) > 0 {
		if first, ok := sec[0].(map[string]any); ok {
			for name := range first {
				if s, ok := schemes[name].(map[string]any); ok {
					covered[pluginOf(s)] = true
				}
			}
		}
	}
	var add []string
	for _, p := range AuthPlugins {
		if _, on := plugins[p]; on && !covered[p] {
			add = append(add, p)
		}
	}
	if len(add) == 0 {
		return
	}
	if comps == nil {
		comps = map[string]any{}
		doc["components"] = comps
	}
	if schemes == nil {
		schemes = map[string]any{}
		comps["securitySchemes"] = schemes
	}
	var req map[string]any
	if len(sec) > 0 {
		req, _ = sec[0].(map[string]any)
	}
	if req == nil {
		req = map[string]any{}
		sec = append([]any{req}, sec...)
	}
	for _, p := range add {
		schemes[p] = schemeOf(p, plugins[p])
		req[p] = []any{}
	}
	doc["security"] = sec
}

func pluginOf(s map[string]any) string {
	switch t, _ := s["type"].(string); strings.ToLower(t) {
	case "apikey":
		return "key-auth"
	case "http":
		if sc, _ := s["scheme"].(string); strings.EqualFold(sc, "basic") {
			return "basic-auth"
		}
		return "jwt-auth"
	case "oauth2":
		return "oauth2"
	}
	return ""
}

func schemeOf(plugin string, raw json.RawMessage) map[string]any {
	switch plugin {
	case "key-auth":
		var cfg struct{ Header, Query string }
		_ = json.Unmarshal(raw, &cfg) // a bad config falls back to the default header
		if cfg.Header == "" && cfg.Query != "" {
			return map[string]any{"type": "apiKey", "in": "query", "name": cfg.Query}
		}
		if cfg.Header == "" {
			cfg.Header = "apikey"
		}
		return map[string]any{"type": "apiKey", "in": "header", "name": cfg.Header}
	case "basic-auth":
		return map[string]any{"type": "http", "scheme": "basic"}
	case "jwt-auth":
		return map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
	default: // oauth2
		return map[string]any{"type": "oauth2", "flows": map[string]any{
			"clientCredentials": map[string]any{"tokenUrl": "/oauth2/token", "scopes": map[string]any{}}}}
	}
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v // values are shared read-only; only top-level keys change
	}
	return out
}

// Marshal writes an exported document as indented JSON or as YAML.
func Marshal(doc map[string]any, asYAML bool) ([]byte, error) {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi: marshal document: %w", err)
	}
	if !asYAML {
		return append(b, '\n'), nil
	}
	y, err := yaml.JSONToYAML(b)
	if err != nil {
		return nil, fmt.Errorf("openapi: document to YAML: %w", err)
	}
	return y, nil
}
