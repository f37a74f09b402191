package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/portico-gw/portico/internal/rbac"
	"github.com/portico-gw/portico/internal/release"
	"github.com/portico-gw/portico/internal/spec"
	"github.com/portico-gw/portico/internal/store"
)

// Problem types (RFC 9457 "type"): URNs, so clients can branch on them
// without a documentation site having to exist.
const (
	typeValidation   = "urn:portico:problem:validation"
	typeUnauthorized = "urn:portico:problem:unauthorized"
	typeNotFound     = "urn:portico:problem:not-found"
	typeMethod       = "urn:portico:problem:method-not-allowed"
	typeConflict     = "urn:portico:problem:conflict"
	typeState        = "urn:portico:problem:state"
	typeTooLarge     = "urn:portico:problem:too-large"
	typeInternal     = "urn:portico:problem:internal"
	typeForbidden    = "urn:portico:problem:forbidden"
	typeTooMany      = "urn:portico:problem:too-many-requests"
	typeUnavailable  = "urn:portico:problem:unavailable"
)

// problem is an RFC 9457 problem details object.
type problem struct {
	Type string `json:"type"`
	// Code is the type as a stable word (problem_codes.go).
	Code   string            `json:"code"`
	Title  string            `json:"title"`
	Status int               `json:"status"`
	Detail string            `json:"detail"`
	Errors []spec.FieldError `json:"errors,omitempty"`
	// Extension members of a lifecycle refusal (release.StateError).
	State string `json:"state,omitempty"`
	// Permission is what a 403 says the caller lacks.
	Permission     string   `json:"permission,omitempty"`
	AllowedActions []string `json:"allowed_actions,omitempty"`

	// Route collisions and moved URLs of a 409 (sync.go).
	problemExtensions
	// PackageID is the recorded package an import or a retry refused
	// (package_records.go): failed, to retry.
	PackageID string `json:"package_id,omitempty"`
}

// errUnauthorized is returned when no valid bearer token was presented.
var errUnauthorized = errors.New("unauthorized")

// errForbidden marks a call the caller's role does not allow.
var errForbidden = errors.New("forbidden")

// tooMany is a refusal until a moment: a login lockout, a rate limit. It
// answers 429 with Retry-After in whole seconds (at least 1).
type tooMany struct {
	detail     string
	retryAfter time.Duration
}

func (e *tooMany) Error() string { return e.detail }

// retryAfterSeconds rounds a wait up to whole seconds, at least one.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// errTooLarge marks a body over the configured limit.
var errTooLarge = errors.New("request body too large")

// detailed attaches the human detail sent to the client to an error whose
// status comes from the sentinel it wraps (store.ErrNotFound, …).
type detailed struct {
	detail string
	err    error
}

func (d *detailed) Error() string { return d.detail + ": " + d.err.Error() }
func (d *detailed) Unwrap() error { return d.err }

// withDetail wraps err with a detail for the client; nil stays nil.
func withDetail(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &detailed{detail: fmt.Sprintf(format, args...), err: err}
}

// fieldError is a one-field validation failure.
func fieldError(field, format string, args ...any) error {
	var fe spec.FieldErrors
	fe.Add(field, format, args...)
	return fe
}

// toProblem is the one place that maps errors to HTTP answers. Internal
// causes never reach the client.
func toProblem(err error) (problem, bool) {
	detail := func(fallback string) string {
		if d, ok := errors.AsType[*detailed](err); ok {
			return d.detail
		}
		return fallback
	}
	if tm, ok := errors.AsType[*tooMany](err); ok {
		return problem{Type: typeTooMany, Title: "Too Many Requests", Status: http.StatusTooManyRequests,
			Detail: tm.detail}, false
	}
	if fe, ok := errors.AsType[spec.FieldErrors](err); ok {
		return problem{Type: typeValidation, Title: "Bad Request", Status: http.StatusBadRequest,
			Detail: detail("the request is invalid: " + fieldList(fe)), Errors: fe}, false
	}
	switch {
	case errors.Is(err, errUnauthorized):
		return problem{Type: typeUnauthorized, Title: "Unauthorized", Status: http.StatusUnauthorized,
			Detail: detail("a valid bearer token is required")}, false
	case errors.Is(err, errCSRF):
		return problem{Type: typeForbidden, Title: "Forbidden", Status: http.StatusForbidden,
			Detail: "a change made with the session cookie needs the " + CSRFHeader + " header"}, false
	case errors.Is(err, rbac.ErrDenied):
		p := problem{Type: typeForbidden, Title: "Forbidden", Status: http.StatusForbidden}
		if de, ok := errors.AsType[*rbac.DeniedError](err); ok {
			p.Permission = string(de.Permission)
			switch {
			case de.Reason != "":
				p.Detail = fmt.Sprintf("%s; the endpoint needs permission %s", de.Reason, de.Permission)
			case de.Project != "":
				p.Detail = fmt.Sprintf("you lack permission %s in project %q", de.Permission, de.Project)
			default:
				p.Detail = fmt.Sprintf("you lack permission %s", de.Permission)
			}
		}
		p.Detail = detail(p.Detail)
		return p, false
	case errors.Is(err, errForbidden):
		return problem{Type: typeForbidden, Title: "Forbidden", Status: http.StatusForbidden,
			Detail: detail("your role does not allow this")}, false
	case errors.Is(err, errTooLarge):
		return problem{Type: typeTooLarge, Title: "Content Too Large", Status: http.StatusRequestEntityTooLarge,
			Detail: detail("the request body is too large")}, false
	case errors.Is(err, store.ErrNotFound):
		return problem{Type: typeNotFound, Title: "Not Found", Status: http.StatusNotFound,
			Detail: detail(err.Error())}, false
	case errors.Is(err, release.ErrState):
		// release.ErrState errors carry the state and the allowed actions.
		p := problem{Type: typeState, Title: "Conflict", Status: http.StatusConflict, Detail: detail(err.Error())}
		if se, ok := errors.AsType[*release.StateError](err); ok {
			p.Detail, p.State, p.AllowedActions = detail(se.Error()), se.State, se.Allowed
		}
		return p, false
	case errors.Is(err, store.ErrConflict):
		return problem{Type: typeConflict, Title: "Conflict", Status: http.StatusConflict,
			Detail: detail(err.Error())}, false
	case errors.Is(err, store.ErrUnavailable):
		// Nothing was written; the database is restarting or unreachable.
		return problem{Type: typeUnavailable, Title: "Service Unavailable", Status: http.StatusServiceUnavailable,
			Detail: "the store's database is unavailable: nothing was changed; try again in a moment"}, false
	}
	return problem{Type: typeInternal, Title: "Internal Server Error", Status: http.StatusInternalServerError,
		Detail: "an internal error occurred; it has been logged"}, true
}

func fieldList(fe spec.FieldErrors) string {
	s := ""
	for i, e := range fe {
		if i > 0 {
			s += "; "
		}
		s += e.Field + ": " + e.Message
	}
	return s
}

// writeError answers err as a problem and logs internal causes.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p, internal := toProblem(err)
	p.extend(err)
	p.PackageID = packageIDOf(err)
	if internal {
		s.log.Error("admin api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="portico"`)
	}
	if tm, ok := errors.AsType[*tooMany](err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(tm.retryAfter)))
	}
	if p.Status == http.StatusServiceUnavailable {
		s.log.Warn("admin api: the store is unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "1")
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p problem) {
	p.withCodes()
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p) // the status is sent; nothing more to do on failure
}

// onConflict gives a store.ErrConflict a readable detail and leaves other
// errors (not found, internal) to their own mapping.
func onConflict(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrConflict) {
		return withDetail(err, format, args...)
	}
	return err
}

// onNotFound gives a store.ErrNotFound a readable detail naming what is missing.
func onNotFound(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return withDetail(err, format, args...)
	}
	return err
}
