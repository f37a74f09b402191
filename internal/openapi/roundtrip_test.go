package openapi

import (
	"context"
	"fmt"
	"os"
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
