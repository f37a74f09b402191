package adminapi

import (
	"net/http"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// dependencyEndpoints are the rows of the dependency graph of composite
// APIs, seen from one service.
func (s *server) dependencyEndpoints() []endpoint {
	const S = "/projects/{p}/services/{s}"
	return []endpoint{
		{method: "GET", path: S + "/dependencies", tag: "services", perm: rbac.ServiceRead,
			summary: "The service's place in the graph of composite APIs: uses, the APIs (service and route) its composite routes call, with the routes that call each (by), the groups where a running version calls it and missing_in, the groups the service runs in where that API does not run; used_by, the composite routes that call this service's routes: running ones with their group and version, and those of service templates with template true and group \"\". While used_by holds a running route, the API it calls cannot be unpublished, withdrawn, disabled or published without that route online there; while it holds any, the service cannot be deleted (409 naming them)",
			resp:    spec.ServiceDependencies{}, status: http.StatusOK, handle: (*call).serviceDependencies},
	}
}

func (c *call) serviceDependencies() (any, error) {
	var out spec.ServiceDependencies
	err := c.view(func(tx store.Tx) error {
		s, err := c.loadService(tx, c.path("p"), c.path("s"))
		if err != nil {
			return err
		}
		out, err = release.ServiceDependencies(c.ctx(), tx, &s)
		return err
	})
	return out, err
}
