package routing

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// TestCatalogue: every plugin of the table is listed once, in the order
// the compiler runs them, each with a configuration type or a schema.
func TestCatalogue(t *testing.T) {
	cat := Catalogue()
	seen := map[string]bool{}
	for i, p := range cat {
		if seen[p.Name] {
			t.Errorf("%s listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.Config == nil && len(p.Schema) == 0 {
			t.Errorf("%s: neither a configuration type nor a schema", p.Name)
		}
		if len(p.Schema) > 0 && !json.Valid(p.Schema) {
			t.Errorf("%s: its schema is not JSON", p.Name)
		}
		if i > 0 && p.HTTP && cat[i-1].Phase > p.Phase {
			t.Errorf("%s (phase %v) after %s (phase %v)", p.Name, p.Phase, cat[i-1].Name, cat[i-1].Phase)
		}
	}
	for name := range plugins {
		if !seen[name] {
			t.Errorf("%s missing from the catalogue", name)
		}
	}
	if !seen[spec.StreamLimitConn] {
		t.Error("the stream-only limit-conn is missing")
	}
}

// TestChainOrder: the route's configuration wins, and the chain runs by
// phase as compilePlugins orders filters, whatever the names.
func TestChainOrder(t *testing.T) {
	svc := spec.Plugins{"limit-count": json.RawMessage(`{}`), "key-auth": json.RawMessage(`{}`), "nope": json.RawMessage(`{}`)}
	rt := spec.Plugins{"cors": json.RawMessage(`{}`), "key-auth": json.RawMessage(`{"header":"x"}`)}
	var got []string
	for _, l := range Chain(svc, rt) {
		got = append(got, l.Name+"@"+l.From)
	}
	want := []string{"cors@route", "key-auth@route", "limit-count@service"}
	if !slices.Equal(got, want) {
		t.Errorf("chain %v, want %v", got, want)
	}
	if Chain(nil, nil) != nil {
		t.Error("an empty chain is not empty")
	}
	if plugin.PhaseAuthentication.String() != "authentication" || plugin.Phase(0).String() != "" {
		t.Error("phase names")
	}
}

// TestEnumTagsAgreeWithBuild: the values a configuration's enum tag lists
// (the schema editors offer) are the ones the plugin accepts: each listed
// value passes the admin API's check, another is refused naming the
// member.
func TestEnumTagsAgreeWithBuild(t *testing.T) {
	base := map[string]map[string]any{"limit-count": {"count": 1, "time_window": 60}}
	found := 0
	for name, f := range plugins {
		if f.config == nil {
			continue
		}
		for i := range f.config.NumField() {
			field := f.config.Field(i)
			enum := field.Tag.Get("enum")
			if enum == "" {
				continue
			}
			found++
			member, _, _ := strings.Cut(field.Tag.Get("json"), ",")
			try := func(v string) error {
				cfg := map[string]any{member: v}
				for k, b := range base[name] {
					cfg[k] = b
				}
				raw, _ := json.Marshal(cfg)
				return CheckPlugins("plugins", spec.Plugins{name: raw})
			}
			for v := range strings.SplitSeq(enum, ",") {
				if err := try(v); err != nil {
					t.Errorf("%s.%s = %q (listed) refused: %v", name, member, v, err)
				}
			}
			if err := try("not-listed"); err == nil || !strings.Contains(err.Error(), member) {
				t.Errorf("%s.%s = not-listed: %v, want a refusal naming it", name, member, err)
			}
			if field.Type.Kind() != reflect.String {
				t.Errorf("%s.%s: an enum tag on a %v", name, member, field.Type)
			}
		}
	}
	if found == 0 {
		t.Error("no enum tag found")
	}
}

// TestDefaultTagsAccepted: a configuration's default tag (what editors
// fill a new configuration with) is a value of the member's type that
// the plugin accepts.
func TestDefaultTagsAccepted(t *testing.T) {
	base := map[string]map[string]any{"limit-count": {"count": 1, "time_window": 60}, "limit-req": {"rate": 1, "burst": 1}}
	found := 0
	for name, f := range plugins {
		if f.config == nil {
			continue
		}
		for i := range f.config.NumField() {
			field := f.config.Field(i)
			def, ok := field.Tag.Lookup("default")
			if !ok {
				continue
			}
			found++
			member, _, _ := strings.Cut(field.Tag.Get("json"), ",")
			cfg := map[string]any{member: def}
			if field.Type.Kind() != reflect.String {
				cfg[member] = json.RawMessage(def)
			}
			for k, b := range base[name] {
				cfg[k] = b
			}
			raw, err := json.Marshal(cfg)
			if err != nil {
				t.Errorf("%s.%s: default %q is not JSON: %v", name, member, def, err)
				continue
			}
			if err := CheckPlugins("plugins", spec.Plugins{name: raw}); err != nil {
				t.Errorf("%s.%s = %s (its default) refused: %v", name, member, def, err)
			}
			if err := json.Unmarshal(raw, reflect.New(f.config).Interface()); err != nil {
				t.Errorf("%s.%s: default %s does not decode into the member: %v", name, member, def, err)
			}
		}
	}
	if found == 0 {
		t.Error("no default tag found")
	}
}
