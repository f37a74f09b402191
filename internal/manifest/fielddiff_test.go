package manifest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portico-gw/portico/internal/spec"
)

// base is a service as a version holds it: ids, timestamps and state
// included, which the diff leaves out.
func base() spec.Service {
	on := true
	return spec.Service{
		ID: "svc1", ProjectID: "p", Name: "shop", State: spec.StatePublished, Protocols: []string{"http"},
		CreatedAt: time.Unix(1, 0), UpdatedAt: time.Unix(2, 0),
		Upstream: &spec.Upstream{Scheme: "http", Nodes: []spec.Node{{Host: "10.0.0.1", Port: 80, Weight: 100}}},
		Routes: []spec.Route{
			{ID: "r1", ServiceID: "svc1", Name: "list", Paths: []string{"/items"}, Methods: []string{"GET"},
				Backend: &spec.Backend{Path: "/v1/items"}, CreatedAt: time.Unix(3, 0)},
			{ID: "r2", ServiceID: "svc1", Name: "get", Paths: []string{"/items/{id}"}, Online: &on,
				Plugins: spec.Plugins{"limit-count": json.RawMessage(`{"count": 10, "time_window": 60}`)}},
		},
	}
}

func TestDiffService(t *testing.T) {
	type change = spec.FieldChange
	num := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		name string
		edit func(s *spec.Service)
		want []change
	}{
		{"nothing changed", func(s *spec.Service) {}, []change{}},
		{"only bookkeeping changed", func(s *spec.Service) {
			s.ID, s.State, s.UpdatedAt, s.AllowedActions, s.FolderPath = "other", spec.StateDraft, time.Unix(9, 0), []string{"edit"}, "/f"
			s.Routes[0].ID, s.Routes[0].UpdatedAt = "r9", time.Unix(9, 0)
			s.Upstream.CreatedAt = time.Unix(9, 0)
		}, []change{}},
		{"routes matched by name, not index", func(s *spec.Service) {
			s.Routes[0], s.Routes[1] = s.Routes[1], s.Routes[0]
			s.Routes[1].Backend = &spec.Backend{Path: "/v2/items"}
		}, []change{{Path: "routes[name=list].backend.path", Op: "changed", From: "/v1/items", To: "/v2/items"}}},
		{"nested plugin config", func(s *spec.Service) {
			s.Routes[1].Plugins = spec.Plugins{"limit-count": json.RawMessage(`{"time_window":60,"count":20}`)}
		}, []change{{Path: "routes[name=get].plugins.limit-count.count", Op: "changed", From: num("10"), To: num("20")}}},
		{"same plugin config written otherwise", func(s *spec.Service) {
			s.Routes[1].Plugins = spec.Plugins{"limit-count": json.RawMessage(`{"time_window": 60.0, "count": 1e1}`)}
		}, []change{}},
		{"plugin added to the service", func(s *spec.Service) {
			s.Plugins = spec.Plugins{"cors": json.RawMessage(`{}`)}
		}, []change{{Path: "plugins", Op: "added", To: map[string]any{"cors": map[string]any{}}}}},
		{"node added", func(s *spec.Service) {
			s.Upstream.Nodes = append([]spec.Node{{Host: "10.0.0.2", Port: 80, Weight: 50}}, s.Upstream.Nodes...)
		}, []change{{Path: "upstream.nodes[host:port=10.0.0.2:80]", Op: "added", To: map[string]any{"host": "10.0.0.2", "port": num("80"), "weight": num("50")}}}},
		{"node weight", func(s *spec.Service) { s.Upstream.Nodes[0].Weight = 5 },
			[]change{{Path: "upstream.nodes[host:port=10.0.0.1:80].weight", Op: "changed", From: num("100"), To: num("5")}}},
		{"route added and removed", func(s *spec.Service) {
			s.Routes = []spec.Route{s.Routes[1], {ID: "r3", Name: "create", Methods: []string{"POST"}}}
		}, []change{
			{Path: "routes[name=list]", Op: "removed", From: map[string]any{"name": "list", "paths": []any{"/items"}, "methods": []any{"GET"}, "backend": map[string]any{"path": "/v1/items"}}},
			{Path: "routes[name=create]", Op: "added", To: map[string]any{"name": "create", "methods": []any{"POST"}}},
		}},
		{"online true is online", func(s *spec.Service) { on := true; s.Routes[0].Online = &on }, []change{}},
		{"route taken offline", func(s *spec.Service) { off := false; s.Routes[0].Online = &off },
			[]change{{Path: "routes[name=list].online", Op: "added", To: false}}},
		{"list of strings as one value", func(s *spec.Service) { s.Routes[0].Methods = []string{"GET", "HEAD"} },
			[]change{{Path: "routes[name=list].methods", Op: "changed", From: []any{"GET"}, To: []any{"GET", "HEAD"}}}},
		{"label with a dot", func(s *spec.Service) { s.Labels = map[string]string{"team.io/owner": "a"} },
			[]change{{Path: "labels", Op: "added", To: map[string]any{"team.io/owner": "a"}}}},
		{"openapi part", func(s *spec.Service) { s.OpenAPI = json.RawMessage(`{"info":{"title":"Shop","version":"2"}}`) },
			[]change{{Path: "openapi", Op: "added", To: map[string]any{"info": map[string]any{"title": "Shop", "version": "2"}}}}},
		{"routes with one name twice are one value", func(s *spec.Service) { s.Routes[1].Name = "list" },
			nil}, // checked below: one change of the whole list
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := base(), base()
			tt.edit(&to)
			got := DiffService(from, &to)
			if tt.want == nil {
				if len(got) != 1 || got[0].Path != "routes" || got[0].Op != "changed" {
					t.Fatalf("got %+v, want one change of routes", got)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiffServiceLabelPath: a member name a dot would split is quoted.
func TestDiffServiceLabelPath(t *testing.T) {
	from, to := base(), base()
	from.Labels = map[string]string{"team.io/owner": "a", "tier": "1"}
	to.Labels = map[string]string{"team.io/owner": "b", "tier": "1"}
	got := DiffService(from, to)
	want := []spec.FieldChange{{Path: `labels["team.io/owner"]`, Op: "changed", From: "a", To: "b"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

// TestDiffDeployed: what a group runs is the version's template with the
// group's upstream; nothing running is every member added.
func TestDiffDeployed(t *testing.T) {
	s := base()
	s.UpstreamID, s.Upstream = "u1", nil
	v1 := spec.Version{Version: "1.0.0", Service: s}
	v2 := spec.Version{Version: "1.1.0", Service: s}
	up := spec.Upstream{ID: "x", Nodes: []spec.Node{{Host: "10.0.0.1", Port: 80, Weight: 100}}}
	moved := spec.Upstream{Nodes: []spec.Node{{Host: "10.0.0.9", Port: 80, Weight: 100}}}
	got := DiffService(Deployed(&v1, up), Deployed(&v2, moved))
	want := []spec.FieldChange{
		{Path: "upstream.nodes[host:port=10.0.0.1:80]", Op: "removed", From: map[string]any{"host": "10.0.0.1", "port": json.Number("80"), "weight": json.Number("100")}},
		{Path: "upstream.nodes[host:port=10.0.0.9:80]", Op: "added", To: map[string]any{"host": "10.0.0.9", "port": json.Number("80"), "weight": json.Number("100")}},
		{Path: "version", Op: "changed", From: "1.0.0", To: "1.1.0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if got := DiffService(Deployed(&v1, up), Deployed(&v1, up)); len(got) != 0 {
		t.Errorf("the same deployment differs: %+v", got)
	}
	var none *spec.Service
	added := DiffService(none, Deployed(&v1, up))
	paths := map[string]string{}
	for _, c := range added {
		paths[c.Path] = c.Op
	}
	for _, p := range []string{"name", "routes", "upstream", "version"} {
		if paths[p] != "added" {
			t.Errorf("from nothing: %s is %q, want added (%+v)", p, paths[p], added)
		}
	}
	if _, ok := paths["id"]; ok {
		t.Errorf("from nothing: the id is a change: %+v", added)
	}
}

func TestNumbersEqual(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"1", "1", true}, {"1", "1.0", true}, {"10", "1e1", true}, {"9007199254740993", "9007199254740992", false},
		{"1e999999999", "1e999999999", true}, {"1e999999999", "2e999999999", false}, {"0.1", "0.10", true},
	} {
		if got := numbersEqual(json.Number(tt.a), json.Number(tt.b)); got != tt.want {
			t.Errorf("numbersEqual(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
}
