package manifest

import (
	"encoding/json"
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
	back, err := Parse(b)
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
		if _, err := Parse([]byte(text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("project: p\nservices:\n- name: s\n  routes:\n  - name: r\n    paths: [/r]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err == nil {
			Normalize(&d, nil)
			_, _ = Marshal(&d)
		}
	})
}
