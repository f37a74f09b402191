package openapi

import (
	"testing"

	"github.com/portico-gw/portico/internal/golden"
)

// TestExportGolden pins the whole exported document of one imported
// service (museum: path parameters, request bodies, security schemes,
// Portico extensions), which the round trip alone would not notice
// changing as long as it re-imports the same.
func TestExportGolden(t *testing.T) {
	res, err := Import(readTestdata(t, "museum-3.1.yaml"), Options{Mock: true})
	if err != nil {
		t.Fatal(err)
	}
	svc := stored(res)
	doc, err := Export(svc, ExportOptions{Portico: true, Servers: []Server{{URL: "/gw" + svc.Path}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Marshal(doc, true)
	if err != nil {
		t.Fatal(err)
	}
	validate31(t, b)
	golden.Check(t, "museum-3.1.export.yaml.golden", b)
}
