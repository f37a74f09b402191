package openapi

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update rewrites the golden files from what the code produces now:
// go test ./internal/openapi -run Golden -update, then review the diff.
var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run with -update and review the diff if the change is meant):\n%s", path, lineDiff(want, got))
	}
}

// lineDiff names the first differing line, with a little context: enough
// to see what changed without a diff library.
func lineDiff(want, got []byte) string {
	w, g := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	i := 0
	for i < len(w) && i < len(g) && bytes.Equal(w[i], g[i]) {
		i++
	}
	var b bytes.Buffer
	for j := max(0, i-3); j < i; j++ {
		b.WriteString("  " + string(w[j]) + "\n")
	}
	for j := i; j < min(len(w), i+3); j++ {
		b.WriteString("- " + string(w[j]) + "\n")
	}
	for j := i; j < min(len(g), i+3); j++ {
		b.WriteString("+ " + string(g[j]) + "\n")
	}
	return b.String()
}

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
	golden(t, "museum-3.1.export.yaml.golden", b)
}
