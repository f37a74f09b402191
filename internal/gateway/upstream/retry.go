package upstream

import (
	"slices"
	"time"

	"github.com/portico-gw/portico/internal/spec"
)

// RetryPolicy is a compiled spec.RetryPolicy: which failed attempts the
// engines send again to another node, and the time attempts may take.
type RetryPolicy struct {
	// OnConnect retries a node that could not be reached (the default);
	// OnTimeout one that did not answer in time.
	OnConnect, OnTimeout bool
	// Statuses are the answers sent again to another node.
	Statuses []int
	// PerTry bounds one attempt's wait for its answer's header, Total
	// all attempts' (0: no bound beyond the read timeout).
	PerTry, Total time.Duration
}

func compileRetry(r *spec.RetryPolicy) RetryPolicy {
	c := RetryPolicy{OnConnect: r.Retries(spec.RetryOnConnect), OnTimeout: r.Retries(spec.RetryOnTimeout)}
	if r == nil {
		return c
	}
	if r.Retries(spec.RetryOnStatus) {
		c.Statuses = r.Statuses
		if len(c.Statuses) == 0 {
			c.Statuses = spec.DefaultRetryStatuses
		}
	}
	c.PerTry = seconds(r.PerTryTimeout, 0)
	c.Total = seconds(r.Timeout, 0)
	return c
}

// RetriesStatus reports whether an answer of status goes to another node.
func (r *RetryPolicy) RetriesStatus(status int) bool {
	return len(r.Statuses) > 0 && slices.Contains(r.Statuses, status)
}

// AttemptDeadline is when an attempt starting now must have its answer's
// header, for a request that began at start; zero: no bound but the read
// timeout. ok is false when the total time is already spent. Without
// timeouts it costs no clock read.
func (r *RetryPolicy) AttemptDeadline(start time.Time) (deadline time.Time, ok bool) {
	if r.PerTry == 0 && r.Total == 0 {
		return time.Time{}, true
	}
	now := time.Now()
	if r.PerTry > 0 {
		deadline = now.Add(r.PerTry)
	}
	if r.Total > 0 {
		end := start.Add(r.Total)
		if !now.Before(end) {
			return time.Time{}, false
		}
		if deadline.IsZero() || end.Before(deadline) {
			deadline = end
		}
	}
	return deadline, true
}
