package openapi

import (
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

// ExportRoute is the service's export with route r alone: the document's
// own parts (components, security) as Export writes them, and under paths
// r's operations for each of its paths and methods (none when r is
// offline: it is not served). The gateway compiles
// a route's request validation from it, so what the route declares
// reaches the gateway exactly as the description file shows it.
func ExportRoute(svc *spec.Service, r *spec.Route) (map[string]any, error) {
	one := *svc
	one.Routes = []spec.Route{*r}
	doc, err := Export(&one, ExportOptions{})
	if err != nil {
		return nil, fmt.Errorf("openapi: route %q: %w", r.Name, err)
	}
	return doc, nil
}
