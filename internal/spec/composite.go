package spec

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// CompositeBackend is a route's "composite" backend (an orchestration): the
// route answers by calling other APIs of its gateway group, or its
// service's upstream, and assembling one answer from what they returned.
// Every value a step sends and the answer itself are expressions
// (expr-lang) over two variables:
//
//	request  {method, path, params, query, headers, body}: the client's
//	         request; query and headers hold first values (header names in
//	         lower case), body the decoded JSON body (else its text)
//	steps    {NAME: {status, ok, skipped, headers, body}}: each finished
//	         step's answer; body is decoded JSON (else text), or the
//	         step's fallback when an optional step failed or was skipped
//
// A step starts when every step it names in After or reads in its
// expressions has finished; steps with nothing to wait for run together.
// The gateway's compiler (internal/gateway/compose) checks the expressions,
// the references between steps and their cycles; this file checks shape.
type CompositeBackend struct {
	// Timeout is the seconds the whole flow may take, every step
	// included (default 10, at most 300): past it the client gets 504
	// naming the steps still running, and they are cancelled.
	Timeout float64 `json:"timeout,omitempty"`
	// Steps are the calls, in any order (After and references order them).
	Steps []CompositeStep `json:"steps"`
	// Response builds the answer.
	Response CompositeResponse `json:"response"`
}

// CompositeStep is one call of a composite backend: to a route of another
// service of the same project running in the group (Service and Route),
// or to the composite service's own upstream (Path).
type CompositeStep struct {
	// Name is how expressions read the step's answer (steps.NAME): a
	// lower-case identifier.
	Name string `json:"name"`
	// Service and Route name the API called: a service of the composite's
	// project (its name) and one of its routes (its name). It is called
	// in-process through the group's own routing, plugins included, as a
	// client's request to that route would be.
	Service string `json:"service,omitempty"`
	Route   string `json:"route,omitempty"`
	// Path, instead of Service and Route, calls the composite service's
	// own upstream at this path; it may hold {param} filled from Params.
	Path string `json:"path,omitempty"`
	// Method is the method of the call; default the called route's first
	// method (GET when it allows any), or GET for an upstream call.
	Method string `json:"method,omitempty"`
	// After names steps this one waits for besides those its expressions
	// read.
	After []string `json:"after,omitempty"`
	// If is an expression: when false (or null) the step is skipped and
	// its body is its fallback.
	If string `json:"if,omitempty"`
	// Params fill the path parameters ({name}, and "*" for a trailing
	// wildcard) of the called route or of Path: name → expression.
	Params map[string]string `json:"params,omitempty"`
	// Query and Headers of the call: name → expression. A null value
	// leaves the entry out; an array repeats it.
	Query   map[string]string `json:"query,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Body is an expression whose value is sent as the JSON body.
	Body string `json:"body,omitempty"`
	// Timeout is the seconds one attempt may take (default: what is left
	// of the flow's).
	Timeout float64 `json:"timeout,omitempty"`
	// Retries are further attempts after a failed one (a transport
	// error, a timeout, or 502, 503 or 504); at most 5.
	Retries int `json:"retries,omitempty"`
	// Optional: when the step fails, the flow goes on with Fallback as
	// its body instead of ending with an error naming the step. A step
	// fails on a transport error, a timeout or a status of 400 or more.
	Optional bool `json:"optional,omitempty"`
	// Fallback is the JSON value of steps.NAME.body when an optional step
	// failed or the step was skipped (default null).
	Fallback json.RawMessage `json:"fallback,omitempty"`
}

// CompositeResponse is how a composite backend answers.
type CompositeResponse struct {
	// Status of the answer; default 200.
	Status int `json:"status,omitempty"`
	// Body is an expression whose value is the JSON answer, e.g.
	// {"user": steps.user.body, "orders": map(steps.orders.body.items, {{"id": .id}})}
	// (a predicate is braced, so a map built per element is {{…}}).
	Body string `json:"body"`
	// Headers of the answer: name → expression (a string value).
	Headers map[string]string `json:"headers,omitempty"`
}

// Limits of a composite backend's definition.
const (
	CompositeMaxSteps       = 32
	CompositeMaxExpression  = 4096 // bytes of one expression
	CompositeMaxEntries     = 32   // entries of one params, query or headers map
	CompositeMaxRetries     = 5
	CompositeDefaultTimeout = 10.0
	CompositeMaxTimeout     = 300.0
	CompositeMaxFallback    = 64 << 10
)

var compositeStepNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// IsComposite reports whether the route's backend is a composite one.
func (r *Route) IsComposite() bool {
	return r.Backend != nil && r.Backend.Type == BackendComposite && r.Backend.Composite != nil
}

// AnswersItself reports whether the route's backend answers without the
// service's upstream: a sql backend, or a composite one none of whose
// steps calls the upstream. A service whose routes all do publishes
// without one.
func (r *Route) AnswersItself() bool {
	b := r.Backend
	switch {
	case b == nil:
		return false
	case b.Type == BackendSQL:
		return true
	case b.Type == BackendComposite && b.Composite != nil:
		for i := range b.Composite.Steps {
			if b.Composite.Steps[i].Service == "" {
				return false
			}
		}
		return true
	}
	return false
}

// Backend types.
const (
	BackendUpstream  = "upstream"
	BackendSQL       = "sql"
	BackendComposite = "composite"
)

// CompositeUse is one API a composite route calls: the called service (by
// name, in the composite's project) and route (by name).
type CompositeUse struct {
	Service string `json:"service"`
	Route   string `json:"route"`
}

// Uses are the APIs the composite backend calls, each once, in step
// order; upstream steps call none.
func (b *CompositeBackend) Uses() []CompositeUse {
	var out []CompositeUse
	for i := range b.Steps {
		s := &b.Steps[i]
		if s.Service == "" {
			continue
		}
		u := CompositeUse{Service: s.Service, Route: s.Route}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// validate checks the composite backend's shape; field is its path
// ("backend.composite").
func (b *CompositeBackend) validate(fe *FieldErrors, field string) {
	if b.Timeout < 0 || b.Timeout > CompositeMaxTimeout {
		fe.Add(field+".timeout", "must be between 0 (the default, %g s) and %g seconds", CompositeDefaultTimeout, CompositeMaxTimeout)
	}
	switch n := len(b.Steps); {
	case n == 0:
		fe.Add(field+".steps", "needs at least one step")
	case n > CompositeMaxSteps:
		fe.Add(field+".steps", "has %d steps; at most %d are allowed", n, CompositeMaxSteps)
		return
	}
	seen := make(map[string]bool, len(b.Steps))
	for i := range b.Steps {
		s := &b.Steps[i]
		f := fmt.Sprintf("%s.steps[%d]", field, i)
		switch {
		case !compositeStepNameRe.MatchString(s.Name):
			fe.Add(f+".name", "must be a lower-case identifier: a letter, then letters, digits or '_' (at most 40)")
		case seen[s.Name]:
			fe.Add(f+".name", "step %q is named twice", s.Name)
		}
		seen[s.Name] = true
		s.validate(fe, f)
	}
	for i := range b.Steps {
		for j, a := range b.Steps[i].After {
			if !seen[a] {
				fe.Add(fmt.Sprintf("%s.steps[%d].after[%d]", field, i, j), "names no step of this backend: %q", a)
			}
		}
	}
	r := &b.Response
	if r.Status != 0 && (r.Status < 200 || r.Status > 599) {
		fe.Add(field+".response.status", "must be between 200 and 599")
	}
	if strings.TrimSpace(r.Body) == "" {
		fe.Add(field+".response.body", "is required: an expression building the answer")
	}
	validateCompositeExpr(fe, field+".response.body", r.Body)
	validateCompositeMap(fe, field+".response.headers", r.Headers, true)
}

func (s *CompositeStep) validate(fe *FieldErrors, f string) {
	switch {
	case s.Service != "" && s.Path != "":
		fe.Add(f+".path", "give either service and route (an API of the group) or path (the service's upstream), not both")
	case s.Service != "":
		if s.Route == "" {
			fe.Add(f+".route", "is required with service: the name of the route called")
		} else if !routeNameRe.MatchString(s.Route) {
			fe.Add(f+".route", "must hold only letters, digits, '_' or '-' (at most 100)")
		}
	case s.Path != "":
		if s.Route != "" {
			fe.Add(f+".route", "applies only with service")
		}
		if msg := ValidatePath(s.Path); msg != "" {
			fe.Add(f+".path", "%s", msg)
		} else if hasDotSegment(s.Path) {
			fe.Add(f+".path", "must not hold a '.' or '..' segment")
		}
	default:
		fe.Add(f+".service", "is required: the service and route called, or give path to call the service's upstream")
	}
	if s.Method != "" && !validMethod(s.Method) {
		fe.Add(f+".method", "must be one of %s", strings.Join(Methods, ", "))
	}
	for j, a := range s.After {
		if a == s.Name {
			fe.Add(fmt.Sprintf("%s.after[%d]", f, j), "a step cannot wait for itself")
		}
	}
	if s.Timeout < 0 || s.Timeout > CompositeMaxTimeout {
		fe.Add(f+".timeout", "must be between 0 (what is left of the flow's) and %g seconds", CompositeMaxTimeout)
	}
	if s.Retries < 0 || s.Retries > CompositeMaxRetries {
		fe.Add(f+".retries", "must be between 0 and %d", CompositeMaxRetries)
	}
	if len(s.Fallback) > 0 {
		switch {
		case len(s.Fallback) > CompositeMaxFallback:
			fe.Add(f+".fallback", "is larger than %d bytes", CompositeMaxFallback)
		case !json.Valid(s.Fallback):
			fe.Add(f+".fallback", "must be a JSON value")
		}
	}
	validateCompositeExpr(fe, f+".if", s.If)
	validateCompositeExpr(fe, f+".body", s.Body)
	validateCompositeMap(fe, f+".params", s.Params, false)
	validateCompositeMap(fe, f+".query", s.Query, false)
	validateCompositeMap(fe, f+".headers", s.Headers, true)
}

func validateCompositeExpr(fe *FieldErrors, field, e string) {
	if len(e) > CompositeMaxExpression {
		fe.Add(field, "is longer than %d bytes", CompositeMaxExpression)
	}
}

func validateCompositeMap(fe *FieldErrors, field string, m map[string]string, headers bool) {
	if len(m) > CompositeMaxEntries {
		fe.Add(field, "has %d entries; at most %d are allowed", len(m), CompositeMaxEntries)
		return
	}
	for k, e := range m {
		switch {
		case k == "":
			fe.Add(field, "has an empty name")
		case headers && !validHeaderName(k):
			fe.Add(field+"."+k, "is not a header name")
		case headers && reservedCompositeHeader(k):
			fe.Add(field+"."+k, "is set by the gateway and cannot be given")
		}
		if strings.TrimSpace(e) == "" {
			fe.Add(field+"."+k, "needs an expression")
		}
		validateCompositeExpr(fe, field+"."+k, e)
	}
}

// reservedCompositeHeader are headers a flow cannot set: the gateway owns
// the framing of the calls and answers.
func reservedCompositeHeader(name string) bool {
	switch strings.ToLower(name) {
	case "host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive", "proxy-connection":
		return true
	}
	return false
}

// hasDotSegment reports whether a path holds a "." or ".." segment, also
// percent-encoded: a backend would resolve it and the call would walk out
// of the path the flow names.
func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		seg = strings.ReplaceAll(strings.ToLower(seg), "%2e", ".")
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}
