package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

func doc(services ...spec.Service) Document {
	return Document{Project: "p", Upstreams: []spec.Upstream{{Name: "u", Nodes: []spec.Node{{Host: "a", Port: 80}}}}, Services: services}
}

func svc(name string, routes ...spec.Route) spec.Service {
	return spec.Service{Name: name, UpstreamID: "u", Routes: routes}
}

func route(name, path string) spec.Route { return spec.Route{Name: name, Paths: []string{path}} }

func TestDiff(t *testing.T) {
	cur := doc(svc("shop", route("a", "/a"), route("b", "/b")), svc("old"))
	changedUp := doc(svc("shop", route("a", "/a"), route("b", "/b")), svc("old"))
	changedUp.Upstreams[0].Scheme = "https"
	withPlugins := svc("shop", route("a", "/a"), route("b", "/b"))
	withPlugins.Plugins = spec.Plugins{"limit-count": json.RawMessage(`{"count": 1, "time_window": 60}`)}
	samePluginsOtherSpacing := cur
	samePluginsOtherSpacing.Services = []spec.Service{withPlugins, svc("old")}
	tests := []struct {
		name  string
		want  Document
		prune bool
		diff  string
	}{
		{"nothing", cur, false, ""},
		{"upstream changed", changedUp, false, "~ upstream u (scheme)\n"},
		{"route added, changed and removed", doc(svc("shop", route("a", "/a2"), route("c", "/c")), svc("old")), false,
			"~ route shop/a (paths)\n+ route shop/c\n- route shop/b\n"},
		{"new service", doc(svc("shop", route("a", "/a"), route("b", "/b")), svc("old"), svc("new", route("x", "/x"))), false,
			"+ service new\n+ route new/x\n"},
		{"unnamed service without prune", doc(svc("shop", route("a", "/a"), route("b", "/b"))), false, ""},
		{"unnamed service with prune", doc(svc("shop", route("a", "/a"), route("b", "/b"))), true, "- service old\n"},
		{"plugins", samePluginsOtherSpacing, false, "~ service shop (plugins)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, w := cur, tt.want
			Normalize(&c, nil)
			Normalize(&w, nil)
			p := Diff(&c, &w, tt.prune)
			if got := p.String(); got != tt.diff {
				t.Errorf("diff:\n%s\nwant:\n%s", got, tt.diff)
			}
		})
	}
}

func TestNormalizeIsStable(t *testing.T) {
	d := doc(svc("z", route("b", "/b"), route("a", "/a")), svc("a"))
	d.Services[0].ID, d.Services[0].State, d.Services[0].CreatedAt = "id-1", "published", time.Now()
	d.Services[0].UpstreamID = "up-id"
	Normalize(&d, map[string]string{"up-id": "u"})
	b, err := Marshal(&d)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, bad := range []string{"id-1", "published", "created_at", "up-id"} {
		if strings.Contains(text, bad) {
			t.Errorf("normalized dump has %q:\n%s", bad, text)
		}
	}
	if strings.Index(text, "name: a\n") > strings.Index(text, "name: z\n") {
		t.Errorf("services not sorted:\n%s", text)
	}
	back, err := Parse(b, testDecode)
	if err != nil {
		t.Fatal(err)
	}
	Normalize(&back, nil)
	if p := Diff(&d, &back, true); !p.Empty() {
		t.Errorf("marshal → parse is not a round trip: %s", p.String())
	}
}

func TestParseRefuses(t *testing.T) {
	for name, text := range map[string]string{
		"unknown field":   "services:\n- name: x\n  colour: red\n",
		"duplicate":       "upstreams:\n- name: u\n- name: u\n",
		"route twice":     "services:\n- name: s\n  routes:\n  - name: r\n  - name: r\n",
		"missing name":    "services:\n- path: /x\n",
		"not YAML at all": "services: [\n",
	} {
		if _, err := Parse([]byte(text), testDecode); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("project: p\nservices:\n- name: s\n  routes:\n  - name: r\n    paths: [/r]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b, testDecode)
		if err == nil {
			Normalize(&d, nil)
			_, _ = Marshal(&d)
		}
	})
}

// testDecode stands in for the admin API's strict decoder: unknown members
// are refused (names are matched exactly only there).
func testDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// TestParseRefusesFolderID: a folder id is not part of a document (it was
// silently cleared); the refusal names the field.
func TestParseRefusesFolderID(t *testing.T) {
	_, err := Parse([]byte("services:\n- name: s\n  folder_id: f-1\n  path: default\n"), testDecode)
	fe, ok := errors.AsType[spec.FieldErrors](err)
	if !ok || len(fe) != 1 || fe[0].Field != "services[0].folder_id" {
		t.Fatalf("error %v, want one naming services[0].folder_id", err)
	}
}

// TestParseUsesTheDecoder: Parse reports the decoder's field errors as they
// are (the admin API's name the member by its path).
func TestParseUsesTheDecoder(t *testing.T) {
	want := spec.FieldErrors{{Field: "services[0].Name", Message: "is not a known field"}}
	_, err := Parse([]byte("services:\n- Name: s\n"), func([]byte, any) error { return want })
	if fe, ok := errors.AsType[spec.FieldErrors](err); !ok || len(fe) != 1 || fe[0] != want[0] {
		t.Fatalf("error %v, want the decoder's", err)
	}
}

// TestServerFilledSQLFields: what the admin API fills in when it saves a
// sql route (result_columns, filter types) does not make a document that
// leaves it out differ from the routes it made.
func TestServerFilledSQLFields(t *testing.T) {
	sqlRoute := func(filterType string, cols []spec.SQLColumn) spec.Route {
		r := route("r", "/r")
		r.Backend = &spec.Backend{Type: "sql", SQLBackend: &spec.SQLBackend{DataSource: "db", Table: "t",
			Filters: []spec.SQLFilter{{Param: "id", Type: filterType}}, ResultColumns: cols}}
		return r
	}
	stored := doc(svc("s", sqlRoute("integer", []spec.SQLColumn{{Name: "id", Type: "integer"}})))
	Normalize(&stored, nil)
	if rc := stored.Services[0].Routes[0].Backend.ResultColumns; rc != nil {
		t.Errorf("normalized result_columns = %v, want none", rc)
	}
	want := doc(svc("s", sqlRoute("", nil)))
	Normalize(&want, nil)
	if p := Diff(&stored, &want, false); !p.Empty() {
		t.Errorf("a document without the filled-in fields differs: %s", p.String())
	}
	other := doc(svc("s", sqlRoute("string", nil)))
	Normalize(&other, nil)
	if p := Diff(&stored, &other, false); p.Empty() {
		t.Error("a filter type of the document's own is not a change")
	}
	moved := doc(svc("s", sqlRoute("", nil)))
	moved.Services[0].Routes[0].Backend.Filters[0].Column = "other"
	Normalize(&moved, nil)
	if p := Diff(&stored, &moved, false); p.Empty() {
		t.Error("a filter on another column is not a change")
	}
}
