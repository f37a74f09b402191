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
	// shared holds what plugins derive from the service once for all
	// its routes (Shared); nil: derived again for each route.
	shared *serviceShared
}

// serviceShared is what plugins derived from one service in one build.
type serviceShared struct{ values map[string]sharedValue }

type sharedValue struct {
	v   any
	err error
}

// Shared is make's answer for key, made once per service and build: a
// service's OpenAPI document is loaded once, not once per route.
func (rs RouteSpec) Shared(key string, make func() (any, error)) (any, error) {
	if rs.shared == nil {
		return make()
	}
	if sv, ok := rs.shared.values[key]; ok {
		return sv.v, sv.err
	}
	v, err := make()
	if rs.shared.values == nil {
		rs.shared.values = map[string]sharedValue{}
	}
	rs.shared.values[key] = sharedValue{v, err}
	return v, err
}

// serviceValidation is request-validation's part of a service: its
// document without paths, exported and loaded once.
type serviceValidation struct {
	export *openapi.ServiceDocument
	doc    *requestvalidation.Document
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
		return requestvalidation.New(cfg, nil, nil)
	}
	v, err := rs.Shared("request-validation", func() (any, error) {
		export, err := openapi.ExportService(rs.Service)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(export.Doc)
		if err != nil {
			return nil, fmt.Errorf("the service's OpenAPI description: %w", err)
		}
		doc, err := requestvalidation.LoadDocument(b)
		if err != nil {
			return nil, err
		}
		return serviceValidation{export, doc}, nil
	})
	if err != nil {
		return plugin.Filters{}, err
	}
	sv := v.(serviceValidation)
	paths, err := sv.export.Route(rs.Route)
	if err != nil {
		return plugin.Filters{}, err
	}
	b, err := json.Marshal(paths)
	if err != nil {
		return plugin.Filters{}, fmt.Errorf("the route's OpenAPI operation: %w", err)
	}
	return requestvalidation.New(cfg, sv.doc, b)
}
