// Package compose runs composite backends (orchestrations): a route that
// answers by calling other APIs of its gateway group, or its service's
// upstream, in sequence or in parallel, and assembling one JSON answer
// from their results. A flow is compiled once per routing build (its
// expressions with expr-lang, its steps into a dependency graph: each
// step starts as soon as the steps it waits for have finished); the
// gateway gives each compiled route a Caller that sends the calls.
package compose

import (
	"context"
	"errors"
	"net/http"
	"net/netip"

	"github.com/portico-gw/portico/internal/spec"
)

// Call is one request a step sends.
type Call struct {
	Step   string
	Method string
	// Service and Route name the API called (an API call); Params are
	// the values of its path parameters ("*" for a trailing wildcard).
	Service, Route string
	Params         map[string]string
	// Path is the path of an upstream call, parameters filled and
	// escaped ("" for an API call).
	Path string
	// Query is the encoded query string, without '?'.
	Query  string
	Header http.Header
	Body   []byte
	// Client is the address of the composite's client, RequestID the
	// request id the call carries, TraceParent its W3C traceparent
	// ("" when the request is not traced).
	Client      netip.Addr
	RequestID   string
	TraceParent string
}

// Answer is what a call got back.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// Final says a retry would not change the answer: the API called is
	// itself a composite, whose failures are its own steps' after their
	// own retries (retrying them would multiply the calls of nested
	// composites).
	Final bool
	// Path is the path the call was sent to, for the step's record.
	Path string
}

// Caller sends one step's call. The routing compiler builds one per
// composite route, bound to its group, project and upstream.
//
// A call is retried with the same *Call: a Caller must not modify it,
// except Method, which it may set to the method it used when the step
// left it "" (the step's record then shows it). It is called from several
// goroutines at once, and must return when ctx is done: a run waits for
// every call it made.
type Caller interface {
	Call(ctx context.Context, c *Call) (*Answer, error)
}

// ErrNotRunning is what a Caller returns for an API that does not run
// in the group (or has no such route): the step fails with 502.
var ErrNotRunning = errors.New("the API called does not run in this gateway group")

// ErrRefused wraps a Caller's refusal that no retry changes (calls
// nested too deeply, a path that reaches another route): the step fails
// at once.
var ErrRefused = errors.New("the call is refused")

// MaxAnswer bounds the body of one call's answer a flow reads.
const MaxAnswer = 8 << 20

// FieldError is a compile error of a flow, naming the field (relative to
// the backend's composite object: "steps[2].body") it is about.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Compile checks def and compiles it: its expressions, the references
// between its steps (a cycle is refused) and the order they run in. The
// errors are *FieldError, joined.
func Compile(def *spec.CompositeBackend) (*Flow, error) {
	return compile(def)
}
