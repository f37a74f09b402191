package openapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// hoistCases are the objects of a document decodeSplit decodes with a
// hoister: its components' schemas, parameters, headers, request bodies
// and responses, and its path items.
func hoistCases(t *testing.T, js []byte) map[string]struct {
	raw []byte
	new func() json.Unmarshaler
} {
	t.Helper()
	out := map[string]struct {
		raw []byte
		new func() json.Unmarshaler
	}{}
	top, ok := objectMembers(js)
	if !ok {
		t.Fatal("not an object")
	}
	if c, ok := objectMembers(top["components"]); ok {
		for section, mk := range map[string]func() json.Unmarshaler{
			"schemas":       func() json.Unmarshaler { return &openapi3.SchemaRef{} },
			"parameters":    func() json.Unmarshaler { return &openapi3.ParameterRef{} },
			"headers":       func() json.Unmarshaler { return &openapi3.HeaderRef{} },
			"requestBodies": func() json.Unmarshaler { return &openapi3.RequestBodyRef{} },
			"responses":     func() json.Unmarshaler { return &openapi3.ResponseRef{} },
		} {
			members, _ := objectMembers(c[section])
			for name, raw := range members {
				out["/components/"+section+"/"+name] = struct {
					raw []byte
					new func() json.Unmarshaler
				}{raw, mk}
			}
		}
	}
	paths, _ := objectMembers(top["paths"])
	for p, raw := range paths {
		out["/paths/"+p] = struct {
			raw []byte
			new func() json.Unmarshaler
		}{raw, func() json.Unmarshaler { return &openapi3.PathItem{} }}
	}
	return out
}

// TestDecodeHoisted: decoding with a hoister gives what kin-openapi's
// UnmarshalJSON gives, without falling back to it, on every object of
// the test documents and GitHub's description (when the corpus is there).
func TestDecodeHoisted(t *testing.T) {
	docs := map[string][]byte{
		"nested": []byte(`{"openapi":"3.1.0","components":{"schemas":{
			"S":{"type":"object","properties":{"a":{"type":"array","items":{"allOf":[{"$ref":"#/components/schemas/T"},{"type":"object","properties":{"b":{"type":["string","null"],"x-e":{"properties":{"c":1}}}}}]}},
				"d":{"additionalProperties":{"type":"integer"},"not":{"type":"string"},"example":{"properties":{"x":{}}}},
				"r":{"$ref":"#/components/schemas/T","description":"with a sibling","properties":{"s":{}}}}},
			"T":true,"U":{"oneOf":[true,{"type":"null"}],"anyOf":[]}},
			"responses":{"R":{"description":"r","headers":{"H":{"schema":{"type":"string"}},"x-h":{"schema":{}}},"content":{"application/json":{"schema":{"type":"object"},"examples":{"e":{"value":{"schema":{}}}}}},"links":{"l":{"requestBody":{"schema":{}}}}}}},
			"paths":{"/a":{"parameters":[{"name":"p","in":"query","schema":{"type":"string"}}],"get":{"requestBody":{"content":{"text/plain":{"schema":{"type":"string"}}}},
				"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"properties":{"a":{"items":{"type":"string"}}}}}}},"x-r":{"schema":{}}},
				"callbacks":{"c":{"{$url}":{"post":{"responses":{"200":{"description":"ok"}}}}}}}}}}`),
	}
	for _, f := range testFiles {
		if filepath.Ext(f) == ".json" && !strings.Contains(f, "2.0") { // Swagger 2 is converted, not decoded so
			docs[f] = readTestdata(t, f)
		}
	}
	if dir := os.Getenv("PORTICO_OPENAPI_CORPUS"); dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, "github", "api.github.com.json"))
		if err != nil {
			t.Fatal(err)
		}
		docs["GitHub's description"] = b
	}
	for name, js := range docs {
		for ptr, c := range hoistCases(t, js) {
			want, got := c.new(), c.new()
			if err := want.UnmarshalJSON(c.raw); err != nil {
				t.Fatalf("%s %s: %v", name, ptr, err)
			}
			if err := decodeHoisted(got, c.raw); err != nil {
				t.Errorf("%s %s: %v", name, ptr, err)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				gb, _ := json.Marshal(got)
				wb, _ := json.Marshal(want)
				t.Errorf("%s %s: decoded differently:\n got %.2000s\nwant %.2000s", name, ptr, gb, wb)
			}
		}
	}
}

// TestDecodeHoistedMisses: an object where a placeholder would land
// outside a reference object is decoded the plain way, the same.
func TestDecodeHoistedMisses(t *testing.T) {
	for _, raw := range []string{
		`{"type":"object","properties":{"a":{}},"unknownKeyword":{"schema":{"type":"string"}}}`,
		`{"allOf":[{"type":"string"}],"properties":{"a":{"$ref":"#/portico-inline/0"}}}`,
		`{"items":[{"type":"string"}],"properties":{"a":{"items":{}}},"properties":{"b":{}}}`,
		`{"properties":{"a":{"type":7}}}`,
		`{"properties":{"a":{"items":{]}}}}`,
	} {
		want, got := &openapi3.SchemaRef{}, &openapi3.SchemaRef{}
		werr := want.UnmarshalJSON([]byte(raw))
		err := decodeHoisted(got, []byte(raw))
		if werr != nil {
			if err == nil {
				t.Errorf("%s: decoded, kin-openapi refuses it: %v", raw, werr)
			}
			continue
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded differently", raw)
		}
		var s openapi3.SchemaRef
		_, ok := decodeSplit([]byte(`{"openapi":"3.0.3","components":{"schemas":{"S":`+raw+`}}}`), nil)
		if !ok {
			continue
		}
		doc, _ := decodeDocument([]byte(`{"openapi":"3.0.3","components":{"schemas":{"S":`+raw+`}}}`), nil)
		s = *doc.Components.Schemas["S"]
		if !reflect.DeepEqual(&s, want) {
			t.Errorf("%s: the document's schema decoded differently", raw)
		}
	}
}

// FuzzDecodeDocument: what json.Unmarshal decodes into openapi3.T,
// decodeDocument decodes the same. (It may take a little more: numbers
// past 2^53 in integer fields of responses and path items, which
// kin-openapi's re-encoding of those objects turns into floats.)
func FuzzDecodeDocument(f *testing.F) {
	for _, name := range testFiles {
		if strings.Contains(name, "3.") && strings.HasSuffix(name, ".json") {
			f.Add(readTestdata(f, name))
		}
	}
	f.Add([]byte(`{"openapi":"3.1.0","paths":{"/a":{"get":{"responses":{"200":{"content":{"a/b":{"schema":{"properties":{"x":{"items":{"maxLength":1.0}}}}}}}}}}}}`))
	f.Add([]byte(`{"openapi":"3.0.3","components":{"schemas":{"S":{"allOf":[{"properties":{"a":{"not":{}}}}],"additionalProperties":false}},"parameters":{"p":{"schema":{"type":"string"}}}}}`))
	f.Add([]byte(`{"openapi":"3.0.3","paths":{"/":{"get":{"responses":{"200":{"Content":{"a/b":{"sChemA":{"properties":{"0":{}}}}}}}}}}}`))
	f.Add([]byte(`{"openapi":"3.0.3","paths":{"/":{"get":{"Parameters":[{"schema":{}}],"responses":{"200":{"links":{"l":{"requestBody":{"schema":{}}}}}}}}}}`))
	f.Fuzz(func(t *testing.T, js []byte) {
		want := &openapi3.T{}
		if json.Unmarshal(js, want) != nil {
			return
		}
		got, err := decodeDocument(js, nil)
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			t.Fatalf("decoded differently:\n got %s\nwant %s", gb, wb)
		}
	})
}
