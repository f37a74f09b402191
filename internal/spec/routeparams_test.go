package spec

import (
	"encoding/json"
	"strings"
	"testing"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestRouteParametersValidate(t *testing.T) {
	base := func(ps []Parameter, be *Backend) Route {
		return Route{Name: "r", Paths: []string{"/items/{id}"}, Parameters: ps, Backend: be}
	}
	many := make([]Parameter, 31)
	for i := range many {
		many[i] = Parameter{Name: "q" + strings.Repeat("x", i), In: "query"}
	}
	tests := []struct {
		name  string
		route Route
		want  string
	}{
		{"every location and a mapping of each kind", base([]Parameter{
			{Name: "uid", In: "query", Type: "integer", Required: true, Backend: &ParameterTarget{In: "header", Name: "X-User-Id"}},
			{Name: "id", In: "path", Required: true, Backend: &ParameterTarget{In: "query", Name: "item"}},
			{Name: "X-Trace", In: "header", Backend: &ParameterTarget{In: "body", Pointer: "/meta/trace"}},
			{Name: "session", In: "cookie"},
			{Name: "id", In: "body", Pointer: "/user/id", Type: "integer", Backend: &ParameterTarget{In: "query", Name: "user"}},
			{Name: "page", In: "query", Type: "integer", Default: raw(`1`), Enum: []json.RawMessage{raw(`1`), raw(`2`)}},
		}, &Backend{Path: "/items", Parameters: []ConstParameter{{In: "header", Name: "X-Key", Value: raw(`"k"`)},
			{In: "body", Pointer: "/v", Value: raw(`{"a":1}`)}}}), ""},
		{"path target in backend.path", Route{Name: "r", Paths: []string{"/a"}, Parameters: []Parameter{
			{Name: "item", In: "query", Backend: &ParameterTarget{In: "path", Name: "item"}}}, Backend: &Backend{Path: "/b/{item}"}}, ""},
		{"too many", Route{Name: "r", Parameters: many}, "parameters"},
		{"same name and in", base([]Parameter{{Name: "a", In: "query"}, {Name: "a", In: "query"}}, nil), "parameters[1].name"},
		{"same name other place", base([]Parameter{{Name: "a", In: "query"}, {Name: "a", In: "header"}}, nil), ""},
		{"header names compare without case", base([]Parameter{{Name: "X-A", In: "header"}, {Name: "x-a", In: "header"}}, nil), "parameters[1].name"},
		{"path parameter not in the paths", base([]Parameter{{Name: "nope", In: "path"}}, nil), "parameters[0].name"},
		{"path parameter with a default", base([]Parameter{{Name: "id", In: "path", Default: raw(`"x"`)}}, nil), "parameters[0].default"},
		{"unknown in and type", base([]Parameter{{Name: "a", In: "form", Type: "date"}}, nil), "parameters[0].in,parameters[0].type"},
		{"default of another type", base([]Parameter{{Name: "a", In: "query", Type: "integer", Default: raw(`"1"`)}}, nil), "parameters[0].default"},
		{"fractional integer", base([]Parameter{{Name: "a", In: "query", Type: "integer", Default: raw(`1.5`)}}, nil), "parameters[0].default"},
		{"enum of another type", base([]Parameter{{Name: "a", In: "query", Type: "boolean", Enum: []json.RawMessage{raw(`true`), raw(`1`)}}}, nil), "parameters[0].enum[1]"},
		{"default not in enum", base([]Parameter{{Name: "a", In: "query", Default: raw(`"c"`), Enum: []json.RawMessage{raw(`"a"`)}}}, nil), "parameters[0].default"},
		{"bad header name", base([]Parameter{{Name: "X A", In: "header"}}, nil), "parameters[0].name"},
		{"bad pointer", base([]Parameter{{Name: "a", In: "body", Pointer: "a/b"}}, nil), "parameters[0].pointer"},
		{"pointer not ending in the name", base([]Parameter{{Name: "a", In: "body", Pointer: "/x/b"}}, nil), "parameters[0].pointer"},
		{"pointer bad escape", base([]Parameter{{Name: "a", In: "body", Pointer: "/x~2/a"}}, nil), "parameters[0].pointer"},
		{"pointer on a query", base([]Parameter{{Name: "a", In: "query", Pointer: "/a"}}, nil), "parameters[0].pointer"},
		{"mapped to a reserved header", base([]Parameter{{Name: "a", In: "query", Backend: &ParameterTarget{In: "header", Name: "Host"}}}, nil), "parameters[0].backend.name"},
		{"mapped to where it is", base([]Parameter{{Name: "a", In: "query", Backend: &ParameterTarget{In: "query", Name: "a"}}}, nil), "parameters[0].backend"},
		{"two mapped to one place", base([]Parameter{
			{Name: "a", In: "query", Backend: &ParameterTarget{In: "header", Name: "X-A"}},
			{Name: "b", In: "query", Backend: &ParameterTarget{In: "header", Name: "x-a"}}}, nil), "parameters[1].backend.name"},
		{"mapped onto an unmapped parameter", base([]Parameter{
			{Name: "a", In: "query"},
			{Name: "b", In: "header", Backend: &ParameterTarget{In: "query", Name: "a"}}}, nil), "parameters[1].backend.name"},
		{"mapped onto a kept parameter's place is fine when the kept one moved", base([]Parameter{
			{Name: "a", In: "query", Backend: &ParameterTarget{In: "header", Name: "X-A"}},
			{Name: "b", In: "header", Backend: &ParameterTarget{In: "query", Name: "a"}}}, nil), ""},
		{"body fields inside each other", base([]Parameter{
			{Name: "user", In: "body", Type: "object"},
			{Name: "id", In: "body", Pointer: "/user/id"}}, nil), "parameters[1].pointer"},
		{"constant collides with a mapping", base([]Parameter{
			{Name: "a", In: "query", Backend: &ParameterTarget{In: "header", Name: "X-Key"}}},
			&Backend{Parameters: []ConstParameter{{In: "header", Name: "x-key", Value: raw(`"k"`)}}}), "backend.parameters[0].name"},
		{"constant of a bad kind", base(nil, &Backend{Parameters: []ConstParameter{
			{In: "header", Name: "X-A", Value: raw(`{"a":1}`)},
			{In: "path", Name: "p", Value: raw(`"x"`)},
			{In: "header", Name: "X-B"},
			{In: "header", Name: "X-C", Value: raw(`"a\r\nB: c"`)}}}),
			"backend.parameters[0].value,backend.parameters[1].in,backend.parameters[2].value,backend.parameters[3].value"},
		{"path target missing from backend.path", Route{Name: "r", Paths: []string{"/a"}, Parameters: []Parameter{
			{Name: "item", In: "query", Backend: &ParameterTarget{In: "path", Name: "item"}}}}, "parameters[0].backend.name"},
		{"mapped path parameter needs backend.path", base([]Parameter{
			{Name: "id", In: "path", Backend: &ParameterTarget{In: "query", Name: "item"}}}, nil), "backend.path"},
		{"kept path parameter needs none", base([]Parameter{
			{Name: "id", In: "path", Backend: &ParameterTarget{In: "query", Name: "item", Keep: true}}}, nil), ""},
		{"mapping on a sql backend", base([]Parameter{{Name: "a", In: "query", Default: raw(`"x"`)}},
			&Backend{Type: "sql", SQLBackend: &SQLBackend{DataSource: "db", Table: "t"}}), "backend.type"},
		{"mapping on a composite backend", base([]Parameter{{Name: "a", In: "query", Default: raw(`"x"`)}},
			&Backend{Type: BackendComposite, Composite: &CompositeBackend{
				Steps:    []CompositeStep{{Name: "a", Path: "/a"}},
				Response: CompositeResponse{Body: "steps.a.body"}}}), "backend.type"},
		{"responses and errors", Route{Name: "r",
			Responses: []ResponseExample{{Status: 200, Example: raw(`{"id":1}`)}, {Status: 200, ContentType: "text/plain", Example: raw(`"ok"`)}},
			Errors:    []ErrorCode{{Code: "E1001", Status: 404, Message: "no such item"}}}, ""},
		{"bad responses and errors", Route{Name: "r",
			Responses: []ResponseExample{{Status: 200, Example: raw(`{}`)}, {Status: 200, Example: raw(`{`)}, {Status: 99, ContentType: "json", Example: raw(`1`)}},
			Errors:    []ErrorCode{{Code: "E1", Status: 200, Message: "x"}, {Code: "E1", Status: 500}}},
			"errors[0].status,errors[1].code,errors[1].message,responses[1].example,responses[1].status,responses[2].content_type,responses[2].status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(fields(tt.route.Validate()), ",")
			if got != tt.want {
				t.Errorf("bad fields = %q, want %q (err: %v)", got, tt.want, tt.route.Validate())
			}
		})
	}
}

func TestParsePointer(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"/a", []string{"a"}, true},
		{"/user/id", []string{"user", "id"}, true},
		{"/a~1b/c~0d", []string{"a/b", "c~d"}, true},
		{"", nil, false},
		{"/", nil, false},
		{"/a//b", nil, false},
		{"a", nil, false},
		{"/a~", nil, false},
		{"/1/2/3/4/5/6/7/8/9", nil, false},
	} {
		got, err := ParsePointer(tt.in)
		if (err == nil) != tt.ok || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("ParsePointer(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// FuzzParsePointer: a pointer that parses escapes back to itself.
func FuzzParsePointer(f *testing.F) {
	for _, s := range []string{"/a", "/a~1b/c~0d", "/~", "", "//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := ParsePointer(s)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, tok := range toks {
			b.WriteString("/" + EscapePointerToken(tok))
		}
		if b.String() != s {
			t.Fatalf("ParsePointer(%q) = %q, which escapes to %q", s, toks, b.String())
		}
	})
}
