package spec

import (
	"encoding/json"
	"time"
)

// Lifecycle states of a service (the publishing lifecycle).
const (
	StateDraft     = "draft"
	StateSubmitted = "submitted"
	StatePublished = "published"
	StateDisabled  = "disabled"
)

// DefaultProject and DefaultGroup exist from the first start.
const (
	DefaultProject = "default"
	DefaultGroup   = "default"
)

// DefaultNodeWeight is the weight of a node that does not give one.
const DefaultNodeWeight = 100

// Project is the tenancy unit. Its ID is an immutable slug.
type Project struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Description     string `json:"description,omitempty"`
	TestGroup       string `json:"test_group"`
	ProductionGroup string `json:"production_group"`
	// ListingApprover is who approves launching a service of the project
	// into the catalog and removing it: project_admin (default) or
	// super_admin.
	ListingApprover string `json:"listing_approver,omitempty"`
	// Webhook receives the project's approval events; its secret is
	// written, never read back (SecretSet says one is held).
	Webhook   *Webhook  `json:"webhook,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// GatewayGroup is an environment served by gateway instances. PathPrefix is a
// template that may contain {project}. Revision is the config revision at
// which the group last changed.
type GatewayGroup struct {
	Name        string `json:"name"`
	PathPrefix  string `json:"path_prefix"`
	Description string `json:"description,omitempty"`
	// TimeZone is the IANA zone in which daily and monthly quotas of the
	// group's subscriptions reset at midnight (default UTC).
	TimeZone string `json:"time_zone,omitempty"`
	// PublicURL is the address clients reach the group's gateways on
	// (scheme://host[:port]), shown with every URL of the catalog.
	PublicURL string `json:"public_url,omitempty"`
	// TraceSampleRatio is the share of new traces (requests that arrive
	// without a sampled traceparent decision) the group's gateways sample
	// and export, 0 to 1; unset: each gateway's --trace-sample-ratio.
	TraceSampleRatio *float64  `json:"trace_sample_ratio,omitempty"`
	Revision         int64     `json:"revision"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// Node is one backend address of an upstream.
type Node struct {
	Host   string `json:"host"`
	Port   int    `json:"port"`
	Weight int    `json:"weight"`
}

// UnmarshalJSON gives a node without weight the default weight and refuses
// unknown fields (a custom unmarshaller does not inherit the caller's
// DisallowUnknownFields).
func (n *Node) UnmarshalJSON(b []byte) error {
	type plain struct {
		Host   string `json:"host"`
		Port   int    `json:"port"`
		Weight *int   `json:"weight"`
	}
	var p plain
	if err := strictUnmarshal(b, &p); err != nil {
		return err
	}
	n.Host, n.Port, n.Weight = p.Host, p.Port, DefaultNodeWeight
	if p.Weight != nil {
		n.Weight = *p.Weight
	}
	return nil
}

// Timeout holds per-phase timeouts in seconds; zero means the default.
type Timeout struct {
	Connect float64 `json:"connect,omitempty"`
	Send    float64 `json:"send,omitempty"`
	Read    float64 `json:"read,omitempty"`
}

// Discovery names a service in a registry connection of the gateway group.
type Discovery struct {
	Registry    string `json:"registry"`
	Namespace   string `json:"namespace,omitempty"`
	ServiceName string `json:"service_name"`
}

// Upstream is where requests go: fixed nodes or a discovered service.
type Upstream struct {
	ID           string     `json:"id,omitempty"`
	ProjectID    string     `json:"project_id,omitempty"`
	Name         string     `json:"name,omitempty"`
	Scheme       string     `json:"scheme,omitempty"`        // http (default) | https | grpc | grpcs; tcp | tls for stream services
	LoadBalancer string     `json:"load_balancer,omitempty"` // roundrobin (default) | least_conn | chash | ewma
	HashOn       string     `json:"hash_on,omitempty"`       // for chash: ip (default), uri, consumer, header:NAME, cookie:NAME, query:NAME
	Nodes        []Node     `json:"nodes,omitempty"`
	Discovery    *Discovery `json:"discovery,omitempty"`
	Timeout      *Timeout   `json:"timeout,omitempty"`
	Retries      *int       `json:"retries,omitempty"`   // default: one retry on another node for idempotent requests
	PassHost     string     `json:"pass_host,omitempty"` // pass (default) | node | rewrite
	UpstreamHost string     `json:"upstream_host,omitempty"`
	// URL registers a third-party API: "https://host[:port]/base"
	// instead of nodes. The backend's address stays hidden from callers
	// (Location rewritten, identifying headers dropped) and the target's own
	// Host is sent unless pass_host says otherwise.
	URL string `json:"url,omitempty"`
	// TLSVerify checks an https backend's certificate; default true.
	TLSVerify *bool `json:"tls_verify,omitempty"`
	// TLS says more of how an https backend is reached (upstream_tls.go).
	TLS *UpstreamTLS `json:"tls,omitempty"`
	// Checks decide when a node is down (health.go).
	Checks *HealthChecks `json:"checks,omitempty"`
	// RetryPolicy says which failed attempts go again to another node,
	// and the time all of them may take (retry.go).
	RetryPolicy *RetryPolicy `json:"retry_policy,omitempty"`
	// Connections bound the requests in flight to, and the idle
	// connections kept with, each node (upstream_connections.go).
	Connections *UpstreamConnections `json:"connections,omitempty"`
	CreatedAt   time.Time            `json:"created_at,omitzero"`
	UpdatedAt   time.Time            `json:"updated_at,omitzero"`
}

// Plugins maps a plugin name to its raw configuration; the gateway's
// compiler decodes and validates each one.
type Plugins map[string]json.RawMessage

// Backend says what answers a route. Type "upstream" (the default) proxies
// to the service's upstream; sql answers from a data source (datasource.go),
// composite from calls to other APIs (composite.go).
type Backend struct {
	Type    string   `json:"type,omitempty"`
	Path    string   `json:"path,omitempty"`   // rewrite of the upstream path; may use {param}
	Method  string   `json:"method,omitempty"` // backend method, when it differs
	Timeout *Timeout `json:"timeout,omitempty"`
	// RetryNonIdempotent lets the upstream's retries resend a request
	// whose method is not idempotent (POST, PATCH): for an operation the
	// backend makes safe to repeat (an idempotency key).
	RetryNonIdempotent bool `json:"retry_non_idempotent,omitempty"`
	// Parameters are constants the backend always gets (routeparams.go).
	Parameters []ConstParameter `json:"parameters,omitempty"`
	// SQLBackend holds a "sql" backend's definition (datasource.go); its
	// fields sit beside type, as the admin API shows them.
	*SQLBackend
	// Composite is a "composite" backend's flow (composite.go).
	Composite *CompositeBackend `json:"composite,omitempty"`
}

// Route is one operation of a service.
type Route struct {
	ID          string   `json:"id,omitempty"`
	ServiceID   string   `json:"service_id,omitempty"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Paths       []string `json:"paths,omitempty"`
	Methods     []string `json:"methods,omitempty"`
	Hosts       []string `json:"hosts,omitempty"`
	Plugins     Plugins  `json:"plugins,omitempty"`
	Backend     *Backend `json:"backend,omitempty"`
	Online      *bool    `json:"online,omitempty"` // nil means online
	// Parameters, Responses and Errors are the route's design: its
	// request parameters (and where the backend gets them), example
	// answers and error-code table (routeparams.go).
	Parameters []Parameter       `json:"parameters,omitempty"`
	Responses  []ResponseExample `json:"responses,omitempty"`
	Errors     []ErrorCode       `json:"errors,omitempty"`
	// OpenAPI is the route's OpenAPI 3.1 Operation object (parameters,
	// request body, responses, security) as imported, so that the
	// service's description file round-trips; internal/openapi owns it.
	OpenAPI   json.RawMessage `json:"openapi,omitempty"`
	CreatedAt time.Time       `json:"created_at,omitzero"`
	UpdatedAt time.Time       `json:"updated_at,omitzero"`
}

// IsOnline reports whether the route is served.
func (r *Route) IsOnline() bool { return r.Online == nil || *r.Online }

// Service is the editable template of an API. Routes are filled when a
// service is read whole (GET, versions, snapshots).
type Service struct {
	ID          string            `json:"id,omitempty"`
	ProjectID   string            `json:"project_id,omitempty"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// Type is http (the default: routes answer requests) or stream (its
	// StreamRoutes relay TCP connections; stream.go).
	Type string `json:"type,omitempty"`
	// StreamRoutes are what a stream service answers (stream.go).
	StreamRoutes []StreamRoute `json:"stream_routes,omitempty"`
	// Protocols are the listeners the service answers on: http (the
	// gateway's plain address), https (its TLS address); none: both.
	Protocols []string `json:"protocols,omitempty"`
	// HTTPSRedirectStatusCode, for a service of protocols ["https"], sends
	// a plain request to the same URL over HTTPS with this status (301,
	// 302, 307 or 308) instead of answering 426.
	HTTPSRedirectStatusCode int       `json:"https_redirect_status_code,omitempty"`
	Path                    string    `json:"path,omitempty"`        // service path prefix: "", "/x[/y]" or "default" (the folder's path)
	FolderID                string    `json:"folder_id,omitempty"`   // catalog folder of the service
	FolderPath              string    `json:"folder_path,omitempty"` // the folder's path now; filled by the store when read
	Hosts                   []string  `json:"hosts,omitempty"`
	Plugins                 Plugins   `json:"plugins,omitempty"`
	UpstreamID              string    `json:"upstream_id,omitempty"`
	Upstream                *Upstream `json:"upstream,omitempty"` // inline upstream of the template
	State                   string    `json:"state,omitempty"`
	// AllowedActions is what the lifecycle state allows;
	// filled by the admin API when it answers, never stored.
	AllowedActions []string `json:"allowed_actions,omitempty"`
	// Running says where the service runs and which version, with any
	// canary (placement.go); filled by the admin API, never stored.
	Running []Placement `json:"running,omitempty"`
	Routes  []Route     `json:"routes,omitempty"`
	// OpenAPI is the document-level part of an imported OpenAPI 3.1
	// description (info, tags, components, security; no paths, no
	// servers); internal/openapi owns it.
	OpenAPI   json.RawMessage `json:"openapi,omitempty"`
	CreatedAt time.Time       `json:"created_at,omitzero"`
	UpdatedAt time.Time       `json:"updated_at,omitzero"`
}

// Version is an immutable snapshot of a service template, routes included.
type Version struct {
	ID        string    `json:"id"`
	ProjectID string    `json:"project_id"`
	ServiceID string    `json:"service_id"`
	Version   string    `json:"version"`
	Service   Service   `json:"service"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Deployment is what runs for one service in one group: a version and the
// upstream it was published with there.
type Deployment struct {
	Group     string    `json:"group"`
	ProjectID string    `json:"project_id"`
	ServiceID string    `json:"service_id"`
	Version   string    `json:"version"`
	Upstream  Upstream  `json:"upstream"`
	UpdatedAt time.Time `json:"updated_at"`
	// VersionRouting runs other versions beside Version, the default one
	// (versionrouting.go); set apart from publishing, kept across it.
	VersionRouting *VersionRouting `json:"version_routing,omitempty"`
}

// HistoryEvent is one entry of a group's release history.
type HistoryEvent struct {
	ID          int64     `json:"id"`
	ProjectID   string    `json:"project_id"`
	ServiceID   string    `json:"service_id"`
	Group       string    `json:"group"`
	Action      string    `json:"action"` // publish, rollback, …
	Version     string    `json:"version"`
	FromVersion string    `json:"from_version,omitempty"`
	Actor       string    `json:"actor,omitempty"`
	Detail      string    `json:"detail,omitempty"`
	Revision    int64     `json:"revision"`
	At          time.Time `json:"at"`
}

// AuditEvent records one admin action.
type AuditEvent struct {
	ID       int64           `json:"id"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`            // e.g. service.create
	Resource string          `json:"resource"`          // e.g. /projects/default/services/ID
	Project  string          `json:"project,omitempty"` // the project the resource belongs to, if any
	Client   string          `json:"client,omitempty"`  // the caller's address
	Detail   json.RawMessage `json:"detail,omitempty"`  // for changes: {before, after} with secrets masked
	At       time.Time       `json:"at"`
}
