package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
)

// checkPlugins checks HTTP plugin configurations as the gateway will
// compile them, member names spelt exactly; field is where they sit
// ("plugins", "routes[0].plugins").
func checkPlugins(field string, p spec.Plugins) error {
	return checkPluginsWith(field, p, routing.ConfigType, routing.CheckPlugins)
}

// checkStreamPlugins is checkPlugins for a stream route's plugins.
func checkStreamPlugins(field string, p spec.Plugins) error {
	return checkPluginsWith(field, p, routing.StreamConfigType, routing.CheckStreamPlugins)
}

// checkPluginsWith runs the strict decoder's shape check over each
// configuration whose type the gateway names (configType: every member
// spelt exactly as its type's json tag, every value of the right kind;
// the gateway decodes with encoding/json, which matches member names
// regardless of case, so {"COUNT": 3} would pass for count), then the
// gateway's check over the others and those that passed, so that every
// problem is named at once and each once. Plugins the gateway does not
// know are left to its check, which names them.
func checkPluginsWith(field string, p spec.Plugins, configType func(string) (reflect.Type, bool), gateway func(string, spec.Plugins) error) error {
	var fe spec.FieldErrors
	rest := spec.Plugins{}
	for _, name := range slices.Sorted(maps.Keys(p)) {
		rest[name] = p[name]
		t, ok := configType(name)
		raw := bytes.TrimSpace(p[name])
		if !ok || len(raw) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			continue // not JSON: the gateway's check says so
		}
		n := len(fe)
		checkShape(doc, t, member(field, name), &fe)
		if len(fe) > n {
			delete(rest, name)
		}
	}
	if len(rest) > 0 {
		if err := gateway(field, rest); err != nil {
			more, ok := errors.AsType[spec.FieldErrors](err)
			if !ok {
				return err
			}
			fe = append(fe, more...)
		}
	}
	return fe.Err()
}
