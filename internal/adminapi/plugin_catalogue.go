package adminapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/rbac"
)

// pluginEntry is one plugin of the catalogue: what an editor needs to
// offer it and build its form.
type pluginEntry struct {
	Name string `json:"name"`
	// Phase names when the plugin runs in a route's chain, Order the same
	// as a number (lower runs first; plugins of one phase run by name);
	// "" and 0 for a stream-only plugin.
	Phase string `json:"phase"`
	Order int    `json:"order"`
	// Where the plugin may be set.
	Services bool `json:"services"`
	Routes   bool `json:"routes"`
	Stream   bool `json:"stream"`
	// Schema is the JSON Schema of its configuration, derived from the
	// type the gateway decodes it into (the one the admin API checks
	// saved configurations against), self-contained (no $ref).
	Schema map[string]any `json:"schema"`
}

// pluginEndpoints are the rows of the plugin catalogue.
func (s *server) pluginEndpoints() []endpoint {
	return []endpoint{
		{method: "GET", path: "/plugins", tag: "meta", perm: rbac.SessionSelf,
			summary: "The plugins the gateway runs, in chain order (phase, then name): where each may be set (services and their routes, stream routes) and the JSON Schema of its configuration, derived from the type a saved configuration is checked against",
			resp:    pluginEntry{}, list: true, status: http.StatusOK, handle: (*call).listPlugins},
	}
}

// pluginCatalogue is computed once: it depends only on the binary.
var pluginCatalogue = sync.OnceValue(buildPluginCatalogue)

func (c *call) listPlugins() (any, error) {
	items := pluginCatalogue()
	return list(items, len(items)), nil
}

func buildPluginCatalogue() []pluginEntry {
	var out []pluginEntry
	for _, p := range routing.Catalogue() {
		e := pluginEntry{Name: p.Name, Phase: p.Phase.String(), Order: int(p.Phase), Services: p.HTTP, Routes: p.HTTP, Stream: p.Stream}
		switch {
		case p.Config != nil:
			g := &schemas{defs: obj{}, names: map[string]reflect.Type{}}
			s, _ := inlineRefs(g.of(p.Config, false), g.defs, 0).(obj)
			e.Schema = s
		case len(p.Schema) > 0:
			// A schema kept beside a plugin's own parser; one that does
			// not parse leaves the entry without a schema, which the
			// catalogue's test fails on.
			_ = json.Unmarshal(p.Schema, &e.Schema)
		}
		if e.Schema != nil {
			e.Schema["title"] = p.Name
		}
		out = append(out, e)
	}
	return out
}

// maxInlineDepth bounds inlining a type that refers to itself: deeper
// than this, the schema says "any JSON value".
const maxInlineDepth = 8

// inlineRefs replaces every $ref to a component by a copy of it, so that
// a plugin's schema stands alone (an editor walks it without resolving).
func inlineRefs(v any, defs obj, depth int) any {
	switch x := v.(type) {
	case obj:
		if ref, ok := x["$ref"].(string); ok {
			name, found := strings.CutPrefix(ref, "#/components/schemas/")
			if !found || depth >= maxInlineDepth {
				return obj{}
			}
			return inlineRefs(defs[name], defs, depth+1)
		}
		out := make(obj, len(x))
		for k, e := range x {
			out[k] = inlineRefs(e, defs, depth)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = inlineRefs(e, defs, depth)
		}
		return out
	}
	return v
}
