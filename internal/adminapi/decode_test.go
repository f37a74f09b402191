package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/store"
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
	type embedded struct {
		E string `json:"e"`
	}
	type outer struct {
		embedded
		Name   string            `json:"name"`
		Inner  inner             `json:"inner"`
		List   []inner           `json:"list"`
		Labels map[string]string `json:"labels"`
		Small  uint8             `json:"small"`
		Raw    json.RawMessage   `json:"raw"`
		Any    any               `json:"any"`
	}
	tests := []struct {
		name, body string
		fields     []string // nil: decodes
	}{
		{"unknown top-level field", `{"nope":1}`, []string{"nope"}},
		{"unknown nested field", `{"inner":{"x":1}}`, []string{"inner.x"}},
		{"unknown field in a list", `{"list":[{"n":1},{"x":1}]}`, []string{"list[1].x"}},
		{"every unknown field", `{"b":1,"a":2,"inner":{"c":3}}`, []string{"a", "b", "inner.c"}},
		{"name in another case", `{"NAME":"x"}`, []string{"NAME"}},
		{"wrong type", `{"name":1}`, []string{"name"}},
		{"wrong nested type", `{"inner":{"n":"1"}}`, []string{"inner.n"}},
		{"wrong type in a list", `{"list":[{"n":1},{"n":true}]}`, []string{"list[1].n"}},
		{"wrong type in a map", `{"labels":{"a":"x","b":2}}`, []string{"labels.b"}},
		{"fraction for an integer", `{"inner":{"n":1.5}}`, []string{"inner.n"}},
		{"integer out of range", `{"small":256}`, []string{"small"}},
		{"negative for unsigned", `{"small":-1}`, []string{"small"}},
		{"array for an object", `[]`, []string{"body"}},
		{"syntax", `{"name":"a",}`, []string{"body"}},
		{"trailing value", `{} {}`, []string{"body"}},
		{"trailing garbage", `{} x`, []string{"body"}},
		{"blank", " \n", []string{"body"}},
		{"embedded member", `{"e":"x"}`, nil},
		{"raw and any take anything", `{"raw":[1,{"x":2}],"any":{"y":[3]}}`, nil},
		{"null anywhere", `{"name":null,"inner":null,"list":[null],"labels":{"a":null}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v outer
			err := strictDecode([]byte(tt.body), &v)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("strictDecode: %v, want success", err)
				}
				return
			}
			p, _ := toProblem(err)
			var got []string
			for _, e := range p.Errors {
				got = append(got, e.Field)
			}
			if p.Status != 400 || !cmp.Equal(got, tt.fields) {
				t.Errorf("problem = %+v, want 400 naming %v", p, tt.fields)
			}
		})
	}
}

// TestPatchKeepsLargeIntegers checks that a merge patch does not round
// integers through float64.
func TestPatchKeepsLargeIntegers(t *testing.T) {
	type obj struct {
		Big  int64  `json:"big"`
		Name string `json:"name"`
	}
	old := obj{Big: 1<<62 + 1, Name: "a"}
	got, err := decodeUpdate([]byte(`{"name":"b"}`), true, old)
	if err != nil {
		t.Fatal(err)
	}
	if want := (obj{Big: 1<<62 + 1, Name: "b"}); got != want {
		t.Errorf("patched = %+v, want %+v", got, want)
	}
}

// TestStoreUnavailableIs503: a store whose database is away answers 503,
// not 500, and says nothing was changed.
func TestStoreUnavailableIs503(t *testing.T) {
	p, internal := toProblem(fmt.Errorf("publish: %w: %w", store.ErrUnavailable, errors.New("connection refused")))
	if p.Status != 503 || internal || !strings.Contains(p.Detail, "nothing was changed") || strings.Contains(p.Detail, "refused") {
		t.Errorf("problem = %+v (internal %v), want a 503 that keeps the cause inside", p, internal)
	}
}
