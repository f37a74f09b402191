package spec

import "time"

// GatewayInstance is one gateway process serving a group, as its last
// heartbeat described it: a stand-alone `portico gateway` or the embedded
// gateway of a `portico server`. State is worked out when read (see
// InstanceState).
type GatewayInstance struct {
	ID        string        `json:"id"` // chosen by the process at start
	Group     string        `json:"group"`
	Embedded  bool          `json:"embedded"` // the gateway inside a control plane
	Hostname  string        `json:"hostname"`
	Addresses []string      `json:"addresses"` // the gateway's listen addresses
	Version   string        `json:"version"`
	Engine    string        `json:"engine"`
	Revision  int64         `json:"revision"`   // the group revision it serves
	FromCache bool          `json:"from_cache"` // what it serves came from its cache (started without the control plane)
	StartedAt time.Time     `json:"started_at"`
	LastSeen  time.Time     `json:"last_seen"`
	Interval  time.Duration `json:"-"`        // its heartbeat interval
	Requests  uint64        `json:"requests"` // answered since its start
	Errors    uint64        `json:"errors"`   // 5xx among them
	State     string        `json:"state"`    // healthy, lagging, refused, lost or offline
	Detail    string        `json:"detail,omitempty"`
	// TokenID is the join token it presented last; "" for the embedded
	// gateway, which needs none.
	TokenID string `json:"token_id,omitempty"`
	// Stopped: its last heartbeat said goodbye (a clean stop).
	Stopped bool `json:"stopped,omitempty"`
	// UpstreamHealth is the health of the checked upstream nodes of the
	// group's services, as this instance checks them.
	UpstreamHealth []NodeHealth `json:"upstream_health,omitempty"`
	// Registries is how this instance finds the group's service
	// registries.
	Registries []RegistryStatus `json:"registries,omitempty"`
}

// Instance states.
const (
	InstanceHealthy = "healthy" // heartbeats arrive, serves the group's revision
	InstanceLagging = "lagging" // heartbeats arrive, serves an older revision
	InstanceRefused = "refused" // its join token was revoked or expired: its polls and heartbeats are refused; it serves what it has
	InstanceLost    = "lost"    // no heartbeat for three of its intervals
	InstanceOffline = "offline" // stopped cleanly, or lost for longer than the control plane's offline time; removed later
)

// InstanceState works out an instance's state at now, against the group's
// current revision; tokenLive says whether the join token it presented
// last is still accepted (the embedded gateway's always is).
func InstanceState(in GatewayInstance, groupRevision int64, now time.Time, offlineAfter time.Duration, tokenLive bool) string {
	quiet := now.Sub(in.LastSeen)
	switch {
	case in.Stopped || quiet > offlineAfter:
		return InstanceOffline
	case !tokenLive:
		return InstanceRefused
	case quiet > 3*max(in.Interval, time.Second):
		return InstanceLost
	case in.Revision < groupRevision:
		return InstanceLagging
	}
	return InstanceHealthy
}
