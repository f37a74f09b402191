package openapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/spec"
)

// composed is a service with a composite route using every part of a
// flow, beside a plain route.
func composed() *spec.Service {
	flow := &spec.CompositeBackend{
		Timeout: 5,
		Steps: []spec.CompositeStep{
			{Name: "user", Service: "users", Route: "get_user", Params: map[string]string{"id": "request.params.id"},
				Headers: map[string]string{"X-Trace": "request.headers['x-trace']"}, Retries: 2, Timeout: 1.5},
			{Name: "orders", Service: "orders", Route: "list_orders", Method: "GET",
				Query: map[string]string{"user": "string(steps.user.body.id)"}, Optional: true,
				Fallback: json.RawMessage(`{"items":[]}`)},
			{Name: "audit", Path: "/audit/{id}", Method: "POST", Params: map[string]string{"id": "request.params.id"},
				After: []string{"user"}, If: "request.query.audit == 'yes'", Body: `{"seen": steps.user.body.id}`},
		},
		Response: spec.CompositeResponse{Status: 200,
			Body:    `{"user": steps.user.body, "orders": map(steps.orders.body.items, {"id": .id})}`,
			Headers: map[string]string{"X-Composed": `"yes"`}},
	}
	return &spec.Service{ID: "svc-1", Name: "profile", Path: "/profile", Routes: []spec.Route{
		{ID: "r-0", ServiceID: "svc-1", Name: "profile", Description: "A user and their orders",
			Paths: []string{"/profiles/{id}"}, Methods: []string{"GET"},
			Parameters: []spec.Parameter{{Name: "id", In: "path", Required: true}},
			Backend:    &spec.Backend{Type: spec.BackendComposite, Composite: flow}},
		{ID: "r-1", ServiceID: "svc-1", Name: "ping", Paths: []string{"/ping"}, Methods: []string{"GET"}},
	}}
}

// TestCompositeRoundTrip: the provider's export carries the flow, and
// importing it gives the same backend, with nothing left over in the
// stored operation; import → export → import is a fixpoint.
func TestCompositeRoundTrip(t *testing.T) {
	svc := composed()
	if err := svc.Routes[0].Validate(); err != nil {
		t.Fatalf("the test's route is invalid: %v", err)
	}
	doc, err := Export(svc, ExportOptions{Portico: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Marshal(doc, true)
	if err != nil {
		t.Fatal(err)
	}
	op := doc["paths"].(map[string]any)["/profiles/{id}"].(map[string]any)["get"].(map[string]any)
	if _, ok := op[extComposite]; !ok {
		t.Fatalf("the provider's export has no %s:\n%s", extComposite, b)
	}
	j, _ := Marshal(doc, false)
	validate31(t, j)
	res, err := Import(b, Options{})
	if err != nil {
		t.Fatalf("Import: %v\n%s", err, b)
	}
	got := routeNamed(t, res.Service.Routes, "profile")
	if !sameJSON(mustJSON(got.Backend), mustJSON(svc.Routes[0].Backend)) {
		t.Errorf("backend after export → import:\n got %s\nwant %s", mustJSON(got.Backend), mustJSON(svc.Routes[0].Backend))
	}
	if !sameJSON(got.OpenAPI, json.RawMessage(`{"operationId":"profile","summary":"A user and their orders"}`)) {
		t.Errorf("the stored operation keeps what the export wrote: %s", got.OpenAPI)
	}
	for _, c := range NewPlan(res, svc).Report.Routes.Changed {
		// The stored operation is the export's (operationId, summary).
		if c.Name == "profile" && (len(c.Fields) != 1 || c.Fields[0] != "openapi") {
			t.Errorf("export → import changes the composite route: %v", c.Fields)
		}
	}
	again := stored(res)
	doc2, err := Export(again, ExportOptions{Portico: true})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := Marshal(doc2, false)
	res2, err := Import(b2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plan := NewPlan(res2, again); plan.Changed() {
		t.Errorf("import → export → import changes: %+v", plan.Report.Routes)
	}
}

// TestCompositeInDescription: the consumers' description (and what the
// gateway validates requests with) says nothing of the flow, and answers
// JSON.
func TestCompositeInDescription(t *testing.T) {
	svc := composed()
	doc, err := Export(svc, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Marshal(doc, false)
	validate31(t, b)
	s := string(b)
	for _, leak := range []string{extComposite, extBackend, "steps.user", "list_orders", "/audit", "X-Composed"} {
		if strings.Contains(s, leak) {
			t.Errorf("the consumers' description shows the flow's %s:\n%s", leak, b)
		}
	}
	op := doc["paths"].(map[string]any)["/profiles/{id}"].(map[string]any)["get"].(map[string]any)
	if !sameValue(op["responses"], compositeResponses()) {
		t.Errorf("responses %v, want 200 application/json", op["responses"])
	}
	paths, err := ExportRoute(svc, &svc.Routes[0])
	if err != nil {
		t.Fatal(err)
	}
	if rb, _ := json.Marshal(paths); strings.Contains(string(rb), extComposite) {
		t.Errorf("the route's validation document shows the flow: %s", rb)
	}
	// A composite route's own responses win over the generated one.
	svc.Routes[0].Responses = []spec.ResponseExample{{Status: 200, Example: json.RawMessage(`{"user":{}}`)}}
	doc, _ = Export(svc, ExportOptions{})
	op = doc["paths"].(map[string]any)["/profiles/{id}"].(map[string]any)["get"].(map[string]any)
	if b, _ := json.Marshal(op["responses"]); !strings.Contains(string(b), `"example":{"user":{}}`) {
		t.Errorf("responses %s, want the route's example", b)
	}
}

// compositeDoc is a document whose one operation carries ext as its
// x-portico-composite.
func compositeDoc(ext string) []byte {
	return []byte(`{"openapi":"3.1.0","info":{"title":"p","version":"1"},"paths":{"/p/{id}":{"get":{"operationId":"p",` +
		`"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}],` +
		`"responses":{"200":{"description":"ok"}},"x-portico-composite":` + ext + `}}}}`)
}

// TestCompositeImportRefuses: a malformed flow is a field error naming
// the operation's member, never a silent upstream route or a panic.
func TestCompositeImportRefuses(t *testing.T) {
	const at = "/paths/~1p~1{id}/get/x-portico-composite"
	ok := `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"steps.a.body"}}`
	if res, err := Import(compositeDoc(ok), Options{}); err != nil {
		t.Fatalf("a valid flow: %v", err)
	} else if r := res.Service.Routes[0]; !r.IsComposite() || r.Backend.Composite.Steps[0].Service != "s" {
		t.Fatalf("a valid flow gives backend %s", mustJSON(r.Backend))
	}
	for _, tt := range []struct{ name, ext, field string }{
		{"a string", `"steps"`, at},
		{"null", `null`, at},
		{"an array", `[1]`, at},
		{"steps not a list", `{"steps":"a","response":{"body":"1"}}`, at},
		{"unknown member", `{"steps":[{"name":"a","service":"s","route":"r"}],"response":{"body":"1"},"colour":1}`, at},
		{"no steps", `{"steps":[],"response":{"body":"1"}}`, at + "/steps"},
		{"bad step name", `{"steps":[{"name":"A b","service":"s","route":"r"}],"response":{"body":"1"}}`, at + "/steps/0/name"},
		{"no response", `{"steps":[{"name":"a","service":"s","route":"r"}]}`, at + "/response/body"},
		{"too many retries", `{"steps":[{"name":"a","path":"/x","retries":9}],"response":{"body":"1"}}`, at + "/steps/0/retries"},
		{"after unknown", `{"steps":[{"name":"a","path":"/x","after":["b"]}],"response":{"body":"1"}}`, at + "/steps/0/after/0"},
		{"reserved header", `{"steps":[{"name":"a","path":"/x","headers":{"Host":"1"}}],"response":{"body":"1"}}`, at + "/steps/0/headers/Host"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Import(compositeDoc(tt.ext), Options{})
			fe, isFE := errors.AsType[spec.FieldErrors](err)
			if !isFE || len(fe) == 0 {
				t.Fatalf("error %v, want field errors", err)
			}
			if fe[0].Field != tt.field {
				t.Errorf("field %q (%s), want %q", fe[0].Field, fe[0].Message, tt.field)
			}
		})
	}
}

// TestCompositePlan: re-importing a provider's export onto stored routes
// turns a route composite, or back into an upstream call, as the
// document says; a document that says nothing of backends keeps the flow.
func TestCompositePlan(t *testing.T) {
	svc := composed()
	doc, _ := Export(svc, ExportOptions{Portico: true})
	b, _ := Marshal(doc, false)
	res, err := Import(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain := composed()
	plain.Routes[0].Backend = &spec.Backend{Path: "/old"}
	plan := NewPlan(res, plain)
	if u := routeNamed(t, plan.Update, "profile"); !u.IsComposite() || u.Backend.Path != "" {
		t.Fatalf("onto an upstream route: updates %s, want the composite backend", mustJSON(plan.Update))
	}
	// The provider's export of the upstream route, onto the composite one.
	doc, _ = Export(plain, ExportOptions{Portico: true})
	b, _ = Marshal(doc, false)
	res, err = Import(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	plan = NewPlan(res, composed())
	if u := routeNamed(t, plan.Update, "profile"); u.IsComposite() || u.Backend.Type != "" || u.Backend.Path != "/old" {
		t.Fatalf("onto a composite route: updates %s, want the upstream backend", mustJSON(plan.Update))
	}
	// A consumers' document (no backend) keeps the stored flow.
	doc, _ = Export(composed(), ExportOptions{})
	b, _ = Marshal(doc, false)
	res, err = Import(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	plan = NewPlan(res, composed())
	for _, u := range plan.Update {
		if u.Name == "profile" && !u.IsComposite() {
			t.Errorf("a document without backends dropped the flow: %s", mustJSON(u.Backend))
		}
	}
}

func routeNamed(t *testing.T, routes []spec.Route, name string) spec.Route {
	t.Helper()
	for _, r := range routes {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no route %q among %s", name, mustJSON(routes))
	return spec.Route{}
}
