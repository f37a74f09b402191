// Package cors is the cors plugin: it answers browsers' preflight requests
// itself and marks answers to allowed origins with the CORS headers. It
// runs before authentication, because a preflight carries no credentials.
package cors

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Config is the plugin configuration.
type Config struct {
	// AllowOrigins lists origins (scheme://host[:port]) or is ["*"]
	// (default): any origin.
	AllowOrigins []string `json:"allow_origins,omitempty"`
	// AllowMethods answered to a preflight (default GET, HEAD, POST, PUT,
	// PATCH, DELETE, OPTIONS).
	AllowMethods []string `json:"allow_methods,omitempty"`
	// AllowHeaders a request may carry; ["*"] or empty: whatever the
	// preflight asks for.
	AllowHeaders []string `json:"allow_headers,omitempty"`
	// ExposeHeaders the browser lets scripts read.
	ExposeHeaders []string `json:"expose_headers,omitempty"`
	// MaxAge is how long a browser may cache a preflight, in seconds
	// (default 5; -1: not at all).
	MaxAge *int `json:"max_age,omitempty" default:"5"`
	// AllowCredentials lets requests carry cookies; needs listed origins.
	AllowCredentials bool `json:"allow_credentials,omitempty"`
}

// Filter is the compiled plugin.
type Filter struct {
	anyOrigin   bool
	origins     map[string]bool
	methods     string
	headers     string // "" : echo the preflight's request headers
	expose      string
	maxAge      string
	credentials bool
}

var defaultMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// New validates cfg and joins the header values once.
func New(cfg Config) (*Filter, error) {
	f := &Filter{origins: map[string]bool{}, credentials: cfg.AllowCredentials}
	origins := cfg.AllowOrigins
	if len(origins) == 0 {
		origins = []string{"*"}
	}
	for i, o := range origins {
		if o == "*" {
			f.anyOrigin = true
			continue
		}
		if err := checkOrigin(o); err != nil {
			return nil, fmt.Errorf("allow_origins[%d]: %w", i, err)
		}
		f.origins[strings.ToLower(o)] = true
	}
	if f.anyOrigin && len(f.origins) > 0 {
		return nil, errors.New(`allow_origins: "*" cannot be listed beside origins`)
	}
	if f.anyOrigin && f.credentials {
		return nil, errors.New(`allow_credentials needs listed allow_origins: browsers refuse credentials with "*"`)
	}
	methods := cfg.AllowMethods
	if len(methods) == 0 {
		methods = defaultMethods
	}
	for i, m := range methods {
		if !plugin.ValidHeaderName(m) {
			return nil, fmt.Errorf("allow_methods[%d]: %q is not a method", i, m)
		}
	}
	f.methods = strings.Join(methods, ", ")
	if !(len(cfg.AllowHeaders) == 0 || len(cfg.AllowHeaders) == 1 && cfg.AllowHeaders[0] == "*") {
		for i, h := range cfg.AllowHeaders {
			if !plugin.ValidHeaderName(h) {
				return nil, fmt.Errorf("allow_headers[%d]: %q is not a header name", i, h)
			}
		}
		f.headers = strings.Join(cfg.AllowHeaders, ", ")
	}
	for i, h := range cfg.ExposeHeaders {
		if !plugin.ValidHeaderName(h) {
			return nil, fmt.Errorf("expose_headers[%d]: %q is not a header name", i, h)
		}
	}
	f.expose = strings.Join(cfg.ExposeHeaders, ", ")
	age := 5
	if cfg.MaxAge != nil {
		age = *cfg.MaxAge
	}
	if age < -1 || age > 86400 {
		return nil, fmt.Errorf("max_age %d must be -1 to 86400 seconds", age)
	}
	f.maxAge = strconv.Itoa(age)
	return f, nil
}

func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin (scheme://host[:port])", o)
	}
	return nil
}

// allowed reports whether origin may read answers.
func (f *Filter) allowed(origin string) bool {
	if f.anyOrigin {
		return true
	}
	if f.origins[origin] {
		return true
	}
	// Origins are case-insensitive in scheme and host; most clients send
	// them lower-case, so only a mixed-case one pays for ToLower.
	for i := range len(origin) {
		if c := origin[i]; 'A' <= c && c <= 'Z' {
			return f.origins[strings.ToLower(origin)]
		}
	}
	return false
}

// OnRequest answers a preflight and marks the answer of an allowed origin.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	origin := ex.Header("Origin")
	if origin == "" {
		return false // not a cross-origin request
	}
	preflight := ex.Method() == http.MethodOptions && ex.Header("Access-Control-Request-Method") != ""
	if !f.allowed(origin) {
		if preflight {
			ex.Reject(http.StatusForbidden, "cors_forbidden", "this origin may not call this API")
			return true
		}
		return false // no CORS headers: the browser keeps the answer from the page
	}
	if f.anyOrigin {
		ex.SetResponseHeader("Access-Control-Allow-Origin", "*")
	} else {
		ex.SetResponseHeader("Access-Control-Allow-Origin", origin)
	}
	if f.credentials {
		ex.SetResponseHeader("Access-Control-Allow-Credentials", "true")
	}
	if !preflight {
		if f.expose != "" {
			ex.SetResponseHeader("Access-Control-Expose-Headers", f.expose)
		}
		return false
	}
	if !f.anyOrigin {
		ex.SetResponseHeader("Vary", "Origin")
	}
	ex.SetResponseHeader("Access-Control-Allow-Methods", f.methods)
	switch {
	case f.headers != "":
		ex.SetResponseHeader("Access-Control-Allow-Headers", f.headers)
	case ex.Header("Access-Control-Request-Headers") != "":
		ex.SetResponseHeader("Access-Control-Allow-Headers", ex.Header("Access-Control-Request-Headers"))
	}
	ex.SetResponseHeader("Access-Control-Max-Age", f.maxAge)
	ex.Respond(http.StatusNoContent, nil)
	return true
}

// OnResponse adds Origin to the backend's Vary when the answer depends on
// it (listed origins), so caches keep one answer per origin.
func (f *Filter) OnResponse(ex *plugin.Exchange) {
	if f.anyOrigin || ex.Header("Origin") == "" {
		return
	}
	switch v := ex.ResponseHeader("Vary"); {
	case v == "":
		ex.SetResponseHeader("Vary", "Origin")
	case v == "*" || containsToken(v, "Origin"):
	default:
		ex.SetResponseHeader("Vary", v+", Origin")
	}
}

func containsToken(list, token string) bool {
	for list != "" {
		var t string
		t, list, _ = strings.Cut(list, ",")
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}
