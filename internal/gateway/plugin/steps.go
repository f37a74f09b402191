package plugin

import (
	"context"
	"time"
)

// ContextSource is implemented by engines that can tell a backend when the
// client went away: the request's context is cancelled then (and when the
// request ends). Optional; Exchange.Context falls back to a context that
// is never cancelled.
type ContextSource interface {
	Context() context.Context
}

// Context is the request's context: cancelled when the client leaves, on
// engines that notice it (ContextSource). A backend that calls others (a
// composite backend) derives its calls' contexts from it.
func (ex *Exchange) Context() context.Context {
	if cs, ok := ex.b.(ContextSource); ok {
		return cs.Context()
	}
	return context.Background()
}

// Step is one call a composite backend made for the request, as the
// access log's record and the trace show it.
type Step struct {
	Name string
	// Target is what was called: "service/route" for an API of the
	// group, or "upstream" for the service's own upstream.
	Target string
	Method string
	Path   string // the path called, without query
	Status int    // the last attempt's answer; 0: none
	// Outcome is ok, failed, fallback (failed, optional), skipped,
	// timeout or cancelled.
	Outcome  string
	Error    string // why it failed, when it did
	Attempts int
	Start    time.Time
	Duration time.Duration
	// SpanID is the step's span in the request's trace (the calls it
	// made are its children); zero when the request is not traced.
	SpanID [8]byte
}

// Step outcomes.
const (
	StepOK        = "ok"
	StepFailed    = "failed"
	StepFallback  = "fallback"
	StepSkipped   = "skipped"
	StepTimeout   = "timeout"
	StepCancelled = "cancelled"
)

// SetSteps records the calls a composite backend made; the engine's
// telemetry writes them as the record's steps and as spans. The slice is
// kept until the request ends.
func (ex *Exchange) SetSteps(s []Step) { ex.steps = s }

// Steps are what SetSteps recorded (nil for any other backend).
func (ex *Exchange) Steps() []Step { return ex.steps }
