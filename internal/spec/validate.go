package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// FieldError names one bad field by its JSON path (e.g. "upstream.nodes[0].port").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// Code is the reason as a stable word (required, too_long, …) that
	// a client can translate; the admin API fills it when it answers.
	Code string `json:"code,omitempty"`
}

// FieldErrors is a validation failure; it is data the admin API returns as is.
type FieldErrors []FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add appends a problem at path.
func (fe *FieldErrors) Add(field, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when there are no problems, so callers can return it directly.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return fe
}

var (
	// Slugs: project ids and gateway group names.
	slugRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9_-]{0,62}[a-z0-9])?$`)
	// Route names end up in URLs (/{name}): letters, digits, underscore and,
	// because the README's quick tour names its route getting-started-anything, hyphen.
	routeNameRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$`)
	versionRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)
	hostRe      = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$`)
	pathSegRe   = regexp.MustCompile(`^([A-Za-z0-9._~!$&'()+,;=:@%-]*|\{[A-Za-z_][A-Za-z0-9_]*\}|:[A-Za-z_][A-Za-z0-9_]*)$`)
)

// Methods are the HTTP methods a route may name.
var Methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE"}

func validMethod(m string) bool {
	for _, x := range Methods {
		if m == x {
			return true
		}
	}
	return false
}

// ValidSlug reports whether s can be a project id or group name.
func ValidSlug(s string) bool { return slugRe.MatchString(s) }

// ValidVersion reports whether s can be a version string.
func ValidVersion(s string) bool { return versionRe.MatchString(s) }

func validateName(fe *FieldErrors, field, name string) {
	switch {
	case name == "":
		fe.Add(field, "is required")
	case !isName(name):
		fe.Add(field, "must start with a letter or digit and hold only letters, digits, space, '.', '_' or '-' (at most 100)")
	}
}

// isName reports whether s can name a service or an upstream: readable,
// no control characters — 1 to 100 letters or digits of any script, and
// after the first also space, '.', '_' and '-'. (Not a regular
// expression: one of Unicode's classes repeated a hundred times compiles
// to 2 MB that every process, gateways too, would keep.)
func isName(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	n := 0
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && (n == 0 || !strings.ContainsRune(" ._-", r)) {
			return false
		}
		if n++; n > 100 {
			return false
		}
	}
	return n > 0
}

func validateHosts(fe *FieldErrors, field string, hosts []string) {
	for i, h := range hosts {
		if !hostRe.MatchString(h) {
			fe.Add(fmt.Sprintf("%s[%d]", field, i), "must be a host name, optionally starting with *.")
		}
	}
}

// ValidatePath checks one route path: it starts with '/', its segments are
// literal, {param} or :param, and only the last may be '*' (or end in '*').
func ValidatePath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return "must start with /"
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		last := i == len(segs)-1
		if strings.HasSuffix(s, "*") {
			if !last {
				return "a wildcard * may only end the path"
			}
			s = strings.TrimSuffix(s, "*")
		}
		if !pathSegRe.MatchString(s) {
			return fmt.Sprintf("segment %q holds characters a path may not", s)
		}
	}
	return ""
}

// Validate checks a project.
func (p *Project) Validate() error {
	var fe FieldErrors
	if !ValidSlug(p.ID) {
		fe.Add("id", "must be 1–64 lower-case letters, digits, '-' or '_', starting and ending with a letter or digit")
	}
	if p.Name != "" {
		validateName(&fe, "name", p.Name)
	}
	if p.TestGroup != "" && !ValidSlug(p.TestGroup) {
		fe.Add("test_group", "is not a valid gateway group name")
	}
	if p.ProductionGroup != "" && !ValidSlug(p.ProductionGroup) {
		fe.Add("production_group", "is not a valid gateway group name")
	}
	switch p.ListingApprover {
	case "", ApproverProjectAdmin, ApproverSuperAdmin:
	default:
		fe.Add("listing_approver", "must be project_admin or super_admin")
	}
	if p.Webhook != nil {
		ValidateWebhookURL(&fe, "webhook.url", p.Webhook.URL)
		if p.Webhook.URL == "" && p.Webhook.Secret != "" {
			fe.Add("webhook.url", "is required with a secret")
		}
		if p.Webhook.Secret != "" && len(p.Webhook.Secret) < 16 {
			fe.Add("webhook.secret", "must be at least 16 characters (leave it out to have one generated)")
		}
	}
	return fe.Err()
}

// Validate checks a gateway group.
func (g *GatewayGroup) Validate() error {
	var fe FieldErrors
	if !ValidSlug(g.Name) {
		fe.Add("name", "must be 1–64 lower-case letters, digits, '-' or '_', starting and ending with a letter or digit")
	}
	if g.PathPrefix != "" {
		tmpl := strings.ReplaceAll(g.PathPrefix, "{project}", "p")
		if msg := ValidatePath(tmpl); msg != "" || strings.Contains(tmpl, "*") || strings.Contains(tmpl, "{") {
			if msg == "" {
				msg = "may hold only literal segments and {project}"
			}
			fe.Add("path_prefix", "%s", msg)
		}
	}
	if g.TimeZone != "" {
		if _, err := time.LoadLocation(g.TimeZone); err != nil || g.TimeZone == "Local" {
			fe.Add("time_zone", "is not an IANA time zone (such as UTC or Asia/Shanghai)")
		}
	}
	if g.PublicURL != "" {
		ValidatePublicURL(&fe, "public_url", g.PublicURL)
	}
	if r := g.TraceSampleRatio; r != nil && !(*r >= 0 && *r <= 1) {
		fe.Add("trace_sample_ratio", "must be between 0 and 1")
	}
	return fe.Err()
}

// Validate checks an upstream; prefix is the JSON path of the object
// ("" for a top-level upstream, "upstream." when nested).
func (u *Upstream) Validate(prefix string) FieldErrors {
	var fe FieldErrors
	if u.Name != "" {
		validateName(&fe, prefix+"name", u.Name)
	}
	switch u.Scheme {
	case "", "http", "https", "grpc", "grpcs", "tcp", "tls":
	default:
		fe.Add(prefix+"scheme", "must be http, https, grpc (gRPC over HTTP/2 without TLS), grpcs (gRPC over TLS), or for a stream service tcp or tls")
	}
	switch u.LoadBalancer {
	case "", "roundrobin", "least_conn", "chash", "ewma":
	default:
		fe.Add(prefix+"load_balancer", "must be roundrobin, least_conn, chash or ewma")
	}
	if u.HashOn != "" {
		if _, _, ok := ParseUpstreamHashOn(u.HashOn); !ok {
			fe.Add(prefix+"hash_on", "must be ip, uri, consumer, header:NAME, cookie:NAME or query:NAME")
		} else if u.LoadBalancer != "chash" {
			fe.Add(prefix+"hash_on", "applies to load_balancer chash only")
		}
	}
	switch u.PassHost {
	case "", "pass", "node":
		if u.UpstreamHost != "" {
			fe.Add(prefix+"upstream_host", "applies to pass_host rewrite only")
		}
	case "rewrite":
		if u.UpstreamHost == "" {
			fe.Add(prefix+"upstream_host", "is required when pass_host is rewrite")
		}
	default:
		fe.Add(prefix+"pass_host", "must be pass, node or rewrite")
	}
	if u.Discovery != nil && len(u.Nodes) > 0 {
		fe.Add(prefix+"discovery", "cannot be combined with nodes")
	}
	if u.URL != "" {
		if len(u.Nodes) > 0 || u.Discovery != nil {
			fe.Add(prefix+"url", "cannot be combined with nodes or discovery")
		}
		if _, err := ParseUpstreamURL(u.URL); err != nil {
			fe.Add(prefix+"url", "%v", err)
		}
	}
	if u.Discovery != nil {
		if u.Discovery.Registry == "" {
			fe.Add(prefix+"discovery.registry", "is required")
		}
		if u.Discovery.ServiceName == "" {
			fe.Add(prefix+"discovery.service_name", "is required")
		}
	}
	for i, n := range u.Nodes {
		f := fmt.Sprintf("%snodes[%d].", prefix, i)
		if n.Host == "" {
			fe.Add(f+"host", "is required")
		} else if _, err := netip.ParseAddr(n.Host); err != nil && !hostRe.MatchString(n.Host) {
			fe.Add(f+"host", "must be an IP address or a host name")
		}
		if n.Port < 1 || n.Port > 65535 {
			fe.Add(f+"port", "must be between 1 and 65535")
		}
		if n.Weight < 0 {
			fe.Add(f+"weight", "must not be negative")
		}
	}
	if t := u.Timeout; t != nil {
		validateTimeout(&fe, prefix+"timeout.", t)
	}
	if u.TLSVerify != nil && !u.usesHTTPS() {
		fe.Add(prefix+"tls_verify", "applies to upstreams over TLS only (scheme https, grpcs or tls, or an https url)")
	}
	if u.TLS != nil {
		u.TLS.validate(&fe, prefix+"tls.", u.usesHTTPS())
		if u.TLSVerify != nil && !*u.TLSVerify && u.TLS.CA != "" {
			fe.Add(prefix+"tls.ca", "is not used with tls_verify: false: trust the CA, or verify nothing")
		}
	}
	if u.Retries != nil && (*u.Retries < 0 || *u.Retries > 10) {
		fe.Add(prefix+"retries", "must be between 0 and 10")
	}
	if u.Checks != nil {
		u.Checks.validate(&fe, prefix+"checks.")
	}
	if u.RetryPolicy != nil {
		u.RetryPolicy.validate(&fe, prefix+"retry_policy.")
	}
	if u.Connections != nil {
		u.Connections.validate(&fe, prefix+"connections.")
	}
	return fe
}

func validateTimeout(fe *FieldErrors, prefix string, t *Timeout) {
	for _, x := range []struct {
		name string
		v    float64
	}{{"connect", t.Connect}, {"send", t.Send}, {"read", t.Read}} {
		if x.v < 0 || x.v > 3600 {
			fe.Add(prefix+x.name, "must be between 0 and 3600 seconds")
		}
	}
}

// RequireNodes checks that an upstream can take traffic: nodes,
// discovery or a url.
func (u *Upstream) RequireNodes(prefix string) FieldErrors {
	var fe FieldErrors
	if len(u.Nodes) == 0 && u.Discovery == nil && u.URL == "" {
		fe.Add(prefix+"nodes", "at least one node (or discovery, or a url) is required")
	}
	return fe
}

// HTTPSOnly reports whether the service answers on the TLS address only.
func (s *Service) HTTPSOnly() bool {
	return len(s.Protocols) > 0 && !slices.Contains(s.Protocols, "http")
}

// HTTPOnly reports whether the service answers on the plain address only.
func (s *Service) HTTPOnly() bool {
	return len(s.Protocols) > 0 && !slices.Contains(s.Protocols, "https")
}

// Validate checks a service template (without its routes).
func (s *Service) Validate() error {
	var fe FieldErrors
	validateName(&fe, "name", s.Name)
	for i, p := range s.Protocols {
		if p != "http" && p != "https" {
			fe.Add(fmt.Sprintf("protocols[%d]", i), "must be http or https")
		}
	}
	switch code := s.HTTPSRedirectStatusCode; {
	case code == 0:
	case code != 301 && code != 302 && code != 307 && code != 308:
		fe.Add("https_redirect_status_code", "must be 301, 302, 307 or 308")
	case !s.HTTPSOnly():
		fe.Add("https_redirect_status_code", `applies to a service of protocols ["https"] only`)
	}
	if s.Path != "" && s.Path != DefaultPath {
		if msg := ValidatePath(s.Path); msg != "" {
			fe.Add("path", "%s", msg)
		} else if strings.ContainsAny(s.Path, "*{:") {
			fe.Add("path", "must be literal segments")
		}
	}
	validateHosts(&fe, "hosts", s.Hosts)
	validatePluginNames(&fe, "plugins", s.Plugins)
	if s.Upstream != nil {
		fe = append(fe, s.Upstream.Validate("upstream.")...)
	}
	s.validateType(&fe)
	return fe.Err()
}

// Validate checks a route.
func (r *Route) Validate() error {
	var fe FieldErrors
	switch {
	case r.Name == "":
		fe.Add("name", "is required")
	case !routeNameRe.MatchString(r.Name):
		fe.Add("name", "must hold only letters, digits, '_' or '-' (at most 100)")
	}
	seen := map[string]bool{}
	for i, p := range r.Paths {
		f := fmt.Sprintf("paths[%d]", i)
		if msg := ValidatePath(p); msg != "" {
			fe.Add(f, "%s", msg)
		} else if seen[p] {
			fe.Add(f, "is listed twice")
		}
		seen[p] = true
	}
	for i, m := range r.Methods {
		if !validMethod(m) {
			fe.Add(fmt.Sprintf("methods[%d]", i), "must be one of %s", strings.Join(Methods, ", "))
		}
	}
	validateHosts(&fe, "hosts", r.Hosts)
	validatePluginNames(&fe, "plugins", r.Plugins)
	if b := r.Backend; b != nil {
		switch {
		case b.Type == "sql":
			if b.SQLBackend == nil {
				b.SQLBackend = &SQLBackend{}
			}
			b.SQLBackend.validate(&fe)
		case b.Type == BackendComposite:
			if b.Composite == nil {
				fe.Add("backend.composite", "is required with type composite: the steps and the response")
			} else {
				b.Composite.validate(&fe, "backend.composite")
			}
			if b.SQLBackend != nil {
				fe.Add("backend.type", "must be sql when data_source, table or sql is given")
			}
		case b.Type != "" && b.Type != "upstream":
			fe.Add("backend.type", "must be upstream, sql or composite")
		case b.SQLBackend != nil:
			fe.Add("backend.type", "must be sql when data_source, table or sql is given")
		}
		if b.Composite != nil && b.Type != BackendComposite {
			fe.Add("backend.composite", "applies only to a backend of type composite")
		}
		if b.Path != "" {
			if msg := ValidatePath(strings.TrimSuffix(b.Path, "*")); msg != "" {
				fe.Add("backend.path", "%s", msg)
			}
		}
		if b.Method != "" && !validMethod(b.Method) {
			fe.Add("backend.method", "must be one of %s", strings.Join(Methods, ", "))
		}
		if b.Timeout != nil {
			validateTimeout(&fe, "backend.timeout.", b.Timeout)
		}
		if b.Type == "sql" || b.Type == BackendComposite {
			// A sql or composite backend answers the request itself:
			// nothing of the upstream call applies.
			for _, f := range []struct {
				name string
				set  bool
			}{{"path", b.Path != ""}, {"method", b.Method != ""}, {"retry_non_idempotent", b.RetryNonIdempotent},
				{"timeout.connect", b.Timeout != nil && b.Timeout.Connect != 0},
				{"timeout.send", b.Timeout != nil && b.Timeout.Send != 0}} {
				if f.set {
					fe.Add("backend."+f.name, "does not apply to a %s backend (only timeout.read does)", b.Type)
				}
			}
		}
		if b.Type == BackendComposite && b.Timeout != nil && b.Timeout.Read != 0 {
			// Its calls' times are the flow's: its timeout and its
			// steps'.
			fe.Add("backend.timeout.read", "does not apply to a composite backend: give composite.timeout, or a step's timeout")
		}
	}
	r.validateDesign(&fe)
	return fe.Err()
}

func validatePluginNames(fe *FieldErrors, field string, p Plugins) {
	for name, raw := range p {
		if !routeNameRe.MatchString(name) {
			fe.Add(field+"."+name, "is not a plugin name")
			continue
		}
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
			fe.Add(field+"."+name, "must be a JSON object")
		}
	}
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// UpstreamURL is a registered API's address, parsed.
type UpstreamURL struct {
	Scheme   string // http or https
	Host     string
	Port     int
	BasePath string // "" or "/base" without a trailing slash
}

// ParseUpstreamURL reads "http(s)://host[:port][/base]".
func ParseUpstreamURL(raw string) (UpstreamURL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return UpstreamURL{}, errors.New("must be an absolute http or https URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return UpstreamURL{}, errors.New("must be an absolute http or https URL")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return UpstreamURL{}, errors.New("must not carry user info, a query or a fragment")
	}
	out := UpstreamURL{Scheme: u.Scheme, Host: u.Hostname(), BasePath: strings.TrimSuffix(u.EscapedPath(), "/")}
	if _, err := netip.ParseAddr(out.Host); err != nil && !hostRe.MatchString(out.Host) {
		return UpstreamURL{}, errors.New("has a host that is not an IP address or a host name")
	}
	switch p := u.Port(); {
	case p == "" && u.Scheme == "https":
		out.Port = 443
	case p == "":
		out.Port = 80
	default:
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return UpstreamURL{}, errors.New("has a port outside 1-65535")
		}
		out.Port = n
	}
	return out, nil
}
