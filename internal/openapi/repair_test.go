package openapi

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// flawedDocument has the flaws that made real documents (GitHub's REST
// description among them) refused whole: two path templates that differ
// only in parameter names, an operation without responses, a response
// without a description, a path parameter not declared, a security
// requirement naming an undefined scheme, an array schema without items,
// a parameter name a route pattern cannot hold, two parameters in one
// segment, an example without a value.
const flawedDocument = `{
  "openapi": "3.0.3",
  "info": {"title": "flawed", "version": "1"},
  "servers": [{"url": "https://api.example.com"}],
  "components": {
    "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
    "responses": {"gone": {"content": {"application/json": {"schema": {"type": "object"},
      "examples": {"default": {"value": null}, "real": {"value": {"gone": true}}}}}}}
  },
  "security": [{"key": []}],
  "paths": {
    "/orgs/{org}/attestations/{subject_digest}": {
      "get": {"operationId": "list-attestations",
        "parameters": [{"name": "org", "in": "path", "required": true, "schema": {"type": "string"}},
                       {"name": "subject_digest", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array"}}}}}}
    },
    "/orgs/{org}/attestations/{attestation_id}": {
      "delete": {"operationId": "delete-attestation",
        "parameters": [{"name": "org", "in": "path", "required": true, "schema": {"type": "string"}},
                       {"name": "attestation_id", "in": "path", "required": true, "schema": {"type": "integer"}}],
        "responses": {"204": {"description": "deleted"}, "410": {"$ref": "#/components/responses/gone"}}}
    },
    "/items/{id}": {
      "get": {"operationId": "get-item", "security": [{"undefined_scheme": []}]}
    },
    "/compare/{base}...{head}": {
      "get": {"operationId": "compare",
        "parameters": [{"name": "base", "in": "path", "required": true, "schema": {"type": "string"}},
                       {"name": "head", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok"}}}
    },
    "/teams/{enterprise-team}/members": {
      "get": {"operationId": "team-members",
        "parameters": [{"name": "enterprise-team", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok"}}}
    }
  }
}`

func TestImportTakesFlawedDocuments(t *testing.T) {
	res, err := Import([]byte(flawedDocument), Options{})
	if err != nil {
		t.Fatalf("Import refused a routable document: %v", err)
	}
	routes := map[string][]string{}
	for _, r := range res.Service.Routes {
		routes[r.Name] = r.Paths
	}
	want := map[string][]string{
		"list-attestations":  {"/orgs/{org}/attestations/{attestation_id}"},
		"delete-attestation": {"/orgs/{org}/attestations/{attestation_id}"},
		"get-item":           {"/items/{id}"},
		"team-members":       {"/teams/{enterprise_team}/members"},
		"compare":            {"/compare/{base_head}"},
	}
	if len(routes) != len(want) {
		t.Fatalf("routes %v, want %v", routes, want)
	}
	for name, paths := range want {
		if !slices.Equal(routes[name], paths) {
			t.Errorf("route %s paths %v, want %v (one pattern for both templates)", name, routes[name], paths)
		}
	}
	// Every flaw is reported with its JSON pointer.
	for _, w := range []struct{ field, says string }{
		{"/paths/~1orgs~1{org}~1attestations~1{subject_digest}", "{subject_digest} → {attestation_id}"},
		{"/paths/~1items~1{id}/get/security/0/undefined_scheme", "not defined"},
		{"/paths/~1items~1{id}/get/parameters", `"id"`},
		{"/paths/~1teams~1{enterprise-team}~1members", "{enterprise-team} → {enterprise_team}"},
		{"/components/responses/gone/content/application~1json/examples/default", "neither a value nor an external value"},
		{"/paths/~1compare~1{base}...{head}", "{base}...{head} → {base_head}"},
		{"/paths/~1compare~1{base}...{head}/get/parameters", `"base_head"`},
	} {
		if !slices.ContainsFunc(res.Warnings, func(x Warning) bool { return x.Field == w.field && strings.Contains(x.Message, w.says) }) {
			t.Errorf("no warning at %s saying %q in %+v", w.field, w.says, res.Warnings)
		}
	}
	if !slices.ContainsFunc(res.Warnings, func(x Warning) bool { return strings.HasPrefix(x.Message, "not valid OpenAPI, imported anyway") }) {
		t.Errorf("the validation findings are not reported: %+v", res.Warnings)
	}
	// The renamed operation's fragment names the pattern's parameter.
	for _, r := range res.Service.Routes {
		if r.Name != "list-attestations" {
			continue
		}
		var op struct {
			Parameters []struct{ Name, In string }
		}
		if err := json.Unmarshal(r.OpenAPI, &op); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range r.Parameters {
			names = append(names, p.Name)
		}
		for _, p := range op.Parameters {
			names = append(names, p.Name)
		}
		if !slices.Equal(names, []string{"org", "attestation_id"}) {
			t.Errorf("list-attestations path parameters %v, want [org attestation_id]", names)
		}
	}
	// An operation whose only scheme is undefined keeps the document's.
	if got := string(res.Service.Plugins["key-auth"]); got != `{"header":"X-Key"}` {
		t.Errorf("service key-auth = %q, want the document's scheme on every route", got)
	}

	// What Portico exports of it is valid OpenAPI 3.1, and imports again
	// without a change.
	svc := stored(res)
	doc, err := Export(svc, ExportOptions{Portico: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Marshal(doc, false)
	if err != nil {
		t.Fatal(err)
	}
	validate31(t, b)
	res2, err := Import(b, Options{})
	if err != nil {
		t.Fatalf("re-Import of the export: %v", err)
	}
	if plan := NewPlan(res2, svc); plan.Changed() {
		t.Errorf("import → export → import changes: service %+v routes %+v", plan.Report.Service, plan.Report.Routes)
	}
}
