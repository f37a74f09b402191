package spec

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCompositeBackendValidate(t *testing.T) {
	step := func(name string) CompositeStep {
		return CompositeStep{Name: name, Service: "accounts", Route: "get-user", Params: map[string]string{"id": "request.params.id"}}
	}
	flow := func(steps ...CompositeStep) *CompositeBackend {
		return &CompositeBackend{Steps: steps, Response: CompositeResponse{Body: "steps.a.body"}}
	}
	route := func(b *CompositeBackend) Route {
		return Route{Name: "r", Paths: []string{"/p/{id}"}, Backend: &Backend{Type: BackendComposite, Composite: b}}
	}
	many := make([]CompositeStep, CompositeMaxSteps+1)
	for i := range many {
		many[i] = step("s" + strings.Repeat("x", i%30) + string(rune('a'+i%26)))
	}
	upstream := CompositeStep{Name: "up", Path: "/v1/items/{id}", Params: map[string]string{"id": "request.params.id"}}
	tests := []struct {
		name  string
		route Route
		want  string // a field the error names; "" when valid
	}{
		{"an API step and an upstream step", route(flow(step("a"), upstream)), ""},
		{"no backend.composite", Route{Name: "r", Backend: &Backend{Type: BackendComposite}}, "backend.composite"},
		{"composite on another type", Route{Name: "r", Backend: &Backend{Type: "upstream", Composite: flow(step("a"))}}, "backend.composite"},
		{"no steps", route(flow()), "backend.composite.steps"},
		{"too many steps", route(flow(many...)), "backend.composite.steps"},
		{"bad name", route(flow(CompositeStep{Name: "A-b", Service: "s", Route: "r"})), "steps[0].name"},
		{"same name twice", route(flow(step("a"), step("a"))), "steps[1].name"},
		{"service and path", route(flow(CompositeStep{Name: "a", Service: "s", Route: "r", Path: "/x"})), "steps[0].path"},
		{"service without route", route(flow(CompositeStep{Name: "a", Service: "s"})), "steps[0].route"},
		{"neither", route(flow(CompositeStep{Name: "a"})), "steps[0].service"},
		{"walking path", route(flow(CompositeStep{Name: "a", Path: "/x/../admin"})), "steps[0].path"},
		{"after an unknown step", route(flow(CompositeStep{Name: "a", Service: "s", Route: "r", After: []string{"zz"}})), "steps[0].after[0]"},
		{"after itself", route(flow(CompositeStep{Name: "a", Service: "s", Route: "r", After: []string{"a"}})), "steps[0].after[0]"},
		{"too many retries", route(flow(CompositeStep{Name: "a", Service: "s", Route: "r", Retries: 6})), "steps[0].retries"},
		{"negative timeout", route(flow(CompositeStep{Name: "a", Service: "s", Route: "r", Timeout: -1})), "steps[0].timeout"},
		{"flow timeout too long", route(&CompositeBackend{Timeout: 301, Steps: []CompositeStep{step("a")}, Response: CompositeResponse{Body: "1"}}), "backend.composite.timeout"},
		{"fallback not JSON", route(flow(CompositeStep{Name: "a", Service: "s", Route: "r", Optional: true, Fallback: json.RawMessage(`{`)})), "steps[0].fallback"},
		{"reserved header", route(flow(CompositeStep{Name: "a", Service: "s", Route: "r", Headers: map[string]string{"Host": "'x'"}})), "steps[0].headers.Host"},
		{"header name", route(flow(CompositeStep{Name: "a", Service: "s", Route: "r", Headers: map[string]string{"a b": "'x'"}})), "steps[0].headers.a b"},
		{"empty expression", route(flow(CompositeStep{Name: "a", Service: "s", Route: "r", Query: map[string]string{"q": " "}})), "steps[0].query.q"},
		{"long expression", route(flow(CompositeStep{Name: "a", Service: "s", Route: "r", Body: strings.Repeat("1+", CompositeMaxExpression)})), "steps[0].body"},
		{"no response body", route(&CompositeBackend{Steps: []CompositeStep{step("a")}}), "backend.composite.response.body"},
		{"response status", route(&CompositeBackend{Steps: []CompositeStep{step("a")}, Response: CompositeResponse{Status: 100, Body: "1"}}), "response.status"},
		{"a read timeout beside it", Route{Name: "r", Backend: &Backend{Type: BackendComposite, Composite: flow(step("a")), Timeout: &Timeout{Read: 3}}}, "backend.timeout.read"},
		{"upstream fields beside it", Route{Name: "r", Backend: &Backend{Type: BackendComposite, Composite: flow(step("a")), Path: "/x"}}, "backend.path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.route.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestCompositeUses(t *testing.T) {
	b := CompositeBackend{Steps: []CompositeStep{
		{Name: "a", Service: "users", Route: "get"}, {Name: "b", Path: "/x"}, {Name: "c", Service: "users", Route: "get"},
		{Name: "d", Service: "orders", Route: "list"}}}
	got := b.Uses()
	if len(got) != 2 || got[0] != (CompositeUse{"users", "get"}) || got[1] != (CompositeUse{"orders", "list"}) {
		t.Errorf("Uses = %+v", got)
	}
}
