package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Parameter is one request parameter of a route, as an API's design form
// declares it: where the client sends it, its type, whether it is
// required, its default and its allowed values, and, optionally, where
// the backend gets it instead. This one type is the shape; the OpenAPI
// description (internal/openapi) and the gateway's mapping
// (internal/gateway/routing) are derived from it.
type Parameter struct {
	Name string `json:"name"`
	// In is query, path, header, cookie or body (a member of a JSON
	// request body, named by Pointer).
	In string `json:"in"`
	// Pointer is the JSON pointer (RFC 6901) of a body field, object
	// members only ("/user/id"); its last member is Name. Default: "/"+Name.
	Pointer     string            `json:"pointer,omitempty"`
	Type        string            `json:"type,omitempty"` // string (default), integer, number, boolean, array, object
	Format      string            `json:"format,omitempty"`
	Required    bool              `json:"required,omitempty"`
	Default     json.RawMessage   `json:"default,omitempty"`
	Enum        []json.RawMessage `json:"enum,omitempty"`
	Description string            `json:"description,omitempty"`
	// Backend maps the parameter to another place of the backend request;
	// nil: the backend gets it where the client sent it.
	Backend *ParameterTarget `json:"backend,omitempty"`
}

// ParameterTarget is where the backend gets a mapped parameter.
type ParameterTarget struct {
	In      string `json:"in"`                // query, path (a {name} of backend.path), header or body
	Name    string `json:"name,omitempty"`    // query, path, header
	Pointer string `json:"pointer,omitempty"` // body
	// Keep also leaves the parameter where the client sent it; by default
	// the backend sees it only where it is mapped.
	Keep bool `json:"keep,omitempty"`
}

// ConstParameter is a value the backend always gets, whatever the client
// sent (a key of the backend, a fixed version).
type ConstParameter struct {
	In      string `json:"in"`                // query, header or body
	Name    string `json:"name,omitempty"`    // query, header
	Pointer string `json:"pointer,omitempty"` // body
	// Value is JSON: a string, number or boolean (any JSON value in a body).
	Value json.RawMessage `json:"value"`
}

// ResponseExample is an example answer of a route for one status.
type ResponseExample struct {
	Status      int             `json:"status"`
	Description string          `json:"description,omitempty"`
	ContentType string          `json:"content_type,omitempty"` // default application/json
	Example     json.RawMessage `json:"example"`
}

// ErrorCode is one row of a route's error-code table.
type ErrorCode struct {
	Code        string `json:"code"`
	Status      int    `json:"status"`
	Message     string `json:"message"`
	Description string `json:"description,omitempty"`
}

// Limits of a route's design.
const (
	MaxRouteParameters   = 30
	MaxConstParameters   = 30
	MaxResponseExamples  = 50
	MaxErrorCodes        = 100
	maxExampleBytes      = 64 << 10
	maxPointerDepth      = 8
	maxParameterValueLen = 4096
)

// ParameterTypes are the types a parameter may have.
var ParameterTypes = []string{"string", "integer", "number", "boolean", "array", "object"}

// TypeOf is the parameter's type, string when unset.
func (p *Parameter) TypeOf() string {
	if p.Type == "" {
		return "string"
	}
	return p.Type
}

// BodyPointer is a body parameter's pointer: Pointer, or "/"+Name.
func (p *Parameter) BodyPointer() string {
	if p.Pointer != "" {
		return p.Pointer
	}
	return "/" + EscapePointerToken(p.Name)
}

// EscapePointerToken escapes one JSON pointer reference token.
func EscapePointerToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// ParsePointer splits a JSON pointer (RFC 6901) into its reference
// tokens, unescaped. A parameter's pointer names an object member: it is
// not empty, has no empty token and at most 8 of them.
func ParsePointer(p string) ([]string, error) {
	if p == "" || p[0] != '/' {
		return nil, errors.New("must be a JSON pointer starting with /")
	}
	if len(p) > 512 {
		return nil, errors.New("is longer than 512 characters")
	}
	toks := strings.Split(p[1:], "/")
	if len(toks) > maxPointerDepth {
		return nil, fmt.Errorf("is deeper than %d members", maxPointerDepth)
	}
	for i, t := range toks {
		if t == "" {
			return nil, errors.New("has an empty member name")
		}
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || t[j+1] != '0' && t[j+1] != '1') {
				return nil, errors.New("has a ~ that is not ~0 or ~1")
			}
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

var (
	routeParamNameRe = regexp.MustCompile(`^[A-Za-z0-9_.\-\[\]]{1,100}$`)
	pathNameRe       = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	cookieNameRe     = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]{1,100}$")
)

// validHeaderName is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// reservedHeader names headers that frame or route the message: neither
// a mapping nor a constant may set them.
func reservedHeader(name string) bool {
	switch strings.ToLower(name) {
	case "host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer",
		"keep-alive", "proxy-connection", "x-request-id", "content-type":
		return true
	}
	return false
}

// placeKey names one place of the backend request, for collisions:
// header names compare case-insensitively.
func placeKey(in, name string) string {
	if in == "header" {
		name = strings.ToLower(name)
	}
	return in + "\x00" + name
}

// captured reports whether a route path names the parameter ({name} or :name).
func captured(paths []string, name string) bool {
	for _, p := range paths {
		for seg := range strings.SplitSeq(p, "/") {
			if seg == "{"+name+"}" || seg == ":"+name {
				return true
			}
		}
	}
	return false
}

// HasMapping reports whether the route asks the gateway to edit the
// backend request for its parameters (a mapping, a default or a constant).
func (r *Route) HasMapping() bool {
	if r.Backend != nil && len(r.Backend.Parameters) > 0 {
		return true
	}
	for i := range r.Parameters {
		if r.Parameters[i].Backend != nil || len(r.Parameters[i].Default) > 0 {
			return true
		}
	}
	return false
}
