package routing

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"

	"github.com/portico-gw/portico/internal/gateway/accesslog"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// PluginInfo describes one plugin a gateway knows, read from the plugins
// table (and the stream plugins), for the admin API's catalogue.
type PluginInfo struct {
	Name  string
	Phase plugin.Phase // 0 for a stream-only plugin: it runs in no HTTP chain
	// HTTP: it may sit on a service and its routes; Stream: on a stream
	// route.
	HTTP, Stream bool
	// Config is the type the configuration is decoded into, nil when the
	// plugin parses its own (Schema then describes it).
	Config reflect.Type
	Schema json.RawMessage
}

// ownSchemas are the JSON Schemas of plugins whose build parses the
// configuration itself (a nil config type in the plugins table): the
// schema lives beside the parser, which tests the two agree.
var ownSchemas = map[string]json.RawMessage{accessLogName: accesslog.JSONSchema}

// Catalogue lists every plugin in the order a gateway runs them (phase,
// then name), stream-only plugins last.
func Catalogue() []PluginInfo {
	var out []PluginInfo
	for _, name := range pluginOrder(slices.Collect(maps.Keys(plugins))) {
		f := plugins[name]
		st, stream := StreamConfigType(name)
		cfg := f.config
		if cfg == nil && stream {
			cfg = st
		}
		out = append(out, PluginInfo{Name: name, Phase: f.phase, HTTP: true, Stream: stream, Config: cfg, Schema: ownSchemas[name]})
	}
	for _, name := range []string{spec.StreamIPRestriction, spec.StreamLimitConn} {
		if _, http := plugins[name]; http {
			continue
		}
		t, _ := StreamConfigType(name)
		out = append(out, PluginInfo{Name: name, Stream: true, Config: t})
	}
	return out
}

// ChainLink is one plugin of a route's effective chain: From is "route"
// when the route sets it (its configuration wins), else "service".
type ChainLink struct {
	Name  string
	Phase plugin.Phase
	From  string
}

// Chain is the order a gateway runs a route's plugins in: the service's
// merged with the route's, the route's winning, ordered as
// compilePlugins orders them. Unknown names are left out (the compiler
// refuses them).
func Chain(service, route spec.Plugins) []ChainLink {
	merged := mergePlugins(service, route)
	var out []ChainLink
	for _, name := range pluginOrder(slices.Collect(maps.Keys(merged))) {
		from := "service"
		if _, own := route[name]; own {
			from = "route"
		}
		out = append(out, ChainLink{Name: name, Phase: plugins[name].phase, From: from})
	}
	return out
}

// mergePlugins is the service's plugins with the route's over them: a
// plugin set on both runs with the route's configuration.
func mergePlugins(service, route spec.Plugins) spec.Plugins {
	merged := maps.Clone(service)
	if merged == nil {
		merged = spec.Plugins{}
	}
	maps.Copy(merged, route)
	return merged
}

// pluginOrder sorts known plugin names as compilePlugins runs them: by
// name, then stably by phase. Unknown names are dropped.
func pluginOrder(names []string) []string {
	names = slices.DeleteFunc(names, func(n string) bool { return !Known(n) })
	slices.Sort(names)
	slices.SortStableFunc(names, func(a, b string) int { return comparePhase(plugins[a].phase, plugins[b].phase) })
	return names
}

// comparePhase is the one ordering of filters: lower phases run first.
func comparePhase(a, b plugin.Phase) int { return int(a) - int(b) }
