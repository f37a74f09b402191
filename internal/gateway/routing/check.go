package routing

import (
	"maps"
	"slices"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/spec"
)

// CheckPlugins compiles each plugin configuration of one service or route
// on its own, as a gateway would, so the admin API refuses a bad one when
// it is saved (400 naming field.plugin and what is wrong) rather than at
// publish. It does no I/O and keeps nothing.
func CheckPlugins(field string, p spec.Plugins) error {
	var fe spec.FieldErrors
	for _, name := range slices.Sorted(maps.Keys(p)) {
		f, ok := plugins[name]
		if !ok {
			fe.Add(field+"."+name, "unknown plugin %q", name)
			continue
		}
		// An empty consumer index: auth plugins check their options only.
		if _, err := f.build(p[name], Deps{Consumers: consumer.New(nil)}, "check"); err != nil {
			fe.Add(field+"."+name, "%v", err)
		}
	}
	return fe.Err()
}
