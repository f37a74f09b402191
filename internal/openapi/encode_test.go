package openapi

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEncodeDocument: encodeDocument writes what json.Marshal writes, on
// the documents import reads (the published ones too when the corpus of
// TestImportRealDocuments is there) and on components with extensions
// and names json escapes.
func TestEncodeDocument(t *testing.T) {
	docs := map[string][]byte{
		"extensions": []byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"x-a":{"b":[1,"<&>"]},
			"components":{"x-c":{"d":1},"schemas":{"<S>":{"type":"string"},"é\u2028":{"$ref":"#/components/schemas/%3CS%3E"}},
				"examples":{"e":{"value":{"k":"v"}}}}}`),
		"no components": []byte(`{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{}}`),
	}
	for _, f := range testFiles {
		docs[f] = readTestdata(t, f)
	}
	if dir := os.Getenv("PORTICO_OPENAPI_CORPUS"); dir != "" {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") && !strings.HasSuffix(p, ".yaml") {
				return err
			}
			b, err := os.ReadFile(p)
			docs[p] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range docs {
		doc, _, _, err := load(b)
		if err != nil {
			if !strings.Contains(name, "/") {
				t.Fatalf("%s: %v", name, err)
			}
			continue
		}
		y, err := doc.MarshalYAML()
		if err != nil {
			t.Fatal(err)
		}
		m := y.(map[string]any)
		want, werr := json.Marshal(m)
		got, err := encodeDocument(m)
		if err != nil || werr != nil || !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("%s: differs at byte %d (%v, %v):\n got …%.300s\nwant …%.300s", name, i, err, werr, got[max(0, i-100):], want[max(0, i-100):])
		}
	}
}
