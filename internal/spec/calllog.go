package spec

import "time"

// CallRecord is one request a gateway answered, as its access log writes
// it (one JSON object per line), as gateways send it to their control
// plane, and as the admin API's log search answers it. The gateway's
// encoder (internal/gateway/accesslog) writes exactly these JSON names; a
// test decodes its output into this type field by field.
type CallRecord struct {
	// ID is the control plane's id of a stored record (absent in the
	// gateway's own log lines).
	ID        int64     `json:"id,omitempty"`
	Time      time.Time `json:"time"` // when the request arrived
	RequestID string    `json:"request_id"`
	// TraceID is the W3C trace id (32 hex digits) the request belongs to:
	// the client's traceparent's, or one the gateway started.
	TraceID  string `json:"trace_id,omitempty"`
	Instance string `json:"instance,omitempty"` // the gateway instance that served it
	Group    string `json:"group"`
	// Project, Service, ServiceID, Version and Route name what the request
	// matched; empty when no route matched (404, a malformed request).
	Project   string `json:"project,omitempty"` // project id
	Service   string `json:"service,omitempty"`
	ServiceID string `json:"service_id,omitempty"`
	Version   string `json:"version,omitempty"`
	Route     string `json:"route,omitempty"`
	// Consumer is the application an authentication plugin recognised
	// (its name), Application its id.
	Consumer    string `json:"consumer,omitempty"`
	Application string `json:"application,omitempty"`
	Client      string `json:"client"` // client address (after trusted proxies)
	Method      string `json:"method"`
	Host        string `json:"host,omitempty"`
	Path        string `json:"path"`
	// Query is the query string with the values of redacted parameters
	// replaced by "***".
	Query  string `json:"query,omitempty"`
	Status int    `json:"status"`
	// Upstream is the node (host:port) the request was sent to, and
	// UpstreamStatus what it answered (0: no answer).
	Upstream       string `json:"upstream,omitempty"`
	UpstreamStatus int    `json:"upstream_status,omitempty"`
	// Side is the canary side that served it ("canary" or "stable") while a
	// canary runs on the route.
	Side     string `json:"side,omitempty"`
	BytesIn  int64  `json:"bytes_in"`
	BytesOut int64  `json:"bytes_out"`
	// LatencyMs is from the request's arrival to the end of its answer;
	// UpstreamLatencyMs from sending upstream to the backend's header.
	LatencyMs         float64 `json:"latency_ms"`
	UpstreamLatencyMs float64 `json:"upstream_latency_ms,omitempty"`
	// Error is the gateway's error code when it answered itself
	// (route_not_found, upstream_unavailable, …), ErrorDetail what went
	// wrong upstream (connect, timeout, tls, broken, status).
	Error       string `json:"error,omitempty"`
	ErrorDetail string `json:"error_detail,omitempty"`
	// RequestBody and ResponseBody are kept only for routes whose
	// access-log policy turns bodies on: capped, named fields masked.
	RequestBody  string `json:"request_body,omitempty"`
	ResponseBody string `json:"response_body,omitempty"`
	// Steps are the calls a composite backend made for the request, one
	// line each.
	Steps []CallStep `json:"steps,omitempty"`
}

// CallStep is one call of a composite backend in a CallRecord.
type CallStep struct {
	Name string `json:"name"`
	// Target is "service/route" for an API of the group, "upstream" for
	// the service's own upstream.
	Target string `json:"target"`
	Method string `json:"method,omitempty"`
	Path   string `json:"path,omitempty"`
	Status int    `json:"status,omitempty"`
	// Outcome is ok, failed, fallback, skipped, timeout or cancelled.
	Outcome   string  `json:"outcome"`
	Error     string  `json:"error,omitempty"`
	Attempts  int     `json:"attempts,omitempty"`
	StartMs   float64 `json:"start_ms"` // from the request's arrival
	LatencyMs float64 `json:"latency_ms"`
}

// Canary sides of a CallRecord.
const (
	SideCanary = "canary"
	SideStable = "stable"
)

// TraceSampling is the group's trace sample ratio, negative when unset
// (the gateway's default applies).
func (g *GatewayGroup) TraceSampling() float64 {
	if g.TraceSampleRatio == nil {
		return -1
	}
	return *g.TraceSampleRatio
}
