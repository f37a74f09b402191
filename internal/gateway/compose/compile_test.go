package compose

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	longList := "[" + strings.Repeat("1,", 2001) + "1]"
	tests := []struct {
		name, def string
		field     string // a FieldError with this field
		message   string // whose message holds this
	}{
		{"unknown step", `{"steps":[{"name":"a","service":"s","route":"r","query":{"x":"steps.nope.body.id"}}],"response":{"body":"1"}}`,
			"steps[0].query.x", "reads steps.nope: no step nope"},
		{"unknown step by index", `{"steps":[{"name":"a","service":"s","route":"r","body":"steps[\"nope\"]"}],"response":{"body":"1"}}`,
			"steps[0].body", "no step nope"},
		{"self reference", `{"steps":[{"name":"a","service":"s","route":"r","if":"steps.a.ok"}],"response":{"body":"1"}}`,
			"steps[0].if", "cannot read its own answer"},
		{"cycle", `{"steps":[{"name":"a","service":"s","route":"r","body":"steps.b.body"},{"name":"b","service":"s","route":"r","after":["a"]}],"response":{"body":"1"}}`,
			"steps[0]", "steps a → b → a form a cycle"},
		{"longer cycle", `{"steps":[{"name":"x","service":"s","route":"r"},{"name":"a","service":"s","route":"r","after":["c"]},{"name":"b","service":"s","route":"r","after":["a","x"]},{"name":"c","service":"s","route":"r","query":{"q":"steps.b.status"}}],"response":{"body":"1"}}`,
			"", "form a cycle"},
		{"steps whole", `{"steps":[{"name":"a","service":"s","route":"r","body":"keys(steps)"}],"response":{"body":"1"}}`,
			"steps[0].body", "uses steps as a whole"},
		{"steps dynamic", `{"steps":[{"name":"a","service":"s","route":"r"},{"name":"b","service":"s","route":"r","body":"steps[request.query.which]"}],"response":{"body":"1"}}`,
			"steps[1].body", "uses steps as a whole"},
		{"os.Getenv", `{"steps":[{"name":"a","service":"s","route":"r","headers":{"x":"os.Getenv(\"HOME\")"}}],"response":{"body":"1"}}`,
			"steps[0].headers.x", "unknown name os"},
		{"env", `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"env"}}`,
			"response.body", "unknown name env"},
		{"$env", `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"$env"}}`,
			"response.body", "uses $env"},
		{"now", `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"now()"}}`,
			"response.body", "now"},
		{"syntax", `{"steps":[{"name":"a","service":"s","route":"r","params":{"id":"request.params.id +"}}],"response":{"body":"1"}}`,
			"steps[0].params.id", "unexpected token"},
		{"nodes", `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"` + longList + `"}}`,
			"response.body", "nodes"},
		{"too long", `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"` + strings.Repeat("1+", 2100) + `1"}}`,
			"response.body", "longer than"},
		{"unknown step in response", `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"steps.b.body"}}`,
			"response.body", "no step b"},
		{"headers whole", `{"steps":[{"name":"a","service":"s","route":"r","body":"request.headers"}],"response":{"body":"1"}}`,
			"steps[0].body", "request.headers as a whole"},
		{"header upper case", `{"steps":[{"name":"a","service":"s","route":"r","body":"request.headers[\"X-Id\"]"}],"response":{"body":"1"}}`,
			"steps[0].body", `request.headers["x-id"]`},
		{"after unknown", `{"steps":[{"name":"a","service":"s","route":"r","after":["zz"]}],"response":{"body":"1"}}`,
			"steps[0].after[0]", "names no step"},
		{"no steps", `{"steps":[],"response":{"body":"1"}}`, "steps", "at least one"},
		{"no body", `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{}}`, "response.body", "required"},
		{"service and path", `{"steps":[{"name":"a","service":"s","route":"r","path":"/x"}],"response":{"body":"1"}}`,
			"steps[0].path", "not both"},
		{"path param without value", `{"steps":[{"name":"a","path":"/users/{id}"}],"response":{"body":"1"}}`,
			"steps[0].params", `"id"`},
		{"param without place", `{"steps":[{"name":"a","path":"/users","params":{"id":"1"}}],"response":{"body":"1"}}`,
			"steps[0].params.id", "no parameter"},
		{"retries", `{"steps":[{"name":"a","service":"s","route":"r","retries":1000}],"response":{"body":"1"}}`,
			"steps[0].retries", "between 0 and 5"},
		{"timeout", `{"timeout":-1,"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"1"}}`,
			"timeout", "between"},
		{"fallback", `{"steps":[{"name":"a","service":"s","route":"r","fallback":"x"}],"response":{"body":"1"}}`,
			"", ""}, // json.Unmarshal keeps "x" (a string): valid
		{"name twice", `{"steps":[{"name":"a","service":"s","route":"r"},{"name":"a","service":"s","route":"r"}],"response":{"body":"1"}}`,
			"steps[1].name", "named twice"},
		{"bad name", `{"steps":[{"name":"A b","service":"s","route":"r"}],"response":{"body":"1"}}`,
			"steps[0].name", "lower-case identifier"},
		{"reserved header", `{"steps":[{"name":"a","service":"s","route":"r","headers":{"Host":"\"x\""}}],"response":{"body":"1"}}`,
			"steps[0].headers.Host", "set by the gateway"},
		{"empty entry", `{"steps":[{"name":"a","service":"s","route":"r","query":{"q":" "}}],"response":{"body":"1"}}`,
			"steps[0].query.q", "needs an expression"},
		{"status", `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"1","status":99}}`,
			"response.status", "between 200 and 599"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(def(t, tt.def))
			if tt.message == "" {
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Compile accepted it; want %s: …%s…", tt.field, tt.message)
			}
			for _, e := range unjoin(err) {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("error %v is not a *FieldError", e)
				}
				if (tt.field == "" || fe.Field == tt.field) && strings.Contains(fe.Message, tt.message) {
					return
				}
			}
			t.Fatalf("got %v; want %s: …%s…", err, tt.field, tt.message)
		})
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestCompileAccepts(t *testing.T) {
	tests := []string{
		// steps used whole in the answer: every step has finished then.
		`{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"{\"n\": len(keys(steps)), \"all\": steps}"}}`,
		`{"steps":[{"name":"a","service":"s","route":"r"},{"name":"b","service":"s","route":"r","query":{"id":"steps.a.body?.id ?? request.query.id"}}],"response":{"body":"merge(steps.a.body, steps.b.body)"}}`,
		`{"steps":[{"name":"a","path":"/files/*","params":{"*":"request.params[\"*\"]"}}],"response":{"body":"steps.a.body"}}`,
		`{"steps":[{"name":"a","service":"s","route":"r","headers":{"X-Id":"request.headers[\"x-id\"]","Content-Type":"\"text/plain\""},"body":"request.body"}],"response":{"body":"map(steps.a.body.items, {{\"id\": .id}})"}}`,
	}
	for i, d := range tests {
		if _, err := Compile(def(t, d)); err != nil {
			t.Errorf("%d: %v", i, err)
		}
	}
}

func TestCompileDependencies(t *testing.T) {
	f := mustCompile(t, `{"steps":[
		{"name":"c","service":"s","route":"r","query":{"x":"steps.a.body","y":"steps[\"b\"].status"}},
		{"name":"a","service":"s","route":"r"},
		{"name":"b","service":"s","route":"r","after":["a"]},
		{"name":"d","service":"s","route":"r","headers":{"x-h":"request.headers[\"x-h\"] + request.headers.accept"}}
	],"response":{"body":"1"}}`)
	deps := map[string][]string{}
	for _, s := range f.steps {
		for _, d := range s.deps {
			deps[s.name] = append(deps[s.name], f.steps[d].name)
		}
	}
	if !slices.Equal(deps["c"], []string{"a", "b"}) || !slices.Equal(deps["b"], []string{"a"}) || len(deps["a"]) != 0 || len(deps["d"]) != 0 {
		t.Errorf("deps = %v", deps)
	}
	if got := f.RequestHeaders(); !slices.Equal(got, []string{"accept", "x-h"}) {
		t.Errorf("RequestHeaders = %v", got)
	}
}

func TestCompileNilAndHostile(t *testing.T) {
	if _, err := Compile(nil); err == nil {
		t.Error("Compile(nil) accepted")
	}
	deep := strings.Repeat("(", 2000) + "1" + strings.Repeat(")", 2000)
	if _, err := Compile(def(t, `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"`+deep+`"}}`)); err != nil {
		t.Logf("deep nesting refused: %v", err) // refused or accepted, it must not panic
	}
}
