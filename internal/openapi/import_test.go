package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
)

// routeSummary is what a test compares of a route.
type routeSummary struct {
	Name, Method, Path string
	Plugins            []string
}

func summarize(s *spec.Service) []routeSummary {
	out := make([]routeSummary, 0, len(s.Routes))
	for _, r := range s.Routes {
		rs := routeSummary{Name: r.Name, Method: strings.Join(r.Methods, ","), Path: strings.Join(r.Paths, ",")}
		for p := range r.Plugins {
			rs.Plugins = append(rs.Plugins, p)
		}
		slices.Sort(rs.Plugins)
		out = append(out, rs)
	}
	return out
}

func pluginNames(p spec.Plugins) []string {
	var out []string
	for n := range p {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func hasWarning(res *Result, field, contains string) bool {
	for _, w := range res.Warnings {
		if w.Field == field && strings.Contains(w.Message, contains) {
			return true
		}
	}
	return false
}

func TestImportPetstore30(t *testing.T) {
	res, err := Import(readTestdata(t, "petstore-3.0.json"), Options{Mock: true, KnownPlugin: func(n string) bool { return n != "oauth2" }})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	svc := &res.Service
	if svc.Name != "Pet Store v1" || svc.Description != "Pets for sale." || svc.Path != "/v1" {
		t.Errorf("service = %q %q path %q", svc.Name, svc.Description, svc.Path)
	}
	wantUp := &spec.Upstream{Scheme: "https", Nodes: []spec.Node{
		{Host: "api.example.com", Port: 8443, Weight: 100}, {Host: "api2.example.com", Port: 8443, Weight: 100}}}
	if d := cmp.Diff(wantUp, svc.Upstream); d != "" {
		t.Errorf("upstream (-want +got):\n%s", d)
	}
	// Operations ask for different schemes, so authentication is per route.
	if len(svc.Plugins) != 0 {
		t.Errorf("service plugins = %v, want none", pluginNames(svc.Plugins))
	}
	want := []routeSummary{
		{"listPets", "GET", "/pets", []string{"key-auth", "mock"}},
		{"createPet", "POST", "/pets", []string{"basic-auth", "mock"}},
		{"show_pet-by_id", "GET", "/pets/{petId}", []string{"jwt-auth", "mock"}},
		{"delete_pets_petId", "DELETE", "/pets/{petId}", []string{"mock"}},
		{"updatePet", "PATCH", "/pets/{petId}", []string{"mock"}}, // oauth2 not known: left out
		{"uploadPhoto", "PUT", "/pets/{petId}/photo", []string{"key-auth", "mock"}},
	}
	if d := cmp.Diff(want, summarize(svc)); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
	r := svc.Routes[0]
	if got := string(r.Plugins["key-auth"]); got != `{"header":"X-API-Key"}` {
		t.Errorf("key-auth = %s", got)
	}
	if got := string(svc.Routes[5].Plugins["key-auth"]); got != `{"query":"key"}` {
		t.Errorf("query key-auth = %s", got)
	}
	var mock mockConfig
	if err := json.Unmarshal(svc.Routes[1].Plugins["mock"], &mock); err != nil || mock.Status != 201 || string(mock.Body) != `{"id":7,"name":"Rex"}` {
		t.Errorf("createPet mock = %+v %s (%v)", mock, mock.Body, err)
	}
	// No example: the mock body is made from the schema.
	if err := json.Unmarshal(svc.Routes[2].Plugins["mock"], &mock); err != nil || string(mock.Body) != `{"id":0,"name":"string","tag":"string"}` {
		t.Errorf("showPet mock body = %s (%v)", mock.Body, err)
	}
	if err := json.Unmarshal(svc.Routes[4].Plugins["mock"], &mock); err != nil || string(mock.Body) != `"ok"` || mock.Headers["Content-Type"] != "text/plain" {
		t.Errorf("text mock = %+v %s", mock, mock.Body)
	}
	// The operation keeps its path-level parameter and its own override
	// (declared on the route when the design can say them, else in the
	// stored operation).
	var op map[string]any
	if err := json.Unmarshal(svc.Routes[2].OpenAPI, &op); err != nil {
		t.Fatal(err)
	}
	if params, _ := op["parameters"].([]any); len(params)+len(svc.Routes[2].Parameters) != 1 {
		t.Errorf("showPet parameters = %v + %+v, want the path-level petId", op["parameters"], svc.Routes[2].Parameters)
	}
	if err := json.Unmarshal(svc.Routes[4].OpenAPI, &op); err != nil {
		t.Fatal(err)
	}
	if params, _ := op["parameters"].([]any); len(params)+len(svc.Routes[4].Parameters) != 1 ||
		!strings.Contains(string(svc.Routes[4].OpenAPI)+fmt.Sprint(svc.Routes[4].Parameters), "Overridden") {
		t.Errorf("updatePet parameters = %v + %+v, want only its override", op["parameters"], svc.Routes[4].Parameters)
	}
	// 3.0's nullable is stored the 3.1 way.
	if strings.Contains(string(svc.OpenAPI), "nullable") || !strings.Contains(string(svc.OpenAPI), `"null"`) {
		t.Errorf("document fragment not upgraded to 3.1: %s", svc.OpenAPI)
	}
	for _, w := range []struct{ field, msg string }{
		{"/servers/2/url", "base path"},
		{"/components/securitySchemes/cookie_key", "cookie"},
		{"/components/securitySchemes/implicit", "client credentials"},
		{"/components/securitySchemes/oidc", "not supported"},
		{"/paths/~1files~1{name}.json", "cannot be a route path"},
		{"/paths/~1pets~1{petId}/get/security", "first of 2"},
		{"/components/securitySchemes/oauth", "does not run yet"},
	} {
		if !hasWarning(res, w.field, w.msg) {
			t.Errorf("no warning %s %q in %+v", w.field, w.msg, res.Warnings)
		}
	}
	var unapplied []string
	for _, m := range res.Plugins {
		if !m.Applied {
			unapplied = append(unapplied, m.Plugin+"@"+m.Scope)
		}
	}
	if d := cmp.Diff([]string{"oauth2@route:show_pet-by_id", "oauth2@route:updatePet"}, unapplied); d != "" && !slices.Contains(unapplied, "oauth2@route:updatePet") {
		t.Errorf("unapplied mappings %v", unapplied)
	}
}

func TestImportMuseum31(t *testing.T) {
	res, err := Import(readTestdata(t, "museum-3.1.yaml"), Options{})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	svc := &res.Service
	if res.SourceVersion != "3.1.0" || svc.Name != "Museum API" || svc.Path != "/museum" || svc.Upstream == nil || svc.Upstream.Nodes[0].Port != 8080 {
		t.Errorf("service = %+v (source %s)", svc, res.SourceVersion)
	}
	want := []routeSummary{
		{"getMuseumHours", "GET", "/museum-hours", nil},
		{"createSpecialEvent", "POST", "/special-events", []string{"jwt-auth"}},
		{"get_special-events_eventId", "GET", "/special-events/{eventId}", []string{"jwt-auth"}},
		{"deleteSpecialEvent", "DELETE", "/special-events/{eventId}", []string{"oauth2"}},
		{"listTickets", "GET", "/tickets", []string{"jwt-auth"}},
	}
	if d := cmp.Diff(want, summarize(svc)); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
	if !strings.Contains(string(svc.OpenAPI), "webhooks") || !strings.Contains(string(svc.OpenAPI), "jsonSchemaDialect") {
		t.Errorf("3.1 document parts lost: %s", svc.OpenAPI)
	}
}

func TestImportSwagger2(t *testing.T) {
	res, err := Import(readTestdata(t, "petstore-2.0.json"), Options{Mock: true})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	svc := &res.Service
	if res.SourceVersion != "2.0" || svc.Name != "Swagger Petstore" || svc.Path != "/v2" {
		t.Errorf("service = %q path %q (source %s)", svc.Name, svc.Path, res.SourceVersion)
	}
	if d := cmp.Diff(&spec.Upstream{Scheme: "https", Nodes: []spec.Node{{Host: "petstore.swagger.io", Port: 443, Weight: 100}}}, svc.Upstream); d != "" {
		t.Errorf("upstream (-want +got):\n%s", d)
	}
	want := []routeSummary{
		{"addPet", "POST", "/pet", []string{"mock", "oauth2"}},
		{"get_pet_findByStatus", "GET", "/pet/findByStatus", []string{"key-auth", "mock"}},
		{"getPetById", "GET", "/pet/{petId}", []string{"basic-auth", "mock"}},
		{"updatePetWithForm", "POST", "/pet/{petId}", []string{"mock"}}, // implicit flow: not mapped
	}
	if d := cmp.Diff(want, summarize(svc)); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
	// The body parameter became a request body; the form a form body.
	if !strings.Contains(string(svc.Routes[0].OpenAPI), `"requestBody"`) || !strings.Contains(string(svc.Routes[3].OpenAPI), "application/x-www-form-urlencoded") {
		t.Errorf("request bodies lost: %s / %s", svc.Routes[0].OpenAPI, svc.Routes[3].OpenAPI)
	}
	if !strings.Contains(string(svc.Routes[0].Plugins["mock"]), `"doggie"`) {
		t.Errorf("Swagger 2 example not mocked: %s", svc.Routes[0].Plugins["mock"])
	}
}

// TestJSONAndYAMLAgree imports the same document in both formats.
func TestJSONAndYAMLAgree(t *testing.T) {
	for _, pair := range [][2]string{{"petstore-3.0.json", "petstore-3.0.yaml"}, {"petstore-2.0.json", "petstore-2.0.yaml"}} {
		a, err := Import(readTestdata(t, pair[0]), Options{Mock: true})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Import(readTestdata(t, pair[1]), Options{Mock: true})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(a, b, cmp.AllowUnexported(Result{})); d != "" {
			t.Errorf("%s and %s differ (-json +yaml):\n%s", pair[0], pair[1], d)
		}
	}
}

func TestGlobalSecurityOnService(t *testing.T) {
	doc := `openapi: 3.0.0
info: {title: Keys, version: "1"}
servers: [{url: "http://10.0.0.1:9000"}]
security: [{k: []}]
paths:
  /a: {get: {responses: {"200": {description: ok}}}}
  /b: {post: {responses: {"200": {description: ok}}}}
components:
  securitySchemes:
    k: {type: apiKey, in: header, name: apikey}
`
	res, err := Import([]byte(doc), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Service.Plugins["key-auth"]); got != `{"header":"apikey"}` {
		t.Errorf("service key-auth = %q", got)
	}
	for _, r := range res.Service.Routes {
		if len(r.Plugins) != 0 {
			t.Errorf("route %s plugins %v, want none", r.Name, pluginNames(r.Plugins))
		}
	}
	if res.Service.Path != "" || res.Service.Upstream.Nodes[0] != (spec.Node{Host: "10.0.0.1", Port: 9000, Weight: 100}) {
		t.Errorf("path %q upstream %+v", res.Service.Path, res.Service.Upstream)
	}
}

func TestImportInvalid(t *testing.T) {
	tests := []struct {
		name, doc string
		fields    []string // JSON pointers reported, in order
	}{
		{"empty", "  ", []string{""}},
		{"not an object", "[1, 2]", []string{""}},
		{"no version", `{"info": {"title": "x", "version": "1"}, "paths": {}}`, []string{"/openapi"}},
		{"old swagger", `{"swagger": "1.2"}`, []string{"/swagger"}},
		{"openapi 4", `openapi: 4.0.0`, []string{"/openapi"}},
		{"bad yaml", "openapi: 3.0.0\n  info: [", []string{""}},
		{"bad json", `{"openapi": "3.0.0",`, []string{""}},
		{"wrong type", `{"openapi": "3.0.0", "info": "x", "paths": {}}`, []string{""}},
		{"external ref", `{"openapi": "3.0.0", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"$ref": "http://127.0.0.1:1/x.json"}}}`, []string{""}},
		{"not valid and nothing to route", `{"openapi": "3.0.0", "info": {"title": "x"}, "paths": {
			"/a/{b": {"get": {"responses": {"200": {}}}}}}`, []string{"/info", "/paths/~1a~1{b/get"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Import([]byte(tt.doc), Options{})
			fe, ok := errors.AsType[spec.FieldErrors](err)
			if !ok {
				t.Fatalf("Import = %+v, %v; want FieldErrors", res, err)
			}
			var got []string
			for _, e := range fe {
				got = append(got, e.Field)
				if e.Message == "" {
					t.Errorf("empty message for %s", e.Field)
				}
			}
			slices.Sort(got)
			if d := cmp.Diff(tt.fields, got); d != "" {
				t.Errorf("fields (-want +got):\n%s\n%v", d, fe)
			}
		})
	}
}

func TestRouteName(t *testing.T) {
	tests := []struct{ op, method, path, want string }{
		{"listPets", "GET", "/pets", "listPets"},
		{"pets.list/all", "GET", "/pets", "pets_list_all"},
		{"", "GET", "/pets/{id}/photo", "get_pets_id_photo"},
		{"", "DELETE", "/", "delete"},
		{"...", "POST", "/x", "post_x"},
		{strings.Repeat("a", 150), "GET", "/", strings.Repeat("a", 100)},
	}
	for _, tt := range tests {
		if got := RouteName(tt.op, tt.method, tt.path); got != tt.want {
			t.Errorf("RouteName(%q, %q, %q) = %q, want %q", tt.op, tt.method, tt.path, got, tt.want)
		}
		r := spec.Route{Name: RouteName(tt.op, tt.method, tt.path)}
		if err := r.Validate(); err != nil {
			t.Errorf("name %q is invalid: %v", r.Name, err)
		}
	}
}

func TestServiceName(t *testing.T) {
	for in, want := range map[string]string{
		"Pet Store (v1)": "Pet Store v1",
		"  ":             "imported-api",
		"--Über API!":    "Über API",
		"名前 API":         "名前 API",
	} {
		if got := serviceName(in); got != want {
			t.Errorf("serviceName(%q) = %q, want %q", in, got, want)
		}
	}
}
