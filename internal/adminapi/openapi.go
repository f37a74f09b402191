package adminapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// obj is a JSON object of the OpenAPI document.
type obj = map[string]any

// readOnly names the fields the server sets: kept from the stored object on
// PUT and PATCH, ignored on POST.
var readOnly = map[reflect.Type][]string{
	reflect.TypeFor[spec.Project]():      {"created_at", "updated_at"},
	reflect.TypeFor[spec.GatewayGroup](): {"revision", "created_at", "updated_at"},
	reflect.TypeFor[spec.Upstream]():     {"id", "project_id", "created_at", "updated_at"},
	reflect.TypeFor[spec.Service]():      {"id", "project_id", "state", "created_at", "updated_at", "folder_path"},
	reflect.TypeFor[spec.Folder]():       {"id", "project_id", "created_at", "updated_at"},
	reflect.TypeFor[spec.Route]():        {"id", "service_id", "created_at", "updated_at"},
	reflect.TypeFor[spec.SQLBackend]():   {"result_columns"},
	reflect.TypeFor[spec.Credential]():   {"id", "application_id", "hint", "created_at"},
	reflect.TypeFor[spec.GatewayToken](): {"id", "group", "hint", "last_used_at", "created_by", "created_at", "token"},
	reflect.TypeFor[spec.Certificate]():  {"id", "group", "names", "not_before", "not_after", "created_at", "updated_at"},
	reflect.TypeFor[spec.Registry]():     {"id", "group", "has_password", "has_token", "status", "created_at", "updated_at"},
	reflect.TypeFor[spec.GatewayInstance](): {"id", "group", "embedded", "hostname", "addresses", "version", "engine", "revision",
		"from_cache", "started_at", "last_seen", "requests", "errors", "state", "detail", "token_id", "stopped"},
}

// optional names fields without omitempty that a client may still leave out.
var optional = map[reflect.Type][]string{
	reflect.TypeFor[spec.Node]():         {"weight"},
	reflect.TypeFor[spec.Project]():      {"name", "test_group", "production_group"},
	reflect.TypeFor[spec.GatewayGroup](): {"path_prefix"},
}

// fieldNotes document fields whose meaning the type alone does not tell.
var fieldNotes = map[reflect.Type]map[string]string{
	reflect.TypeFor[spec.Project](): {
		"id":               "immutable slug; kept on PUT and PATCH",
		"name":             "defaults to id",
		"test_group":       "gateway group of the test stage; defaults to default; must exist",
		"production_group": "gateway group of the production stage; defaults to default; must exist",
	},
	reflect.TypeFor[spec.GatewayGroup](): {
		"name":        "immutable; kept on PUT and PATCH",
		"path_prefix": "template that may use {project}; changing it bumps the group's revision; when it moves running URLs it needs ?confirm=true",
	},
	reflect.TypeFor[spec.Node](): {"weight": "defaults to 100"},
	reflect.TypeFor[spec.UpstreamTLS](): {
		"ca":                 "PEM bundle trusted for the upstream instead of the system's roots",
		"server_name":        "sent as SNI and verified; default: the node's host",
		"client_certificate": "name of a certificate of the gateway group, shown when the upstream asks for one (mutual TLS); a publish to a group without it is refused",
	},
	reflect.TypeFor[spec.Certificate](): {
		"certificate": "PEM chain, leaf first; RSA (2048 bits or more), ECDSA or Ed25519; refused when expired or not yet valid",
		"private_key": "PEM (PKCS #8, PKCS #1 or SEC 1), matching the leaf; write-only: stored encrypted, never answered, kept on PUT and PATCH unless given",
		"default":     "served to clients that ask for no name or one no certificate of the group has; one per group: setting it unsets the others",
		"client_ca":   "PEM bundle: clients of this certificate's names are asked for a client certificate, verified against it when given (mutual TLS); the mtls-auth plugin names the application",
		"names":       "the leaf's DNS names and IP addresses (its common name when it has none), as SNI picks it: exact names first, then wildcards",
	},
	reflect.TypeFor[spec.Registry](): {
		"name":          "what upstreams' discovery.registry names; a rename or delete is refused while a running service uses the name",
		"type":          "dns, consul, kubernetes, nacos or eureka",
		"address":       "the registry's http or https base URL (consul, kubernetes, nacos, eureka); for dns the host:port of a DNS server, empty for the gateway's resolver",
		"namespace":     "default namespace of upstreams that name none (Kubernetes namespace, Nacos namespace id, Consul namespace); not for eureka or dns",
		"service_group": "Nacos group (default DEFAULT_GROUP); nacos only",
		"username":      "nacos and eureka (HTTP basic with password)",
		"password":      "nacos and eureka; write-only: stored encrypted, never answered; on PUT kept when left out, removed by \"\"",
		"token":         "Consul ACL token or Kubernetes service-account token; write-only: stored encrypted, never answered; on PUT kept when left out, removed by \"\"",
		"ca":            "PEM bundle trusted for an https address instead of the system's roots",
		"poll_interval": "seconds between asks of registries without blocking queries (and DNS answers without a TTL), 1 to 3600; default 5",
		"has_password":  "a password is stored (answers only; sending it is refused)",
		"has_token":     "a token is stored (answers only; sending it is refused)",
		"status":        "what each gateway instance of the group that is not offline reports of this registry (answers only; sending it is refused)",
	},
	reflect.TypeFor[spec.Service](): {
		"upstream_id":   "id or name of an upstream of the project",
		"path":          "custom path (/x or /x/y), or default: the path of its catalog folder (refused without folder_id)",
		"openapi":       "a JSON object: the document-level parts of the service's OpenAPI description (info, tags, components, security), kept for its export",
		"folder_id":     "catalog folder of the service (an id of the project's folders)",
		"folder_path":   "the current path of the folder; used in URLs when path is default",
		"routes":        "filled when read whole; accepted on create only (change routes under /routes)",
		"type":          "http (default: routes answer requests) or stream (layer 4: stream_routes relay TCP connections; no routes, path, hosts, protocols or plugins); becoming stream needs no HTTP routes",
		"stream_routes": "what a stream service answers: connections on a gateway's stream listener, by server name (SNI) over TLS",
	},
	reflect.TypeFor[spec.Route](): {
		"openapi": "a JSON object: the route's OpenAPI Operation object, kept for the service's export",
	},
	reflect.TypeFor[spec.SQLBackend](): {
		"result_columns": "the columns the statement returns, as the data source describes them when the route is saved (answers only; a value sent is replaced)",
	},
	reflect.TypeFor[spec.StreamRoute](): {
		"listener": "name of a gateway stream listener (--gateway-stream-addr NAME=ADDR)",
		"tls":      "empty: plain bytes; passthrough: routed by the ClientHello's server name, relayed encrypted; terminate: TLS ends at the gateway with the group's certificates",
		"sni":      "server names (exact, or *.example.com) the route takes; needs tls; a route without sni is the listener's default",
		"plugins":  "ip-restriction {allow, deny} and limit-conn {conn: concurrent connections per gateway} only",
	},
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// schemas derives JSON Schemas from Go types through their json tags.
// Named structs become components; patch variants drop "required" (a merge
// patch names only what changes).
type schemas struct {
	defs  obj
	names map[string]reflect.Type
}

// of is the schema of t, by the JSON kind the strict decoder checks
// values against (kindOf).
func (g *schemas) of(t reflect.Type, patch bool) obj {
	t, kind := kindOf(t)
	switch kind {
	case kindTime:
		return obj{"type": "string", "format": "date-time"}
	case kindBool:
		return obj{"type": "boolean"}
	case kindInt:
		return integerSchema(t, false)
	case kindUint:
		return integerSchema(t, true)
	case kindFloat:
		return obj{"type": "number"}
	case kindString:
		return obj{"type": "string"}
	case kindBytes:
		return obj{"type": "string", "contentEncoding": "base64"}
	case kindArray:
		return obj{"type": "array", "items": g.of(t.Elem(), patch)}
	case kindMap:
		return obj{"type": "object", "additionalProperties": g.of(t.Elem(), patch)}
	case kindStruct:
		if t.Name() == "" {
			return g.object(t, patch)
		}
		return g.ref(t, patch)
	}
	return obj{} // kindAny: any JSON value
}

// integerSchema says what checkShape accepts for an integer type: its sign
// and, at 64 bits, the int64 format.
func integerSchema(t reflect.Type, unsigned bool) obj {
	o := obj{"type": "integer"}
	if t.Bits() == 64 {
		o["format"] = "int64"
	}
	if unsigned {
		o["minimum"] = 0
	}
	return o
}

// ref registers a named struct as a component and answers a $ref to it.
func (g *schemas) ref(t reflect.Type, patch bool) obj {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 { // generic instance
		name = name[:i]
	}
	name = strings.ToUpper(name[:1]) + name[1:]
	if patch {
		name += "Patch"
	}
	for n := 2; g.names[name] != nil && g.names[name] != t; n++ {
		name = strings.TrimRight(name, "0123456789") + strconv.Itoa(n)
	}
	if g.names[name] == nil {
		g.names[name] = t
		g.defs[name] = obj{} // placeholder first: types may refer to themselves
		g.defs[name] = g.object(t, patch)
	}
	return obj{"$ref": "#/components/schemas/" + name}
}

// object builds the schema of a struct: embedded structs are flattened like
// encoding/json does; omitempty/omitzero and readOnly fields are optional.
func (g *schemas) object(t reflect.Type, patch bool) obj {
	props := obj{}
	var required []string
	g.fields(t, patch, props, &required)
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if patch {
		o["description"] = "JSON merge patch (RFC 7396): members given replace the stored ones, null removes one"
	} else if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// fields describes the members structFields lists, the same ones the strict
// decoder accepts. readOnly, optional and fieldNotes are looked up by the
// struct declaring each field, so an embedded type brings its own.
func (g *schemas) fields(t reflect.Type, patch bool, props obj, required *[]string) {
	for _, f := range structFields(t) {
		ro, opt, note := slices.Contains(readOnly[f.owner], f.name), slices.Contains(optional[f.owner], f.name), fieldNotes[f.owner][f.name]
		s := g.of(f.typ, patch)
		if len(f.enum) > 0 && s["type"] == "string" {
			enum := make([]any, len(f.enum))
			for i, v := range f.enum {
				enum[i] = v
			}
			s["enum"] = enum
		}
		if f.def != "" {
			if s["type"] == "string" {
				s["default"] = f.def
			} else if json.Valid([]byte(f.def)) {
				s["default"] = json.RawMessage(f.def)
			}
		}
		if ro || note != "" {
			// $ref siblings are allowed in 3.1, but wrapping keeps older tools happy.
			if _, isRef := s["$ref"]; isRef {
				s = obj{"allOf": []any{s}}
			}
			if ro {
				s["readOnly"] = true
			}
			if note != "" {
				s["description"] = note
			}
		}
		props[f.name] = s
		if !f.omit && !ro && !opt {
			*required = append(*required, f.name)
		}
	}
}

func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	pathParamRe = regexp.MustCompile(`\{([a-z]+)\}`)
	opIDRe      = regexp.MustCompile(`[^a-z0-9]+`)
)

// pathParamDesc describes the path parameter at offset i of path by the
// collection segment before it (pathParams).
func pathParamDesc(path string, i int) string {
	before := strings.TrimSuffix(path[:i], "/")
	if desc := pathParams[before[strings.LastIndexByte(before, '/')+1:]]; desc != "" {
		return desc
	}
	return "identifier" // never empty; openapi_test.go insists on a real description
}

// queryParamObj is the Parameter Object of query parameter name of ep.
// A name missing from queryParams still gets a string parameter rather than
// null, and openapi_test.go fails on it.
func queryParamObj(ep endpoint, name string) obj {
	qp, ok := queryParams[name]
	if !ok {
		return obj{"name": name, "in": "query", "schema": obj{"type": "string"}}
	}
	desc := qp.desc
	if name == "q" {
		search := ep.search
		if search == "" {
			search = "name"
		}
		desc = fmt.Sprintf(desc, search)
	}
	o := obj{"name": name, "in": "query", "description": desc, "schema": qp.schema}
	if qp.explode {
		o["style"], o["explode"] = "form", true
	}
	return o
}

// buildOpenAPI renders the OpenAPI 3.1 document of the route table.
func buildOpenAPI(eps []endpoint, version string) []byte {
	if version == "" {
		version = "dev"
	}
	g := &schemas{defs: obj{}, names: map[string]reflect.Type{}}
	g.defs["Problem"] = g.object(reflect.TypeFor[problem](), false)
	paths := obj{}
	for _, ep := range eps {
		item, _ := paths[ep.path].(obj)
		if item == nil {
			item = obj{}
			paths[ep.path] = item
		}
		item[strings.ToLower(ep.method)] = g.operation(ep)
	}
	errResp := obj{}
	for _, code := range []int{400, 401, 403, 404, 409, 413, 500} {
		errResp[strconv.Itoa(code)] = obj{
			"description": http.StatusText(code) + " (RFC 9457 problem details)",
			"content":     obj{"application/problem+json": obj{"schema": obj{"$ref": "#/components/schemas/Problem"}}},
		}
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "Portico admin API",
			"version":     version,
			"description": "The admin REST API of the Portico control plane. Every endpoint except login and this document needs Authorization: Bearer <token>.",
		},
		"servers":  []any{obj{"url": Prefix}},
		"security": []any{obj{"bearer": []any{}}},
		"paths":    paths,
		"components": obj{
			"schemas":         g.defs,
			"responses":       errResp,
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer", "description": "token from POST /auth/login"}},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		// Only maps, slices and strings are marshalled: this cannot fail.
		return []byte(fmt.Sprintf(`{"openapi":"3.1.0","info":{"title":"Portico admin API","version":%q,"description":"document failed: %s"},"paths":{}}`, version, err))
	}
	return b
}

func (g *schemas) operation(ep endpoint) obj {
	op := obj{
		"operationId": strings.Trim(opIDRe.ReplaceAllString(strings.ToLower(ep.method+"_"+ep.path), "_"), "_"),
		"summary":     ep.summary,
		"tags":        []any{ep.tag},
	}
	var params []any
	for _, m := range pathParamRe.FindAllStringSubmatchIndex(ep.path, -1) {
		name := ep.path[m[2]:m[3]]
		params = append(params, obj{"name": name, "in": "path", "required": true,
			"description": pathParamDesc(ep.path, m[0]), "schema": obj{"type": "string"}})
	}
	for _, name := range ep.query {
		params = append(params, queryParamObj(ep, name))
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if ep.req != nil {
		patch := ep.method == http.MethodPatch
		s := g.of(reflect.TypeOf(ep.req), patch)
		content := obj{"application/json": obj{"schema": s}}
		if patch {
			content["application/merge-patch+json"] = obj{"schema": s}
		}
		op["requestBody"] = obj{"required": true, "content": content}
	}
	ok := obj{"description": http.StatusText(ep.status)}
	switch {
	case ep.openapi:
		ok["content"] = obj{"application/json": obj{"schema": obj{"type": "object"}}}
	case ep.list:
		ok["content"] = obj{"application/json": obj{"schema": obj{
			"type":     "object",
			"required": []any{"items", "total"},
			"properties": obj{
				"items": obj{"type": "array", "items": g.of(reflect.TypeOf(ep.resp), false)},
				"total": obj{"type": "integer", "description": "number of matching items on all pages"},
			},
		}}}
	case ep.resp != nil:
		ok["content"] = obj{"application/json": obj{"schema": g.of(reflect.TypeOf(ep.resp), false)}}
	}
	resp := obj{strconv.Itoa(ep.status): ok}
	errRef := func(code int) { resp[strconv.Itoa(code)] = obj{"$ref": "#/components/responses/" + strconv.Itoa(code)} }
	// Every operation may answer 400: an unknown query parameter, or a
	// body sent to one that takes none, is refused (wrap).
	errRef(400)
	if ep.public {
		op["security"] = []any{}
		if ep.path == "/auth/login" || ep.path == "/auth/accept" {
			errRef(401)
		}
	} else {
		errRef(401)
		errRef(403)
		// The permission the caller needs, and where it is looked for;
		// clients (and the permission matrix test) read it from here.
		op["x-permission"] = string(ep.perm)
		op["x-permission-scope"] = permissionScope(ep)
	}
	if strings.Contains(ep.path, "{") {
		errRef(404)
	}
	if ep.method != http.MethodGet && !strings.HasPrefix(ep.path, "/auth/") {
		errRef(409)
	}
	if ep.req != nil || ep.rawBody {
		errRef(413)
	}
	if !ep.openapi {
		errRef(500)
	}
	op["responses"] = resp
	return op
}

// permissionScope names where an endpoint's permission is checked:
// "project" (the project of the path; a project the caller may not see
// answers 404), "any-project" (the system scope or any of the caller's
// projects; the answer is narrowed to them), or "system".
func permissionScope(ep endpoint) string {
	switch {
	case strings.Contains(ep.path, "{p}"):
		return "project"
	case ep.anyProject:
		return "any-project"
	}
	return "system"
}

// OpenAPIDocument is the admin API's own OpenAPI 3.1 document as
// GET /api/v1/openapi.json serves it, for tools that want it without a
// running server (client generators, linters).
func OpenAPIDocument(version string) []byte {
	return buildOpenAPI((&server{}).endpoints(), version)
}
