package routing

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/oauth2"
)

// oauth2Name is the plugin's name in configurations.
const oauth2Name = "oauth2"

// oauth2Plugin builds the oauth2 plugin over the group's consumer index
// and registers it with the build's token endpoint.
func oauth2Plugin(raw json.RawMessage, deps Deps, _ string) (plugin.Filters, error) {
	var cfg oauth2.Config
	if err := decodeStrict(raw, &cfg); err != nil {
		return plugin.Filters{}, err
	}
	return filters(oauth2.New(cfg, deps.Consumers, deps.tokenEndpoint))
}

// tokenRouteInfo names the token endpoint in metrics and logs.
var tokenRouteInfo = plugin.RouteInfo{ServiceInfo: &plugin.ServiceInfo{ServiceName: "oauth2"}, RouteName: "token"}

// addTokenEndpoint serves the build's token endpoint at oauth2.TokenPath
// (GET and POST, any host) when some route runs the oauth2 plugin; a
// gateway without one has no such route. It is an
// ordinary table entry, so plain requests pay nothing for it. A route of
// the configuration claiming the same path keeps it (it was added first):
// the endpoint must never make a snapshot fail. It returns the number of
// paths added.
func addTokenEndpoint(b *match.Builder[*Route], deps Deps) int {
	ep := deps.tokenEndpoint
	if !ep.Used() {
		return 0
	}
	rt := &Route{Info: tokenRouteInfo, filters: &chain{request: []plugin.RequestFilter{ep}}}
	err := b.Add(match.Route[*Route]{Path: oauth2.TokenPath, Methods: []string{http.MethodGet, http.MethodPost}, Value: rt})
	if err != nil {
		var conflict *match.ConflictError[*Route]
		if deps.Logger != nil && errors.As(err, &conflict) {
			deps.Logger.Warn("a route holds the oauth2 token endpoint's path; the gateway issues no tokens",
				"path", oauth2.TokenPath, "service", conflict.Existing.Info.ServiceName, "route", conflict.Existing.Info.RouteName)
		}
		return 0
	}
	return 1
}
