package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"

	"github.com/portico-gw/portico/internal/gateway/plugin/basicauth"
	"github.com/portico-gw/portico/internal/gateway/plugin/cors"
	"github.com/portico-gw/portico/internal/gateway/plugin/hmacauth"
	"github.com/portico-gw/portico/internal/gateway/plugin/iprestriction"
	"github.com/portico-gw/portico/internal/gateway/plugin/jwtauth"
	"github.com/portico-gw/portico/internal/gateway/plugin/keyauth"
	"github.com/portico-gw/portico/internal/gateway/plugin/limitcount"
	"github.com/portico-gw/portico/internal/gateway/plugin/limitreq"
	"github.com/portico-gw/portico/internal/gateway/plugin/mock"
	"github.com/portico-gw/portico/internal/gateway/plugin/mtlsauth"
	"github.com/portico-gw/portico/internal/gateway/plugin/oauth2"
	"github.com/portico-gw/portico/internal/gateway/plugin/proxyrewrite"
	"github.com/portico-gw/portico/internal/gateway/plugin/requestsizelimit"
	"github.com/portico-gw/portico/internal/gateway/plugin/requesttransformer"
	"github.com/portico-gw/portico/internal/gateway/plugin/responsetransformer"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/spec"
)

// pluginConfigs are the types the gateway decodes each HTTP plugin's
// configuration into (the plugins table of routing/plugins.go). The
// gateway decodes with encoding/json, which matches member names
// regardless of case; the admin API checks each configuration against
// these types first with the strict decoder's exact names, so {"COUNT": 3}
// is refused like any unknown member instead of being taken for count.
// plugins_test.go holds this table to the gateway's.
var pluginConfigs = map[string]reflect.Type{
	"ip-restriction":       reflect.TypeFor[iprestriction.Config](),
	"request-size-limit":   reflect.TypeFor[requestsizelimit.Config](),
	"limit-count":          reflect.TypeFor[limitcount.Config](),
	"limit-req":            reflect.TypeFor[limitreq.Config](),
	"cors":                 reflect.TypeFor[cors.Config](),
	"proxy-rewrite":        reflect.TypeFor[proxyrewrite.Config](),
	"request-transformer":  reflect.TypeFor[requesttransformer.Config](),
	"response-transformer": reflect.TypeFor[responsetransformer.Config](),
	"mock":                 reflect.TypeFor[mock.Config](),
	"key-auth":             reflect.TypeFor[keyauth.Config](),
	"basic-auth":           reflect.TypeFor[basicauth.Config](),
	"hmac-auth":            reflect.TypeFor[hmacauth.Config](),
	"jwt-auth":             reflect.TypeFor[jwtauth.Config](),
	"mtls-auth":            reflect.TypeFor[mtlsauth.Config](),
	"oauth2":               reflect.TypeFor[oauth2.Config](),
}

// streamPluginConfigs are the same for the plugins of a stream route
// (routing/stream.go compileStreamPlugins).
var streamPluginConfigs = map[string]reflect.Type{
	spec.StreamIPRestriction: reflect.TypeFor[iprestriction.Config](),
	spec.StreamLimitConn: reflect.TypeFor[struct {
		Conn int64 `json:"conn"`
	}](),
}

// checkPlugins checks HTTP plugin configurations as the gateway will
// compile them, member names spelt exactly; field is where they sit
// ("plugins", "routes[0].plugins").
func checkPlugins(field string, p spec.Plugins) error {
	return checkPluginsWith(field, p, pluginConfigs, routing.CheckPlugins)
}

// checkStreamPlugins is checkPlugins for a stream route's plugins.
func checkStreamPlugins(field string, p spec.Plugins) error {
	return checkPluginsWith(field, p, streamPluginConfigs, routing.CheckStreamPlugins)
}

// checkPluginsWith runs the strict decoder's shape check over each
// configuration whose type types knows (every member spelt exactly as its
// type's json tag, every value of the right kind), then the gateway's
// check over the others and those that passed, so that every problem is
// named at once and each once. Plugins types does not know are left to
// the gateway's check, which names them.
func checkPluginsWith(field string, p spec.Plugins, types map[string]reflect.Type, gateway func(string, spec.Plugins) error) error {
	var fe spec.FieldErrors
	rest := spec.Plugins{}
	for _, name := range slices.Sorted(maps.Keys(p)) {
		rest[name] = p[name]
		t, ok := types[name]
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
