package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// corpusDir is where the published documents of TestImportRealDocuments
// are: PORTICO_OPENAPI_CORPUS, laid out as .ci/run fetches them with npm
// (oas-examples/ is @readme/oas-examples, github/api.github.com.json comes
// from @octokit/openapi). They are not kept in the repository (GitHub's is
// 13 MB). Without it the test skips, unless PORTICO_REQUIRE_OPENAPI_CORPUS
// is set (CI), which makes that a failure.
func corpusDir(t testing.TB) string {
	dir := os.Getenv("PORTICO_OPENAPI_CORPUS")
	if dir == "" {
		if os.Getenv("PORTICO_REQUIRE_OPENAPI_CORPUS") != "" {
			t.Fatal("PORTICO_OPENAPI_CORPUS is not set (see .ci/run)")
		}
		t.Skip("PORTICO_OPENAPI_CORPUS is not set: no published documents to import (.ci/run fetches them)")
	}
	return dir
}

// TestImportRealDocuments imports published OpenAPI documents as a new
// user would: ReadMe's examples (Swagger 2.0, OpenAPI 3.0 and 3.1, JSON
// and YAML) and GitHub's REST description. At least 95 % of the examples
// import, and what Portico exports of each loads as OpenAPI 3.1; GitHub's
// imports with one route per operation.
func TestImportRealDocuments(t *testing.T) {
	dir := corpusDir(t)
	t.Run("examples", func(t *testing.T) {
		var files []string
		for _, v := range []string{"2.0", "3.0", "3.1"} {
			err := filepath.WalkDir(filepath.Join(dir, "oas-examples", v), func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if ext := filepath.Ext(p); !d.IsDir() && (ext == ".json" || ext == ".yaml" || ext == ".yml") {
					files = append(files, p)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(files) < 100 {
			t.Fatalf("%d documents under %s, want the whole corpus (over 100)", len(files), dir)
		}
		imported := 0
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Import(b, Options{})
			if err != nil {
				t.Logf("refused %s: %v", f, err)
				continue
			}
			imported++
			loadsAs31(t, f, res)
		}
		if imported*100 < len(files)*95 {
			t.Errorf("%d of %d documents imported, want at least 95 %%", imported, len(files))
		}
		t.Logf("%d of %d documents imported", imported, len(files))
	})
	t.Run("github", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, "github", "api.github.com.json"))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		operations := 0
		for _, item := range doc.Paths {
			for k := range item {
				if strings.Contains("get put post delete options head patch trace", k) {
					operations++
				}
			}
		}
		start := time.Now()
		res, err := Import(b, Options{})
		if err != nil {
			t.Fatalf("GitHub's description refused: %.2000v", err)
		}
		// Timed here for the log only: speed is the benchmark's to judge.
		t.Logf("%d operations, %d routes, %d warnings, imported in %v", operations, len(res.Service.Routes), len(res.Warnings), time.Since(start))
		if operations < 1000 || len(res.Service.Routes) != operations {
			t.Errorf("%d routes of %d operations, want one route per operation", len(res.Service.Routes), operations)
		}
		loadsAs31(t, "GitHub's description", res)
	})
}

// loadsAs31 checks that what Portico exports of an imported document loads
// as OpenAPI 3.1 and passes kin-openapi's validation, but for examples and
// defaults that do not match their schemas (kin-openapi's SchemaError): those are the document's own,
// kept as published (OpenAPI says an example SHOULD match its schema, and
// import does not check them), and kin-openapi checks them in a 3.1
// document whatever its options say.
func loadsAs31(t *testing.T, name string, res *Result) {
	t.Helper()
	out, err := Export(stored(res), ExportOptions{Portico: true})
	if err != nil {
		t.Errorf("%s: export: %v", name, err)
		return
	}
	b, err := Marshal(out, false)
	if err != nil {
		t.Errorf("%s: marshal the export: %v", name, err)
		return
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Errorf("%s: the export does not load: %v", name, err)
		return
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("%s: exported openapi %q, want 3.1", name, doc.OpenAPI)
	}
	ctx := openapi3.WithValidationOptions(context.Background(), openapi3.EnableMultiError(),
		openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation())
	err = doc.Validate(ctx)
	if err == nil {
		return
	}
	var me openapi3.MultiError
	if !errors.As(err, &me) {
		me = openapi3.MultiError{err}
	}
	for _, e := range me {
		// A value checked against a schema: in a document, an example's
		// or a default's.
		if _, ok := errors.AsType[*openapi3.SchemaError](e); ok {
			continue
		}
		t.Errorf("%s: the export is not valid: %.500v", name, e)
	}
}
