// Package plugin is the filter contract every gateway plugin shares. Plugins
// see a request through *Exchange and never through an HTTP library's types,
// so one compiled chain runs on any engine.
package plugin

import (
	"crypto/x509"
	"errors"
	"net/netip"
	"time"
)

// RequestFilter runs before the backend. It returns stop=true when it has
// answered the request (normally through Exchange.Reject).
type RequestFilter interface {
	OnRequest(ex *Exchange) (stop bool)
}

// ResponseFilter runs after the backend's response headers arrived and
// before they are sent to the client.
type ResponseFilter interface {
	OnResponse(ex *Exchange)
}

// Filters is what one plugin compiles to for a route: a request filter, a
// response filter, or both.
type Filters struct {
	Request  RequestFilter
	Response ResponseFilter
}

// errNoFilter is a plugin constructor whose value filters nothing.
var errNoFilter = errors.New("the plugin built neither a request nor a response filter")

// FiltersOf sorts a plugin constructor's value into Filters. A value that
// is neither kind of filter is an error, so a plugin wired up wrongly is
// refused when its configuration is compiled instead of silently doing
// nothing.
func FiltersOf[F any](f F) (Filters, error) {
	var fs Filters
	fs.Request, _ = any(f).(RequestFilter)
	fs.Response, _ = any(f).(ResponseFilter)
	if fs.Request == nil && fs.Response == nil {
		return Filters{}, errNoFilter
	}
	return fs, nil
}

// Phases order the request filters of a route. The routing
// compiler sorts filters by phase; plugins of one phase keep name order.
type Phase int

// The request phases, in execution order.
const (
	PhaseIPRestriction Phase = iota + 1
	// PhaseCORS answers preflight requests before authentication (a browser
	// sends no credentials on one) and marks every answer with CORS headers.
	PhaseCORS
	PhaseAuthentication
	PhaseSubscription
	PhaseRateLimit
	PhaseValidation
	PhaseSizeLimit
	PhaseTransform
	PhaseCanary
	// PhaseBackend plugins answer in place of the backend (mock): last.
	PhaseBackend
	PhaseResponse // response-only plugins
)

// ErrBodyTooLarge is returned by a request body a plugin limited with
// Exchange.LimitBody once more than the limit was read. Engines answer it
// with 413.
var ErrBodyTooLarge = errors.New("request body too large")

// RouteInfo identifies the matched route. The compiler builds one per route;
// it is shared by all requests and never modified. Its service's part
// (Group, ProjectID, ServiceID, ServiceName, read through the embedded
// pointer) is one value shared by every route of the service.
type RouteInfo struct {
	*ServiceInfo
	RouteID   string
	RouteName string
}

// ServiceInfo identifies a deployed service in a gateway group.
type ServiceInfo struct {
	Group       string
	ProjectID   string
	ServiceID   string
	ServiceName string
	Version     string // the version deployed in the group
	// TraceSampling is the share of new traces the gateway samples on
	// this service (its group's ratio); negative: the gateway's default.
	TraceSampling float64
}

// Consumer is who an authentication plugin recognised.
type Consumer struct {
	ApplicationID string
	Name          string
	ProjectID     string
	// CredentialType is the plugin that accepted the credential (key-auth, …).
	CredentialType string
}

// Backing is what an engine implements for its own request state. Plugins
// never see it; they call Exchange's methods.
type Backing interface {
	Method() string
	Path() string
	Host() string // without port
	Header(name string) string
	// HeaderValues are all values of a request header, in order; the
	// slice is the engine's and valid only until the filter returns.
	HeaderValues(name string) []string
	Query(name string) string
	// RawQuery is the client's query string without '?', as sent.
	RawQuery() string
	// BackendPath is the path the backend gets unless a plugin sets one:
	// the group prefix stripped, the route's backend.path applied.
	BackendPath() string
	ClientAddr() netip.Addr
	// Arrived is when the gateway began the request (its head read): the
	// instant rate limits and quotas count it at, so they read no clock
	// of their own on the request's path.
	Arrived() time.Time
	// PeerCertificates are the client certificate chain the TLS listener
	// verified (leaf first); nil on the plain listener or without one.
	PeerCertificates() []*x509.Certificate
	// ContentLength is -1 when unknown (chunked).
	ContentLength() int64
	// LimitBody makes reading more than max bytes of the request body fail
	// with ErrBodyTooLarge.
	LimitBody(max int64)

	SetUpstreamHeader(name, value string)
	DelUpstreamHeader(name string)

	// Response view: the backend's response once it arrived, otherwise the
	// headers the gateway will send.
	ResponseStatus() int
	ResponseHeader(name string) string
	SetResponseHeader(name, value string)
	// SetResponseHeaderInt sets a header to v in decimal; an engine that
	// copies header values writes the digits without allocating.
	SetResponseHeaderInt(name string, v int64)
	DelResponseHeader(name string)

	// WriteError sends a complete gateway error answer; the body is JSON.
	WriteError(status int, body []byte)
	// WriteResponse sends a complete answer a plugin made (mock, CORS
	// preflight) with the response headers set so far; no backend is called.
	WriteResponse(status int, body []byte)
}
