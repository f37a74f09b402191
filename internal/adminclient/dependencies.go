package adminclient

import (
	"context"
	"fmt"

	"github.com/portico-gw/portico/internal/spec"
)

// Dependencies reads the graph of composite APIs around a service: what
// its composite routes call and which composite routes call it.
func (c *Client) Dependencies(ctx context.Context, project, service string) (spec.ServiceDependencies, error) {
	var d spec.ServiceDependencies
	if err := c.Get(ctx, ServicePath(project, service)+"/dependencies", nil, &d); err != nil {
		return d, fmt.Errorf("dependencies of service %s: %w", service, err)
	}
	return d, nil
}
