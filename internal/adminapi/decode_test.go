package adminapi

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMergePatch runs RFC 7396's appendix A examples.
func TestMergePatch(t *testing.T) {
	tests := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.target+"+"+tt.patch, func(t *testing.T) {
			var target, patch, want any
			for _, x := range []struct {
				s string
				v *any
			}{{tt.target, &target}, {tt.patch, &patch}, {tt.want, &want}} {
				if err := json.Unmarshal([]byte(x.s), x.v); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(want, mergePatch(target, patch)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestStrictDecodeFields(t *testing.T) {
	type inner struct {
		N int `json:"n"`
	}
	type outer struct {
		Name  string  `json:"name"`
		Inner inner   `json:"inner"`
		List  []inner `json:"list"`
	}
	tests := []struct {
		name, body, field string
	}{
		{"unknown top-level field", `{"nope":1}`, "nope"},
		{"unknown nested field", `{"inner":{"x":1}}`, "x"},
		{"wrong type", `{"name":1}`, "name"},
		{"wrong nested type", `{"inner":{"n":"1"}}`, "inner.n"},
		{"syntax", `{"name":"a",}`, "body"},
		{"trailing value", `{} {}`, "body"},
		{"trailing garbage", `{} x`, "body"},
		{"blank", " \n", "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v outer
			err := strictDecode([]byte(tt.body), &v)
			p, _ := toProblem(err)
			if p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
				t.Errorf("problem = %+v, want 400 naming %s", p, tt.field)
			}
		})
	}
}
