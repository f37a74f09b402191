package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Service types: an HTTP service (layer 7, the default) answers requests
// by route; a stream service (layer 4) relays whole TCP connections that
// arrive on a gateway's stream listener to its upstream.
const (
	ServiceHTTP   = "http"
	ServiceStream = "stream"
)

// What a stream route does with TLS (StreamRoute.TLS).
const (
	// StreamPlain relays the bytes as they come, whatever they are.
	StreamPlain = ""
	// StreamPassthrough reads the client's TLS ClientHello for its server
	// name (SNI), then relays the encrypted bytes untouched: the upstream
	// terminates TLS with its own certificate.
	StreamPassthrough = "passthrough"
	// StreamTerminate completes the TLS handshake at the gateway with the
	// group's certificates and relays the plain bytes to the upstream.
	StreamTerminate = "terminate"
)

// Plugins a stream route may run; each has its own configuration.
const (
	StreamIPRestriction = "ip-restriction" // {allow, deny}: as the HTTP plugin, without trusted_proxies
	StreamLimitConn     = "limit-conn"     // {conn}: concurrent connections per gateway
)

// StreamRoute is one entry of a stream service: connections arriving on
// a gateway's stream listener (and, over TLS, asking for one of SNI) are
// relayed to the service's upstream (scheme tcp, or tls to speak TLS to
// it). A route without SNI is the listener's default: it takes every
// connection no route claims by its server name, TLS or not.
type StreamRoute struct {
	Name string `json:"name"`
	// Listener names a stream listener of the gateways of the group
	// (`--gateway-stream-addr NAME=ADDR`); a gateway without it serves
	// the route nowhere.
	Listener string `json:"listener"`
	// TLS is "" (plain bytes), passthrough or terminate.
	TLS string `json:"tls,omitempty"`
	// SNI are the server names (exact, or *.example.com for one label)
	// the route takes; they need tls passthrough or terminate.
	SNI     []string `json:"sni,omitempty"`
	Plugins Plugins  `json:"plugins,omitempty"`
}

// listenerRe is a stream listener's name, as on the command line.
var listenerRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidListenerName reports whether name can name a stream listener.
func ValidListenerName(name string) bool { return listenerRe.MatchString(name) }

// IsStream reports whether the service relays TCP connections.
func (s *Service) IsStream() bool { return s.Type == ServiceStream }

// validateType checks the service's type and what each type excludes.
func (s *Service) validateType(fe *FieldErrors) {
	switch s.Type {
	case "", ServiceHTTP:
		if len(s.StreamRoutes) > 0 {
			fe.Add("stream_routes", `belong to a service of type "stream"`)
		}
		if s.Upstream != nil && s.Upstream.IsStream() {
			fe.Add("upstream.scheme", `tcp and tls serve services of type "stream"; an HTTP service takes http, https, grpc or grpcs`)
		}
		return
	case ServiceStream:
	default:
		fe.Add("type", "must be http or stream")
		return
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"protocols", len(s.Protocols) > 0}, {"https_redirect_status_code", s.HTTPSRedirectStatusCode != 0},
		{"path", s.Path != ""}, {"hosts", len(s.Hosts) > 0}, {"plugins", len(s.Plugins) > 0},
		{"routes", len(s.Routes) > 0},
	} {
		if f.set {
			fe.Add(f.name, `does not apply to a service of type "stream" (its stream_routes say what it answers)`)
		}
	}
	if u := s.Upstream; u != nil {
		validateStreamUpstream(fe, "upstream.", u)
	}
	names := map[string]bool{}
	claimed := map[string]string{} // listener and server name → route
	for i := range s.StreamRoutes {
		r := &s.StreamRoutes[i]
		prefix := fmt.Sprintf("stream_routes[%d].", i)
		switch {
		case r.Name == "":
			fe.Add(prefix+"name", "is required")
		case !routeNameRe.MatchString(r.Name):
			fe.Add(prefix+"name", "must hold only letters, digits, '_' or '-' (at most 100)")
		case names[r.Name]:
			fe.Add(prefix+"name", "is listed twice")
		}
		names[r.Name] = true
		r.validate(fe, prefix)
		sni := r.SNI
		if len(sni) == 0 {
			sni = []string{""}
		}
		for _, name := range sni {
			key := r.Listener + " " + name
			if other, ok := claimed[key]; ok && other != r.Name {
				what := "the default of listener " + r.Listener
				if name != "" {
					what = "server name " + name + " on listener " + r.Listener
				}
				fe.Add(prefix+"name", "takes %s, as route %q does", what, other)
			}
			claimed[key] = r.Name
		}
	}
}

func (r *StreamRoute) validate(fe *FieldErrors, prefix string) {
	if !ValidListenerName(r.Listener) {
		fe.Add(prefix+"listener", "must name a stream listener of the gateways: lower-case letters, digits, '_' or '-' (at most 63)")
	}
	switch r.TLS {
	case StreamPlain:
		if len(r.SNI) > 0 {
			fe.Add(prefix+"sni", "needs tls passthrough or terminate: a plain connection names no server")
		}
	case StreamPassthrough, StreamTerminate:
	default:
		fe.Add(prefix+"tls", "must be passthrough, terminate or empty (plain bytes)")
	}
	seen := map[string]bool{}
	for i, name := range r.SNI {
		f := fmt.Sprintf("%ssni[%d]", prefix, i)
		switch {
		case !hostRe.MatchString(name) || strings.Contains(name, ".."):
			fe.Add(f, "must be a host name, optionally starting with *.")
		case name != strings.ToLower(name):
			fe.Add(f, "must be lower case, as server names are compared")
		case seen[name]:
			fe.Add(f, "is listed twice")
		}
		seen[name] = true
	}
	validatePluginNames(fe, prefix+"plugins", r.Plugins)
	for name := range r.Plugins {
		if name != StreamIPRestriction && name != StreamLimitConn {
			fe.Add(prefix+"plugins."+name, "is not a stream plugin (ip-restriction and limit-conn are)")
		}
	}
}

// IsStream reports whether the upstream takes a stream service's
// connections (scheme tcp or tls).
func (u *Upstream) IsStream() bool { return u.Scheme == "tcp" || u.Scheme == "tls" }

// validateStreamUpstream checks what a stream service's upstream must be:
// nodes reached over TCP (tcp, or "" for it) or TLS.
func validateStreamUpstream(fe *FieldErrors, prefix string, u *Upstream) {
	if u.Scheme != "" && !u.IsStream() {
		fe.Add(prefix+"scheme", `must be tcp or tls for a service of type "stream"`)
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"url", u.URL != ""}, {"discovery", u.Discovery != nil}, {"pass_host", u.PassHost != ""},
		{"upstream_host", u.UpstreamHost != ""}, {"timeout.send", u.Timeout != nil && u.Timeout.Send != 0},
		{"retry_policy", u.RetryPolicy != nil}, {"connections", u.Connections != nil},
	} {
		if f.set {
			fe.Add(prefix+f.name, `does not apply to the upstream of a service of type "stream"`)
		}
	}
	if c := u.Checks; c != nil && c.Active != nil && c.Active.Type != "tcp" {
		fe.Add(prefix+"checks.active.type", `must be tcp for a service of type "stream"`)
	}
	if c := u.Checks; c != nil && c.Passive != nil && len(c.Passive.Statuses) > 0 {
		fe.Add(prefix+"checks.passive.statuses", `does not apply to a service of type "stream"`)
	}
	if slices.Contains([]string{"least_conn", "chash", "ewma"}, u.LoadBalancer) {
		fe.Add(prefix+"load_balancer", `a service of type "stream" balances roundrobin`)
	}
}

// StreamUpstreamErrors checks u as the upstream of a stream service
// (nil: it can be), for the gateway's compiler: a shared upstream is
// checked where a service uses it.
func StreamUpstreamErrors(prefix string, u *Upstream) FieldErrors {
	var fe FieldErrors
	validateStreamUpstream(&fe, prefix, u)
	return fe
}
