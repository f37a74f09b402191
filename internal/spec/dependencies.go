package spec

// ServiceDependencies is the graph of composite APIs around one service,
// as GET …/services/{s}/dependencies answers it: the APIs its composite
// routes call, and the composite routes that call it.
type ServiceDependencies struct {
	Uses   []UsedAPI   `json:"uses"`
	UsedBy []UsingCall `json:"used_by"`
}

// UsedAPI is an API (service and route of the project) the service's
// composite routes call.
type UsedAPI struct {
	Service string `json:"service"`
	Route   string `json:"route"`
	// By are the service's routes that call it, in the template or in a
	// running version.
	By []string `json:"by"`
	// Groups are those where a running version of the service calls it.
	Groups []string `json:"groups"`
	// MissingIn are the groups the service runs in where the API does
	// not run (its service is not deployed, or the running version has
	// no such route online): a publish of the template there is refused.
	MissingIn []string `json:"missing_in"`
}

// UsingCall is a composite route that calls one of the service's routes
// (UsesRoute): running in Group (and Version), or, with Template set and
// Group "", in a service template.
type UsingCall struct {
	Service   string `json:"service"`
	ServiceID string `json:"service_id"`
	Route     string `json:"route"`
	UsesRoute string `json:"uses_route"`
	Group     string `json:"group"`
	Version   string `json:"version,omitempty"`
	Template  bool   `json:"template,omitempty"`
}
