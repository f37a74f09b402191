package openapi

import (
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

// ServiceDocument is a service's export without its routes: the
// document's own parts (info, components, security) as Export writes
// them. Route adds one route's operations, so a service whose routes are
// described one at a time decodes its document once.
type ServiceDocument struct {
	// Doc is the export with an empty paths object; read only.
	Doc  map[string]any
	refs map[string]string // path parameters of components.parameters
}

// ExportService is svc's export without its routes.
func ExportService(svc *spec.Service) (*ServiceDocument, error) {
	none := *svc
	none.Routes = nil
	doc, err := Export(&none, ExportOptions{})
	if err != nil {
		return nil, err
	}
	return &ServiceDocument{Doc: doc, refs: paramNames(doc)}, nil
}

// Route is the paths object the service's export writes for route r
// alone: r's operations for each of its paths and methods, with the
// parameters it declares (none when r is offline: it is not served). The
// gateway compiles a route's request validation from it, so what the
// route declares reaches the gateway exactly as the description file
// shows it.
func (d *ServiceDocument) Route(r *spec.Route) (map[string]any, error) {
	paths := map[string]any{}
	if !r.IsOnline() {
		return paths, nil
	}
	if err := exportRoute(paths, map[string]bool{}, r, ExportOptions{}, d.refs); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return paths, nil
}

// ExportRoute is the service's export with route r alone.
func ExportRoute(svc *spec.Service, r *spec.Route) (map[string]any, error) {
	d, err := ExportService(svc)
	if err != nil {
		return nil, err
	}
	paths, err := d.Route(r)
	if err != nil {
		return nil, err
	}
	doc := cloneMap(d.Doc)
	doc["paths"] = paths
	return doc, nil
}
