package manifest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// compositeRoute is a route whose backend is a flow with every kind of
// member: API and upstream steps, expressions that YAML could misread
// (quotes, colons, "true", braces, a leading '*'), a fallback, headers.
func compositeRoute() spec.Route {
	r := route("profile", "/profiles/{id}")
	r.Parameters = []spec.Parameter{{Name: "id", In: "path", Required: true}}
	r.Backend = &spec.Backend{Type: spec.BackendComposite, Composite: &spec.CompositeBackend{
		Timeout: 5,
		Steps: []spec.CompositeStep{
			{Name: "user", Service: "users", Route: "get_user", Params: map[string]string{"id": "request.params.id"}, Retries: 2},
			{Name: "orders", Service: "orders", Route: "list", Query: map[string]string{"user": "string(steps.user.body.id)", "all": "true"},
				Optional: true, Fallback: json.RawMessage(`{"items": [], "n": 0.5}`)},
			{Name: "audit", Path: "/audit/{id}", Method: "POST", After: []string{"user"}, If: `request.query.audit == "yes: really"`,
				Params: map[string]string{"id": "request.params.id"}, Body: `{"seen": steps.user.body.id}`},
		},
		Response: spec.CompositeResponse{Status: 201, Body: `*{"user": steps.user.body, "orders": steps.orders.body}`,
			Headers: map[string]string{"X-Composed": `"yes"`}},
	}}
	return r
}

// TestCompositeRouteRoundTrip: a composite route goes through a dump
// (Marshal), an apply (Parse, Diff) and a package unchanged, and a
// changed flow is a change of the route's backend.
func TestCompositeRouteRoundTrip(t *testing.T) {
	d := doc(svc("profile", compositeRoute(), route("ping", "/ping")))
	if err := d.Services[0].Routes[0].Validate(); err != nil {
		t.Fatalf("the test's route is invalid: %v", err)
	}
	Normalize(&d, nil)
	want := backendOf(t, &d)
	b, err := Marshal(&d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b, testDecode)
	if err != nil {
		t.Fatalf("Parse of the dump: %v\n%s", err, b)
	}
	Normalize(&back, nil)
	if got := backendOf(t, &back); !jsonEqual(got, want) {
		t.Errorf("backend after dump → apply:\n got %s\nwant %s", got, want)
	}
	if p := Diff(&d, &back, true); !p.Empty() {
		t.Errorf("dump → apply changes: %s", p.String())
	}

	changed := doc(svc("profile", compositeRoute(), route("ping", "/ping")))
	changed.Services[0].Routes[0].Backend.Composite.Steps[1].Optional = false
	Normalize(&changed, nil)
	if plan := Diff(&d, &changed, false); plan.String() != "~ route profile/profile (backend)\n" {
		t.Errorf("a changed flow diffs as %q", plan.String())
	}

	p := &Package{
		Meta:      PackageMeta{Project: "p", ExportedAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)},
		Upstreams: d.Upstreams,
		Services:  []PackagedService{{Service: d.Services[0]}},
	}
	zb, err := WritePackage(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadPackage(zb, testDecode)
	if err != nil {
		t.Fatalf("ReadPackage: %v", err)
	}
	pd := doc(got.Services[0].Service)
	Normalize(&pd, nil)
	if g := backendOf(t, &pd); !jsonEqual(g, want) {
		t.Errorf("backend after a package:\n got %s\nwant %s", g, want)
	}
	if p := Diff(&d, &pd, true); !p.Empty() {
		t.Errorf("package export → import changes: %s", p.String())
	}
}

// backendOf is the JSON of the document's profile route's backend.
func backendOf(t *testing.T, d *Document) json.RawMessage {
	t.Helper()
	for _, r := range d.Services[0].Routes {
		if r.Name == "profile" {
			if !r.IsComposite() {
				t.Fatalf("the profile route is not composite: %+v", r.Backend)
			}
			b, err := json.Marshal(r.Backend)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatal("no profile route")
	return nil
}
