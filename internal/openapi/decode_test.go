package openapi

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestDecodeDocumentAsUnmarshal: the split decoding gives exactly what
// json.Unmarshal into openapi3.T gives, on documents shaped to take each
// of its ways (and the plain one), and on GitHub's description when the
// corpus is there.
func TestDecodeDocumentAsUnmarshal(t *testing.T) {
	docs := map[string]string{
		"small": `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"x-top":{"a":[1,2]},"other":true,
			"paths":{"/a/{id}":{"parameters":[{"$ref":"#/components/parameters/id"}],"get":{"responses":{"200":{"description":"ok"}}}},"/b":null,"x-p":1},
			"components":{"schemas":{"S":{"type":"object","properties":{"n":{"type":"integer","x-e":1}}},"N":null,"B":true},
				"parameters":{"id":{"name":"id","in":"path","required":true,"schema":{"type":"string"}}},
				"examples":{"e":{"value":{"k":"v"}}},"securitySchemes":{"k":{"type":"apiKey","in":"header","name":"k"}},
				"headers":null,"x-c":"c","more":[1]}}`,
		"no paths or components": `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"webhooks":{"w":{"post":{}}}}`,
		"case of a field":        `{"openapi":"3.0.3","Info":{"title":"t","version":"1"},"paths":{}}`,
		"case of paths":          `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"Paths":{"/a":{}}}`,
		"case of a section":      `{"openapi":"3.0.3","paths":{},"components":{"Schemas":{"S":{}}}}`,
		"two cases of a section": `{"openapi":"3.0.3","paths":{},"components":{"schemas":{"T":{}},"Schemas":{"S":{}}}}`,
		"a section twice":        `{"openapi":"3.0.3","paths":{},"components":{"schemas":{"T":{}},"schemas":{"S":{}}}}`,
		"null sections":          `{"openapi":"3.0.3","paths":{},"components":{"schemas":null,"examples":{}}}`,
		"null components":        `{"openapi":"3.0.3","paths":null,"components":null}`,
	}
	// These the split cannot decode exactly: they take the plain way.
	plain := map[string]bool{"case of paths": true, "two cases of a section": true, "null components": true, "a section twice": true}
	if dir := os.Getenv("PORTICO_OPENAPI_CORPUS"); dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, "github", "api.github.com.json"))
		if err != nil {
			t.Fatal(err)
		}
		docs["GitHub's description"] = string(b)
	}
	for name, js := range docs {
		t.Run(name, func(t *testing.T) {
			want := &openapi3.T{}
			if err := json.Unmarshal([]byte(js), want); err != nil {
				t.Fatal(err)
			}
			got, err := decodeDocument([]byte(js), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, split := decodeSplit([]byte(js), nil); split != !plain[name] {
				t.Errorf("split decoding used: %v, want %v", split, !plain[name])
			}
			if !reflect.DeepEqual(got, want) {
				gb, _ := json.Marshal(got)
				wb, _ := json.Marshal(want)
				t.Errorf("decoded differently:\n got %.3000s\nwant %.3000s", gb, wb)
			}
		})
	}
}

// TestDecodeDocumentErrors: a document the split cannot decode is refused
// as json.Unmarshal refuses it.
func TestDecodeDocumentErrors(t *testing.T) {
	for _, js := range []string{
		`{"openapi":"3.0.3","paths":{"/a":{"get":{"parameters":"no"}}}}`,
		`{"openapi":"3.0.3","components":{"schemas":{"S":{"type":7}}}}`,
		`{"openapi":"3.0.3","info":[]}`,
		`{"openapi":"3.0.3","paths":[]}`,
		`{"openapi":"3.0.3","components":{"schemas":[]}}`,
	} {
		want := json.Unmarshal([]byte(js), &openapi3.T{})
		_, err := decodeDocument([]byte(js), nil)
		if want == nil || err == nil || err.Error() != decodeError(want).Error() {
			t.Errorf("%s: error %v, want %v", js, err, want)
		}
	}
}

// FuzzObjectMembers: objectMembers splits an object as json.Unmarshal
// into a map of raw values does, and takes nothing json would refuse but
// for the values' insides (their decoders check those).
func FuzzObjectMembers(f *testing.F) {
	for _, s := range []string{`{}`, ` {"a":1, "b" : [1,{"c":"]}"}], "\u00e9\"":null} `, `{"a":"\\"}`, `{"a":1,}`, `{"a" 1}`, `{"a":1} x`, `{"é":tru}`, "{\"a\xff\":{}}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want map[string]json.RawMessage
		werr := json.Unmarshal(b, &want)
		got, ok := objectMembers(b)
		if werr == nil {
			if !ok {
				if n := topMembers(b); n == len(want) {
					t.Fatalf("%q: refused, json takes it", b)
				}
				return // a name given twice
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: %q, json gives %q", b, got, want)
			}
			return
		}
		if !ok {
			return
		}
		for k, v := range got {
			if !json.Valid(v) {
				return // the value's decoder refuses it
			}
			if _, err := json.Marshal(k); err != nil {
				t.Fatal(err)
			}
		}
		t.Fatalf("%q: split into %q, json refuses it: %v", b, got, werr)
	})
}

// topMembers counts the members of a valid JSON object.
func topMembers(b []byte) int {
	dec := json.NewDecoder(bytes.NewReader(b))
	n, depth, key := 0, 0, true
	for {
		tok, err := dec.Token()
		if err != nil {
			return n
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if depth == 1 {
				key = true
			}
			depth++
			continue
		case json.Delim('}'), json.Delim(']'):
			depth--
			if depth == 1 {
				key = true
			}
			continue
		}
		if depth == 1 {
			if key {
				n++
			}
			key = !key
		}
	}
}

// TestDocumentHead: the head is read as json.Unmarshal into its two
// fields reads it, and a document with a syntax error is refused for that
// first, whatever its head says.
func TestDocumentHead(t *testing.T) {
	for _, js := range []string{
		`{"openapi":"3.0.3","paths":{}}`,
		`{"OpenAPI":"3.0.3"}`,
		`{"openapi":"3.0.3","openapi":"3.1.0"}`,
		`{"openapi":"3.0.3","Openapi":"3.1.0"}`,
		`{"swagger":null,"openapi":"3.1.0"}`,
		`{"swagger":"2.0","openapi":7}`,
		`{"x":1}`,
		`{"openapi":tru}`,
		`{"swagger":"1.2","x":[}`,
		`{"openapi":"2.0","x":{"a":}}`,
		`{"x":{"a" 1}}`,
		`{"openapi":"3.0.3","paths":{"/":{"get":{]}}}}`,
	} {
		var head struct {
			Swagger any `json:"swagger"`
			OpenAPI any `json:"openapi"`
		}
		werr := json.Unmarshal([]byte(js), &head)
		sw, oa, _, err := documentHead([]byte(js))
		if werr != nil {
			// The head need not see it (the members' decoders do), load must.
			if _, _, _, lerr := load([]byte(js)); lerr == nil || lerr.Error() != decodeError(werr).Error() {
				t.Errorf("%s: load error %v, want %v", js, lerr, decodeError(werr))
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(sw, head.Swagger) || !reflect.DeepEqual(oa, head.OpenAPI) {
			t.Errorf("%s: head %v %v (%v), want %v %v", js, sw, oa, err, head.Swagger, head.OpenAPI)
		}
	}
}
