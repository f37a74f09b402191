package spec

import "strings"

// Snapshot is the full configuration of some gateway groups at a revision:
// what a gateway compiles into its routing table.
type Snapshot struct {
	Revision int64           `json:"revision"`
	Groups   []GroupSnapshot `json:"groups"`
}

// GroupSnapshot is what runs in one group.
type GroupSnapshot struct {
	Group    GatewayGroup      `json:"group"`
	Services []DeployedService `json:"services"`
	// Consumers are the applications admitted to a service of the group
	// (consumer.go), for the authentication plugins.
	Consumers []Consumer `json:"consumers,omitempty"`
	// DataSources are the databases the group's sql routes query, their
	// passwords sealed (datasource.go); the routes name them by id.
	DataSources []DataSource `json:"data_sources,omitempty"`
}

// DeployedService is one running service version with its upstream.
type DeployedService struct {
	ProjectID string   `json:"project_id"`
	Version   string   `json:"version"`
	Service   Service  `json:"service"` // from the version: routes included
	Upstream  Upstream `json:"upstream"`
	// Canary, when set, sends part of the traffic to another upstream.
	Canary *CanaryRoute `json:"canary,omitempty"`
}

// GroupPrefix fills the {project} placeholder of a group's path prefix.
func GroupPrefix(template, project string) string {
	p := strings.ReplaceAll(template, "{project}", project)
	return strings.TrimRight(p, "/")
}

// RoutePaths returns the public paths of a route in a group: group prefix +
// service path (its folder's path when the service's path is "default") +
// route path. A route without paths answers on /{name}.
func RoutePaths(groupPrefix, project string, svc *Service, r *Route) []string {
	prefix := GroupPrefix(groupPrefix, project) + strings.TrimRight(svc.EffectivePath(), "/")
	paths := r.Paths
	if len(paths) == 0 {
		paths = []string{"/" + r.Name}
	}
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = prefix + p
	}
	return out
}
