package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/portico-gw/portico/internal/spec"
)

var testFiles = []string{"petstore-3.0.json", "petstore-3.0.yaml", "museum-3.1.yaml", "petstore-2.0.json", "petstore-2.0.yaml"}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stored gives an imported service the ids a store would.
func stored(res *Result) *spec.Service {
	s := res.Service
	s.ID = "svc-1"
	s.Routes = append([]spec.Route(nil), res.Service.Routes...)
	for i := range s.Routes {
		s.Routes[i].ID = fmt.Sprintf("r-%d", i)
		s.Routes[i].ServiceID = s.ID
	}
	return &s
}

// validate31 checks an exported document with kin-openapi as OpenAPI 3.1.
func validate31(t *testing.T, b []byte) {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatalf("exported document does not load: %v\n%s", err, b)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("exported openapi = %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("exported document is invalid: %v\n%s", err, b)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, f := range testFiles {
		for _, asYAML := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/yaml=%v", f, asYAML), func(t *testing.T) {
				opts := Options{Mock: true}
				res, err := Import(readTestdata(t, f), opts)
				if err != nil {
					t.Fatalf("Import: %v", err)
				}
				svc := stored(res)
				doc, err := Export(svc, ExportOptions{Portico: true, Servers: []Server{{URL: "/gw" + svc.Path}}})
				if err != nil {
					t.Fatalf("Export: %v", err)
				}
				b, err := Marshal(doc, asYAML)
				if err != nil {
					t.Fatalf("Marshal: %v", err)
				}
				validate31(t, b)
				res2, err := Import(b, opts)
				if err != nil {
					t.Fatalf("re-Import of the export: %v\n%s", err, b)
				}
				plan := NewPlan(res2, svc)
				if plan.Changed() {
					t.Errorf("import → export → import changes: service %+v routes %+v", plan.Report.Service, plan.Report.Routes)
				}
			})
		}
	}
}

// designed is a service whose route carries a whole design: parameters in
// every place, mappings, defaults, enum, body fields, constants, examples
// and error codes.
func designed() *spec.Service {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	return &spec.Service{ID: "svc-1", Name: "items", Path: "/shop", Routes: []spec.Route{{
		ID: "r-0", ServiceID: "svc-1", Name: "update_item", Description: "Change an item",
		Paths: []string{"/items/{id}"}, Methods: []string{"PUT"},
		Parameters: []spec.Parameter{
			{Name: "id", In: "path", Required: true, Type: "integer", Description: "the item",
				Backend: &spec.ParameterTarget{In: "query", Name: "item"}},
			{Name: "uid", In: "query", Required: true, Backend: &spec.ParameterTarget{In: "header", Name: "X-User-Id"}},
			{Name: "page", In: "query", Type: "integer", Format: "int32", Default: raw(`1`), Enum: []json.RawMessage{raw(`1`), raw(`2`)}},
			{Name: "X-Trace", In: "header", Backend: &spec.ParameterTarget{In: "body", Pointer: "/meta/trace"}},
			{Name: "session", In: "cookie", Description: "the session cookie"},
			{Name: "tags", In: "query", Type: "array"},
			// Body fields come back in pointer order.
			{Name: "name", In: "body", Description: "new name", Default: raw(`"unnamed"`)},
			{Name: "id", In: "body", Pointer: "/user/id", Type: "integer", Required: true,
				Backend: &spec.ParameterTarget{In: "header", Name: "X-Owner", Keep: true}},
		},
		Backend: &spec.Backend{Path: "/v1/items", Method: "POST", Parameters: []spec.ConstParameter{
			{In: "header", Name: "X-Api-Key", Value: raw(`"secret"`)},
			{In: "body", Pointer: "/source", Value: raw(`{"via":"gateway"}`)}}},
		Responses: []spec.ResponseExample{
			{Status: 200, Example: raw(`{"id":7,"name":"box"}`)},
			{Status: 200, ContentType: "text/plain", Example: raw(`"ok"`)},
			{Status: 404, Description: "no such item", Example: raw(`{"code":"E1001"}`)},
		},
		Errors: []spec.ErrorCode{
			{Code: "E1001", Status: 404, Message: "no such item"},
			{Code: "E1002", Status: 409, Message: "the item changed", Description: "read it again"},
			{Code: "E1003", Status: 409, Message: "the name is taken"},
		},
	}}}
}

// TestDesignRoundTrip: a route's design survives export → import → export
// whole, and import → export → import is a fixpoint.
func TestDesignRoundTrip(t *testing.T) {
	svc := designed()
	if err := svc.Routes[0].Validate(); err != nil {
		t.Fatalf("the test's route is invalid: %v", err)
	}
	doc, err := Export(svc, ExportOptions{Portico: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Marshal(doc, false)
	if err != nil {
		t.Fatal(err)
	}
	validate31(t, b)
	res, err := Import(b, Options{})
	if err != nil {
		t.Fatalf("Import: %v\n%s", err, b)
	}
	got := res.Service.Routes[0]
	want := svc.Routes[0]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"parameters", got.Parameters, want.Parameters},
		{"backend", got.Backend, want.Backend},
		{"responses", got.Responses, want.Responses},
		{"errors", got.Errors, want.Errors},
	} {
		if !sameJSON(mustJSON(c.got), mustJSON(c.want)) {
			t.Errorf("%s after export → import:\n got %s\nwant %s", c.name, mustJSON(c.got), mustJSON(c.want))
		}
	}
	if len(got.OpenAPI) > 0 && !sameJSON(got.OpenAPI, json.RawMessage(`{"operationId":"update_item","summary":"Change an item"}`)) {
		t.Errorf("the stored operation repeats the design: %s", got.OpenAPI)
	}
	// import → export → import: no change.
	again := stored(res)
	doc2, err := Export(again, ExportOptions{Portico: true})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := Marshal(doc2, true)
	res2, err := Import(b2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plan := NewPlan(res2, again); plan.Changed() {
		t.Errorf("import → export → import changes: %+v", plan.Report.Routes)
	}
}

// TestDesignInDescription: the document shown to API consumers declares
// the parameters, the body fields, the examples and the error table, and
// nothing of the backend.
func TestDesignInDescription(t *testing.T) {
	doc, err := Export(designed(), ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Marshal(doc, false)
	validate31(t, b)
	op := doc["paths"].(map[string]any)["/items/{id}"].(map[string]any)["put"].(map[string]any)
	var names []string
	for _, p := range op["parameters"].([]any) {
		m := p.(map[string]any)
		names = append(names, m["in"].(string)+":"+m["name"].(string))
	}
	if want := "path:id query:uid query:page header:X-Trace cookie:session query:tags"; strings.Join(names, " ") != want {
		t.Errorf("parameters %v, want %s", names, want)
	}
	s := string(b)
	for _, want := range []string{`"required": [`, `"unnamed"`, `"E1001"`, `"x-portico-errors"`, `"E1002: the item changed; E1003: the name is taken"`, `"no such item"`, `"text/plain"`} {
		if !strings.Contains(s, want) {
			t.Errorf("the description lacks %s", want)
		}
	}
	for _, leak := range []string{"x-portico-backend", "X-User-Id", "secret", "/v1/items"} {
		if strings.Contains(s, leak) {
			t.Errorf("the consumers' description shows the backend's %s:\n%s", leak, b)
		}
	}
}
