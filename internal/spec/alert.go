package spec

import (
	"math"
	"time"
)

// AlertRule watches one service in one gateway group: when Metric over
// the last Window of the group's figures (every gateway of the group
// added up) passes Threshold, with at least MinRequests answers seen, the
// rule fires; when it falls back (or the traffic stops) it resolves. Each
// change of state is one event: a line of the rule's history and, when
// the project has a webhook receiver, one signed delivery.
type AlertRule struct {
	ID          string  `json:"id,omitempty"`
	Project     string  `json:"project,omitempty"`      // set by the server
	Service     string  `json:"service,omitempty"`      // service id, set by the server
	ServiceName string  `json:"service_name,omitempty"` // set by the server when read
	Group       string  `json:"group,omitempty"`        // default: the project's production group
	Name        string  `json:"name"`
	Metric      string  `json:"metric"`                // AlertErrorRate or AlertP99
	Threshold   float64 `json:"threshold"`             // a fraction for error_rate (0.05 is 5 %), milliseconds for p99_ms
	Window      string  `json:"window,omitempty"`      // a duration, 1m–15m; default 5m
	MinRequests int     `json:"min_requests,omitzero"` // default 10
	Enabled     bool    `json:"enabled"`

	// What the evaluator last decided; set by the server.
	State      string    `json:"state,omitempty"`      // AlertOK or AlertFiring
	LastValue  float64   `json:"last_value,omitzero"`  // the value at the last change of state
	FiredAt    time.Time `json:"fired_at,omitzero"`    // the last time it fired
	ResolvedAt time.Time `json:"resolved_at,omitzero"` // the last time it resolved
	CreatedAt  time.Time `json:"created_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// The metrics a rule can watch.
const (
	AlertErrorRate = "error_rate" // 5xx answers (connection failures included) / answers
	AlertP99       = "p99_ms"     // the 99th percentile of latency, in milliseconds
)

// AlertMetrics lists the metrics a rule can watch.
var AlertMetrics = []string{AlertErrorRate, AlertP99}

// The states of a rule, and the states of its transitions (events).
const (
	AlertOK       = "ok"
	AlertFiring   = "firing"
	AlertResolved = "resolved" // a transition firing → ok
)

// Bounds and defaults of a rule.
const (
	AlertWindowMin          = time.Minute
	AlertWindowMax          = 15 * time.Minute
	AlertWindowDefault      = 5 * time.Minute
	AlertMinRequestsDefault = 10
	// AlertHistoryKept is how many changes of state a rule's history
	// keeps.
	AlertHistoryKept = 50
	// alertWindowStep is the figures' resolution: a window is whole steps.
	alertWindowStep = 10 * time.Second
	// alertMaxP99 bounds a latency threshold at an hour, far above any
	// timeout a gateway allows.
	alertMaxP99 = float64(time.Hour / time.Millisecond)
)

// Defaults fills what a rule may leave out: the window and the minimum
// of requests (the group is the admin API's, which knows the project).
func (r *AlertRule) Defaults() {
	if r.Window == "" {
		r.Window = AlertWindowDefault.String()
	}
	if r.MinRequests == 0 {
		r.MinRequests = AlertMinRequestsDefault
	}
	if r.State == "" {
		r.State = AlertOK
	}
}

// WindowDuration is the rule's window, the default when unset or bad.
func (r *AlertRule) WindowDuration() time.Duration {
	d, err := time.ParseDuration(r.Window)
	if err != nil || r.Window == "" {
		return AlertWindowDefault
	}
	return d
}

// Validate checks what a client sets; call Defaults first.
func (r *AlertRule) Validate() error {
	var fe FieldErrors
	validateName(&fe, "name", r.Name)
	if r.Group == "" {
		fe.Add("group", "is required")
	} else if !ValidSlug(r.Group) {
		fe.Add("group", "is not a valid gateway group name")
	}
	bad := math.IsNaN(r.Threshold) || math.IsInf(r.Threshold, 0)
	switch r.Metric {
	case AlertErrorRate:
		if bad || r.Threshold <= 0 || r.Threshold > 1 {
			fe.Add("threshold", "must be a fraction above 0 and at most 1 for error_rate, e.g. 0.05 for 5%%")
		}
	case AlertP99:
		if bad || r.Threshold <= 0 || r.Threshold > alertMaxP99 {
			fe.Add("threshold", "must be milliseconds above 0 and at most %.0f for p99_ms", alertMaxP99)
		}
	case "":
		fe.Add("metric", "is required: error_rate or p99_ms")
	default:
		fe.Add("metric", "must be error_rate or p99_ms")
	}
	d, err := time.ParseDuration(r.Window)
	switch {
	case err != nil:
		fe.Add("window", "must be a duration such as 1m or 5m")
	case d < AlertWindowMin || d > AlertWindowMax:
		fe.Add("window", "must be between %s and %s", AlertWindowMin, AlertWindowMax)
	case d%alertWindowStep != 0:
		fe.Add("window", "must be a whole number of %s (the figures' resolution)", alertWindowStep)
	}
	if r.MinRequests < 1 || r.MinRequests > 1_000_000_000 {
		fe.Add("min_requests", "must be between 1 and 1000000000")
	}
	return fe.Err()
}

// Passed reports whether value is past the rule's threshold: the rule
// fires above it and resolves at or below it.
func (r *AlertRule) Passed(value float64) bool { return value > r.Threshold }

// AlertEvent is one change of a rule's state: a line of its history and
// the "data" of its webhook event (alert.firing, alert.resolved).
type AlertEvent struct {
	Rule        string    `json:"rule"` // the rule's id
	RuleName    string    `json:"rule_name"`
	Project     string    `json:"project"`
	Service     string    `json:"service"` // id
	ServiceName string    `json:"service_name"`
	Group       string    `json:"group"`
	State       string    `json:"state"` // AlertFiring or AlertResolved
	Metric      string    `json:"metric"`
	Value       float64   `json:"value"` // the metric over the window when it changed
	Threshold   float64   `json:"threshold"`
	Window      string    `json:"window"`
	Requests    uint64    `json:"requests"` // answers seen over the window
	At          time.Time `json:"at"`
}
