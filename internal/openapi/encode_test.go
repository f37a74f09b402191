package openapi

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// encodesAsMarshal fails unless encodeJSON(v) writes what json.Marshal(v) writes.
func encodesAsMarshal(t *testing.T, name string, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, err := encodeJSON(v)
	if (err != nil) != (werr != nil) {
		t.Fatalf("%s: error %v, json.Marshal's %v", name, err, werr)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: differs at byte %d:\n got …%.300s\nwant …%.300s", name, i, got[max(0, i-100):], want[max(0, i-100):])
	}
}

type textKey string

func (k textKey) MarshalText() ([]byte, error) { return []byte("text-" + k), nil }

type withTypes struct{ T openapi3.Types }

// TestEncodeJSONAsMarshal: values json.Marshal encodes in its own ways
// are encoded the same.
func TestEncodeJSONAsMarshal(t *testing.T) {
	one := openapi3.Types{"string"}
	for name, v := range map[string]any{
		"nil":                                nil,
		"scalars":                            []any{1.5, "a<b>&", true, nil, float32(0.1), int64(1) << 60, uint64(1) << 63},
		"invalid UTF-8":                      map[string]any{"a\xffb": "c\xff\xfed"},
		"bytes":                              map[string]any{"b": []byte("hi"), "r": json.RawMessage(`{"x": 1}`)},
		"types in a slice":                   []openapi3.Types{{"string"}, {"string", "null"}, nil},
		"types in a map":                     map[string]openapi3.Types{"a": {"string"}},
		"types behind a pointer to a struct": &withTypes{T: one},
		"types in a struct":                  withTypes{T: one},
		"pointer to types":                   &one,
		"nil kin pointer":                    map[string]any{"s": (*openapi3.Schema)(nil), "r": (*openapi3.SchemaRef)(nil)},
		"text keys":                          map[textKey]int{"a": 1},
		"int keys":                           map[int]string{2: "b", 10: "a"},
		"kin values":                         map[string]any{"s": openapi3.NewObjectSchema().WithProperty("n", openapi3.NewIntegerSchema()), "p": []*openapi3.ParameterRef{{Value: openapi3.NewPathParameter("id")}}},
		"nil maps and slices":                map[string]any{"m": map[string]*openapi3.SchemaRef(nil), "s": []*openapi3.ParameterRef(nil), "a": []any(nil)},
	} {
		encodesAsMarshal(t, name, v)
	}
}

// TestEncodeJSONDocuments: the documents import reads, whole and each
// operation, are encoded as json.Marshal encodes them (the published ones
// too when the corpus of TestImportRealDocuments is there).
func TestEncodeJSONDocuments(t *testing.T) {
	docs := map[string][]byte{}
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
			continue
		}
		encodesAsMarshal(t, name, doc)
		y, err := doc.MarshalYAML()
		if err != nil {
			t.Fatal(err)
		}
		m := y.(map[string]any)
		want, _ := json.Marshal(m)
		got, err := encodeDocument(m)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: encodeDocument differs from json.Marshal (%v)", name, err)
		}
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				encodesAsMarshal(t, name+" "+method+" "+path, op)
			}
		}
	}
}
