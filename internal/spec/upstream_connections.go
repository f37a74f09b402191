package spec

// UpstreamConnections bound what one gateway holds open to each node of
// an upstream, as Envoy's circuit breakers and nginx's upstream keepalive
// do: a burst of clients is shed at the gateway instead of opening
// thousands of connections to a backend.
type UpstreamConnections struct {
	// MaxRequests is how many requests one gateway has in flight to one
	// node at a time, and so how many connections it opens to it; one more
	// is refused at once with 503 upstream_overloaded (0:
	// DefaultMaxRequestsPerNode).
	MaxRequests int `json:"max_requests,omitempty"`
	// IdleTimeout closes a kept-alive connection to a node that has been
	// unused for this long, seconds (0: DefaultUpstreamIdleTimeout).
	IdleTimeout float64 `json:"idle_timeout,omitempty"`
}

// Defaults of UpstreamConnections.
const (
	DefaultMaxRequestsPerNode  = 1024
	DefaultUpstreamIdleTimeout = 60 // seconds
	maxRequestsPerNode         = 1 << 20
)

func (c *UpstreamConnections) validate(fe *FieldErrors, prefix string) {
	if c.MaxRequests < 0 || c.MaxRequests > maxRequestsPerNode {
		fe.Add(prefix+"max_requests", "must be between 0 (the default, %d) and %d", DefaultMaxRequestsPerNode, maxRequestsPerNode)
	}
	if c.IdleTimeout < 0 || c.IdleTimeout > 3600 {
		fe.Add(prefix+"idle_timeout", "must be between 0 (the default, %d) and 3600 seconds", DefaultUpstreamIdleTimeout)
	}
}
