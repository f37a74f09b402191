package adminapi

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/portico-gw/portico/internal/spec"
)

// TestDecoderAndSchemaAgreeOnKinds feeds one sample of every JSON kind to
// every kind of Go type: the strict decoder (checkShape) must accept a
// sample exactly when the OpenAPI schema derived for the type does. The
// patch variant of the schema is compared: required members are checked
// by each resource's Validate, not by the decoder.
func TestDecoderAndSchemaAgreeOnKinds(t *testing.T) {
	type small struct {
		A string `json:"a"`
		B int    `json:"b,omitempty"`
	}
	types := []reflect.Type{
		reflect.TypeFor[string](), reflect.TypeFor[bool](), reflect.TypeFor[int](), reflect.TypeFor[int64](),
		reflect.TypeFor[uint16](), reflect.TypeFor[uint64](), reflect.TypeFor[float64](), reflect.TypeFor[[]byte](),
		reflect.TypeFor[[]string](), reflect.TypeFor[map[string]int](), reflect.TypeFor[time.Time](),
		reflect.TypeFor[json.RawMessage](), reflect.TypeFor[any](), reflect.TypeFor[*int](), reflect.TypeFor[small](),
		reflect.TypeFor[spec.Node](),
	}
	samples := []string{
		`"x"`, `"2026-12-03T10:00:00Z"`, `true`, `0`, `7`, `-3`, `1.5`, `[]`, `["a"]`, `[1]`,
		`{}`, `{"a":"x"}`, `{"a":1}`, `{"c":true}`, `{"k":2}`, `{"host":"h","port":80}`,
	}
	for _, ty := range types {
		g := &schemas{defs: obj{}, names: map[string]reflect.Type{}}
		root := g.of(ty, true)
		g.defs["SampleRoot"] = root
		b, _ := json.Marshal(obj{"openapi": "3.1.0", "info": obj{"title": "t", "version": "1"}, "paths": obj{},
			"components": obj{"schemas": g.defs}})
		loader := openapi3.NewLoader()
		d, err := loader.LoadFromData(b)
		if err != nil {
			t.Fatalf("%s: %v", ty, err)
		}
		if err := d.Validate(loader.Context); err != nil {
			t.Fatalf("%s: schema %v: %v", ty, root, err)
		}
		schema := d.Components.Schemas["SampleRoot"].Value
		for _, sample := range samples {
			v, err := parseJSON([]byte(sample))
			if err != nil {
				t.Fatal(err)
			}
			var fe spec.FieldErrors
			checkShape(v, ty, "", &fe)
			decoder := fe.Err() == nil
			var plain any
			json.Unmarshal([]byte(sample), &plain)
			described := schema.VisitJSON(plain, openapi3.EnableFormatValidation()) == nil
			if decoder != described {
				t.Errorf("%s with %s: decoder accepts %v, schema %v accepts %v (%v)", ty, sample, decoder, root, described, fe.Err())
			}
		}
	}
}
