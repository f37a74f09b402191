// Package proxyrewrite is the proxy-rewrite plugin: it changes what the
// backend gets — its path (fixed, or a regular expression rewrite of the
// path it would get), its Host and its headers.
package proxyrewrite

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Config is the plugin configuration.
type Config struct {
	// URI replaces the backend path.
	URI string `json:"uri,omitempty"`
	// RegexURI is [pattern, template]: when the path the backend would
	// get (group prefix stripped) matches pattern, it becomes template,
	// with $1, ${name} for the pattern's groups. Without a match the path
	// is left alone.
	RegexURI []string `json:"regex_uri,omitempty"`
	// Host replaces the Host header the backend gets (pass_host aside).
	Host    string           `json:"host,omitempty"`
	Headers plugin.HeaderOps `json:"headers,omitzero"`
}

// Filter is the compiled plugin.
type Filter struct {
	uri      string
	re       *regexp.Regexp
	template string
	host     string
	headers  plugin.HeaderEdits
}

// New validates cfg and compiles its regular expression once.
func New(cfg Config) (*Filter, error) {
	f := &Filter{uri: cfg.URI, host: cfg.Host}
	if cfg.URI != "" && len(cfg.RegexURI) > 0 {
		return nil, errors.New("uri and regex_uri exclude each other; keep one")
	}
	if cfg.URI != "" && (!strings.HasPrefix(cfg.URI, "/") || strings.ContainsAny(cfg.URI, "?#") || !printable(cfg.URI)) {
		return nil, fmt.Errorf("uri %q must be a path starting with / (no query, no control characters)", cfg.URI)
	}
	if len(cfg.RegexURI) > 0 {
		if len(cfg.RegexURI) != 2 {
			return nil, errors.New("regex_uri must be [pattern, template]")
		}
		re, err := regexp.Compile(cfg.RegexURI[0])
		if err != nil {
			return nil, fmt.Errorf("regex_uri[0]: %w", err)
		}
		if !strings.HasPrefix(cfg.RegexURI[1], "/") || strings.ContainsAny(cfg.RegexURI[1], "?#") || !printable(cfg.RegexURI[1]) {
			return nil, fmt.Errorf("regex_uri[1] %q must be a path starting with /", cfg.RegexURI[1])
		}
		f.re, f.template = re, cfg.RegexURI[1]
	}
	if cfg.Host != "" && !validHost(cfg.Host) {
		return nil, fmt.Errorf("host %q is not a host name or host:port", cfg.Host)
	}
	h, err := cfg.Headers.Compile("headers")
	if err != nil {
		return nil, err
	}
	f.headers = h
	if f.uri == "" && f.re == nil && f.host == "" && h.Empty() {
		return nil, errors.New("set at least one of uri, regex_uri, host, headers")
	}
	return f, nil
}

// OnRequest edits the upstream request.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	switch {
	case f.uri != "":
		ex.SetUpstreamPath(f.uri)
	case f.re != nil:
		p := ex.BackendPath()
		if m := f.re.FindStringSubmatchIndex(p); m != nil {
			out := f.re.ExpandString(make([]byte, 0, len(f.template)+len(p)), f.template, p, m)
			if len(out) > 0 && out[0] == '/' {
				ex.SetUpstreamPath(string(out))
			}
		}
	}
	if f.host != "" {
		ex.SetUpstreamHost(f.host)
	}
	f.headers.ApplyUpstream(ex)
	return false
}

// printable: no control characters (a decoded path may hold spaces; the
// engines escape it).
func printable(s string) bool {
	for i := range len(s) {
		if s[i] < ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// validHost accepts a DNS name, an IPv4 address or a bracketed IPv6
// address, with an optional port.
func validHost(h string) bool {
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		rest := h[end+1:]
		return rest == "" || rest[0] == ':' && digits(rest[1:])
	}
	name, port, hasPort := strings.Cut(h, ":")
	if hasPort && !digits(port) {
		return false
	}
	if name == "" || len(name) > 253 {
		return false
	}
	for i := range len(name) {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
