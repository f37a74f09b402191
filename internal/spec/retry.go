package spec

import (
	"fmt"
	"slices"
)

// RetryPolicy says which failed attempts of a request are sent again to
// another node (at most Upstream.Retries times), and how long the
// attempts may take. A request is only sent again when its method is
// idempotent (or its route's backend allows it) and it has no body to
// resend; a connection that could not be opened sent nothing, so its
// retry needs only the method's leave.
type RetryPolicy struct {
	// On lists the failures retried: connect (the node could not be
	// reached, or its connection broke before any answer: the default),
	// timeout (no answer within per_try_timeout or timeout.read), status
	// (an answer whose status is in Statuses).
	On []string `json:"on,omitempty"`
	// Statuses are the answers retried with "status"; default 502, 503
	// and 504.
	Statuses []int `json:"statuses,omitempty"`
	// PerTryTimeout bounds how long one attempt waits for its answer's
	// header, seconds (0: timeout.read between reads).
	PerTryTimeout float64 `json:"per_try_timeout,omitempty"`
	// Timeout bounds all attempts together until an answer's header,
	// seconds; no attempt starts after it (0: no bound).
	Timeout float64 `json:"timeout,omitempty"`
}

// The failures a RetryPolicy may retry.
const (
	RetryOnConnect = "connect"
	RetryOnTimeout = "timeout"
	RetryOnStatus  = "status"
)

// DefaultRetryStatuses are the answers "status" retries when the policy
// lists none: a gateway's or an overloaded backend's, not an application's.
var DefaultRetryStatuses = []int{502, 503, 504}

func (r *RetryPolicy) validate(fe *FieldErrors, prefix string) {
	for i, on := range r.On {
		switch on {
		case RetryOnConnect, RetryOnTimeout, RetryOnStatus:
			if slices.Index(r.On, on) != i {
				fe.Add(fmt.Sprintf("%son[%d]", prefix, i), "is listed twice")
			}
		default:
			fe.Add(fmt.Sprintf("%son[%d]", prefix, i), "must be connect, timeout or status")
		}
	}
	if len(r.Statuses) > 0 && !slices.Contains(r.On, RetryOnStatus) {
		fe.Add(prefix+"statuses", `applies when on holds "status"`)
	}
	validateStatuses(fe, prefix+"statuses", r.Statuses)
	for _, x := range []struct {
		name string
		v    float64
	}{{"per_try_timeout", r.PerTryTimeout}, {"timeout", r.Timeout}} {
		if x.v < 0 || x.v > 3600 {
			fe.Add(prefix+x.name, "must be between 0 and 3600 seconds")
		}
	}
	if r.PerTryTimeout > 0 && r.Timeout > 0 && r.PerTryTimeout > r.Timeout {
		fe.Add(prefix+"per_try_timeout", "must not be longer than timeout")
	}
}

// Retries reports whether the policy retries failures of kind on
// (RetryOnConnect, …); a nil policy retries connection failures only.
func (r *RetryPolicy) Retries(on string) bool {
	if r == nil || len(r.On) == 0 {
		return on == RetryOnConnect
	}
	return slices.Contains(r.On, on)
}
