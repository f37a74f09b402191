package spec

import (
	"fmt"
	"strings"
	"time"
)

// HealthChecks say how the gateways that send an upstream traffic decide
// that one of its nodes is down: by probing it (active) and by watching
// the answers of real traffic (passive, a circuit breaker per node).
type HealthChecks struct {
	Active  *ActiveCheck  `json:"active,omitempty"`
	Passive *PassiveCheck `json:"passive,omitempty"`
}

// ActiveCheck probes every node on a timer.
type ActiveCheck struct {
	// Type is http (the default), https or tcp (a connection is enough).
	Type string `json:"type,omitempty"`
	// Path is what an HTTP probe asks for; default "/".
	Path string `json:"path,omitempty"`
	// Host is the Host header of an HTTP probe (and the name sent and
	// checked by an https probe); default the node's address.
	Host string `json:"host,omitempty"`
	// Port probes another port than the node's (a separate health port).
	Port int `json:"port,omitempty"`
	// Interval is the time between probes of a healthy node, seconds;
	// default 5. UnhealthyInterval is that of a node marked down; default
	// Interval.
	Interval          float64 `json:"interval,omitempty"`
	UnhealthyInterval float64 `json:"unhealthy_interval,omitempty"`
	// Timeout bounds one probe, seconds; default 2 (at most Interval).
	Timeout float64 `json:"timeout,omitempty"`
	// HealthyThreshold is how many probes in a row must pass to mark a
	// node up (default 2); UnhealthyThreshold how many must fail to mark
	// it down (default 3).
	HealthyThreshold   int `json:"healthy_threshold,omitempty"`
	UnhealthyThreshold int `json:"unhealthy_threshold,omitempty"`
	// Statuses are the answers that pass an HTTP probe; default 200–399.
	Statuses []int `json:"statuses,omitempty"`
}

// PassiveCheck is the circuit breaker of each node: consecutive failures
// of real requests (connection failures, timeouts, the listed statuses)
// eject the node for a period; then one request is let through (half
// open): its success closes the circuit, its failure ejects the node again
// for twice as long, up to MaxEject.
type PassiveCheck struct {
	// Failures in a row that eject a node; default 5.
	Failures int `json:"failures,omitempty"`
	// Statuses are the answers that count as failures; default 500, 502,
	// 503 and 504.
	Statuses []int `json:"statuses,omitempty"`
	// Eject is how long a node stays out the first time, seconds; default
	// 30. MaxEject bounds the doubling; default 10 × Eject.
	Eject    float64 `json:"eject,omitempty"`
	MaxEject float64 `json:"max_eject,omitempty"`
}

// Defaults of health checks.
const (
	DefaultCheckInterval        = 5.0
	DefaultCheckTimeout         = 2.0
	DefaultHealthyThreshold     = 2
	DefaultUnhealthyThreshold   = 3
	DefaultPassiveFailures      = 5
	DefaultEjectSeconds         = 30.0
	DefaultMaxEjectMultiplicity = 10
)

// DefaultPassiveStatuses are the answers a passive check counts as
// failures when it lists none: the backend's own errors, not the
// client's.
var DefaultPassiveStatuses = []int{500, 502, 503, 504}

func (h *HealthChecks) validate(fe *FieldErrors, prefix string) {
	if a := h.Active; a != nil {
		p := prefix + "active."
		switch a.Type {
		case "", "http", "https":
			if a.Path != "" && (!strings.HasPrefix(a.Path, "/") || strings.ContainsAny(a.Path, " \t\r\n#")) {
				fe.Add(p+"path", "must start with / and hold no spaces or fragment")
			}
		case "tcp":
			for _, f := range []struct {
				name string
				set  bool
			}{{"path", a.Path != ""}, {"host", a.Host != ""}, {"statuses", len(a.Statuses) > 0}} {
				if f.set {
					fe.Add(p+f.name, "does not apply to a tcp probe")
				}
			}
		default:
			fe.Add(p+"type", "must be http, https or tcp")
		}
		if a.Host != "" && !hostRe.MatchString(a.Host) {
			fe.Add(p+"host", "must be a host name")
		}
		if a.Port < 0 || a.Port > 65535 {
			fe.Add(p+"port", "must be between 1 and 65535")
		}
		for _, x := range []struct {
			name string
			v    float64
		}{{"interval", a.Interval}, {"unhealthy_interval", a.UnhealthyInterval}, {"timeout", a.Timeout}} {
			if x.v != 0 && (x.v < 0.1 || x.v > 3600) {
				fe.Add(p+x.name, "must be between 0.1 and 3600 seconds")
			}
		}
		if a.Timeout > 0 && a.Timeout > a.interval() {
			fe.Add(p+"timeout", "must not be longer than the interval")
		}
		for _, x := range []struct {
			name string
			v    int
		}{{"healthy_threshold", a.HealthyThreshold}, {"unhealthy_threshold", a.UnhealthyThreshold}} {
			if x.v < 0 || x.v > 100 {
				fe.Add(p+x.name, "must be between 1 and 100")
			}
		}
		validateStatuses(fe, p+"statuses", a.Statuses)
	}
	if c := h.Passive; c != nil {
		p := prefix + "passive."
		if c.Failures < 0 || c.Failures > 1000 {
			fe.Add(p+"failures", "must be between 1 and 1000")
		}
		validateStatuses(fe, p+"statuses", c.Statuses)
		if c.Eject != 0 && (c.Eject < 0.1 || c.Eject > 3600) {
			fe.Add(p+"eject", "must be between 0.1 and 3600 seconds")
		}
		if c.MaxEject != 0 && (c.MaxEject < c.EjectSeconds() || c.MaxEject > 86400) {
			fe.Add(p+"max_eject", "must be between eject and 86400 seconds")
		}
	}
}

func validateStatuses(fe *FieldErrors, field string, statuses []int) {
	for i, s := range statuses {
		if s < 100 || s > 599 {
			fe.Add(fmt.Sprintf("%s[%d]", field, i), "must be an HTTP status (100–599)")
		}
	}
}

// interval is the probe interval of a healthy node in seconds.
func (a *ActiveCheck) interval() float64 {
	if a.Interval > 0 {
		return a.Interval
	}
	return DefaultCheckInterval
}

// EjectSeconds is the first ejection of a node, with the default.
func (c *PassiveCheck) EjectSeconds() float64 {
	if c.Eject > 0 {
		return c.Eject
	}
	return DefaultEjectSeconds
}

// NodeHealth is the health of one checked node of an upstream, as a
// gateway instance sees it (its own checks and traffic).
type NodeHealth struct {
	Group    string `json:"group"`
	Service  string `json:"service"`            // the service sending to it
	Upstream string `json:"upstream,omitempty"` // the shared upstream's name; "": the service's own
	Node     string `json:"node"`               // host:port
	Scheme   string `json:"scheme"`
	// State is healthy, unhealthy (active checks failed), ejected (the
	// circuit is open after failures of real traffic) or half_open (one
	// trial request may pass).
	State     string    `json:"state"`
	Active    bool      `json:"active"`
	Passive   bool      `json:"passive"`
	Since     time.Time `json:"since"` // of the state
	LastError string    `json:"last_error,omitempty"`
	// Counts since the gateway began checking the node.
	Probes        uint64 `json:"probes"`
	ProbeFailures uint64 `json:"probe_failures"`
	Ejections     uint64 `json:"ejections"`
}

// Node health states.
const (
	NodeHealthy   = "healthy"
	NodeUnhealthy = "unhealthy"
	NodeEjected   = "ejected"
	NodeHalfOpen  = "half_open"
)
