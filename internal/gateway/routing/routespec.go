package routing

import (
	"encoding/json"
	"fmt"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/plugin/requestvalidation"
	"github.com/portico-gw/portico/internal/openapi"
	"github.com/portico-gw/portico/internal/spec"
)

// RouteSpec is the route a plugin is compiled for, as its service
// declares it: plugins that check requests against the route's OpenAPI
// operation build from it. The values are the snapshot's; a plugin reads
// them while it is built and keeps nothing of them.
type RouteSpec struct {
	Service *spec.Service
	Route   *spec.Route
}

// requestValidation builds request-validation from the route's operation
// and the service's components, as the service's export describes the
// route alone. Without a route (a configuration checked when saved) only
// the configuration is checked.
func requestValidation(raw json.RawMessage, deps Deps, _ string) (plugin.Filters, error) {
	var cfg requestvalidation.Config
	if err := decodeStrict(raw, &cfg); err != nil {
		return plugin.Filters{}, err
	}
	rs := deps.Route
	if rs.Service == nil || rs.Route == nil {
		return requestvalidation.New(cfg, nil)
	}
	doc, err := openapi.ExportRoute(rs.Service, rs.Route)
	if err != nil {
		return plugin.Filters{}, err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return plugin.Filters{}, fmt.Errorf("the route's OpenAPI description: %w", err)
	}
	return requestvalidation.New(cfg, b)
}
