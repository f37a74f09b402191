package routing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/portico-gw/portico/internal/gateway/accesslog"
	"reflect"

	"github.com/portico-gw/portico/internal/gateway/plugin"
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
	"github.com/portico-gw/portico/internal/gateway/plugin/proxycache"
	"github.com/portico-gw/portico/internal/gateway/plugin/proxyrewrite"
	"github.com/portico-gw/portico/internal/gateway/plugin/requestsizelimit"
	"github.com/portico-gw/portico/internal/gateway/plugin/requesttransformer"
	"github.com/portico-gw/portico/internal/gateway/plugin/requestvalidation"
	"github.com/portico-gw/portico/internal/gateway/plugin/responsetransformer"
)

// factory compiles one plugin's raw configuration into its filter. scope
// names where the configuration sits (group and route or service id),
// stable across reloads, for plugins that keep state in Deps.
type factory struct {
	phase plugin.Phase
	build func(raw json.RawMessage, deps Deps, scope string) (plugin.Filters, error)
	// config is the type build decodes the configuration into, for the
	// admin API's exact check of its member names (ConfigType); nil when
	// build's own parser checks them.
	config reflect.Type
}

// plugins is the one table of the plugins a gateway knows. Adding a plugin
// is one package and one row here; nothing registers itself.
var plugins = map[string]factory{
	"ip-restriction":       {plugin.PhaseIPRestriction, simple(iprestriction.New), reflect.TypeFor[iprestriction.Config]()},
	"request-size-limit":   {plugin.PhaseSizeLimit, simple(requestsizelimit.New), reflect.TypeFor[requestsizelimit.Config]()},
	"request-validation":   {plugin.PhaseValidation, requestValidation, reflect.TypeFor[requestvalidation.Config]()},
	"limit-count":          {plugin.PhaseRateLimit, limitCount, reflect.TypeFor[limitcount.Config]()},
	"limit-req":            {plugin.PhaseRateLimit, limitReq, reflect.TypeFor[limitreq.Config]()},
	"cors":                 {plugin.PhaseCORS, simple(cors.New), reflect.TypeFor[cors.Config]()},
	"proxy-rewrite":        {plugin.PhaseTransform, simple(proxyrewrite.New), reflect.TypeFor[proxyrewrite.Config]()},
	"request-transformer":  {plugin.PhaseTransform, simple(requesttransformer.New), reflect.TypeFor[requesttransformer.Config]()},
	"response-transformer": {plugin.PhaseResponse, simple(responsetransformer.New), reflect.TypeFor[responsetransformer.Config]()},
	"mock":                 {plugin.PhaseBackend, simple(mock.New), reflect.TypeFor[mock.Config]()},
	"proxy-cache":          {plugin.PhaseBackend, proxyCache, reflect.TypeFor[proxycache.Config]()},
	"key-auth":             {plugin.PhaseAuthentication, authn(keyauth.New), reflect.TypeFor[keyauth.Config]()},
	"basic-auth":           {plugin.PhaseAuthentication, authn(basicauth.New), reflect.TypeFor[basicauth.Config]()},
	"hmac-auth":            {plugin.PhaseAuthentication, authn(hmacauth.New), reflect.TypeFor[hmacauth.Config]()},
	"jwt-auth":             {plugin.PhaseAuthentication, authn(jwtauth.New), reflect.TypeFor[jwtauth.Config]()},
	"mtls-auth":            {plugin.PhaseAuthentication, authn(mtlsauth.New), reflect.TypeFor[mtlsauth.Config]()},
	oauth2Name:             {plugin.PhaseAuthentication, oauth2Plugin, reflect.TypeFor[oauth2.Config]()},
	accessLogName:          {plugin.PhaseResponse, accessLogPlugin, nil}, // ParsePolicy checks names itself
}

// accessLogName is the plugin that sets a service's or route's access-log
// policy. It runs no filter: the engine reads the policy when the
// request ends (Route.AccessLog).
const accessLogName = "access-log"

// accessLogPolicy carries the compiled policy from the plugin's build to
// compilePlugins, which keeps it on the route instead of running it.
type accessLogPolicy struct{ policy *accesslog.Policy }

func (accessLogPolicy) OnRequest(*plugin.Exchange) bool { return false }

func accessLogPlugin(raw json.RawMessage, _ Deps, _ string) (plugin.Filters, error) {
	p, err := accesslog.ParsePolicy(raw)
	if err != nil {
		return plugin.Filters{}, err
	}
	return plugin.Filters{Request: accessLogPolicy{p}}, nil
}

func limitReq(raw json.RawMessage, deps Deps, scope string) (plugin.Filters, error) {
	var cfg limitreq.Config
	if err := decodeStrict(raw, &cfg); err != nil {
		return plugin.Filters{}, err
	}
	return filters(limitreq.New(cfg, deps.Buckets, scope))
}

func limitCount(raw json.RawMessage, deps Deps, scope string) (plugin.Filters, error) {
	var cfg limitcount.Config
	if err := decodeStrict(raw, &cfg); err != nil {
		return plugin.Filters{}, err
	}
	return filters(limitcount.New(cfg, deps.Counters, scope))
}

// filters turns a constructor's answer into the plugin's Filters.
func filters[F any](f F, err error) (plugin.Filters, error) {
	if err != nil {
		return plugin.Filters{}, err
	}
	return plugin.FiltersOf(f)
}

// simple adapts a New(Config) (*Filter, error) constructor: the raw config
// is decoded strictly into Config first.
func simple[C any, F any](newFilter func(C) (F, error)) func(json.RawMessage, Deps, string) (plugin.Filters, error) {
	return func(raw json.RawMessage, _ Deps, _ string) (plugin.Filters, error) {
		var cfg C
		if err := decodeStrict(raw, &cfg); err != nil {
			return plugin.Filters{}, err
		}
		return filters(newFilter(cfg))
	}
}

func decodeStrict(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("invalid configuration: trailing data")
	}
	return nil
}

// ConfigType is the type the gateway decodes plugin name's configuration
// into (false: no such plugin, or one whose build checks member names
// itself).
func ConfigType(name string) (reflect.Type, bool) {
	f, ok := plugins[name]
	return f.config, ok && f.config != nil
}

// Known reports whether name is a plugin this gateway can run.
func Known(name string) bool {
	_, ok := plugins[name]
	return ok
}
