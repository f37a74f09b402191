package manifest

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/portico-gw/portico/internal/spec"
)

// Migration reports what a conversion from another gateway's file made of
// it: the document, and every part that could not be carried over as it
// was, so nothing is dropped silently.
type Migration struct {
	Document Document `json:"document"`
	Notes    []string `json:"notes"`
}

func (m *Migration) note(format string, args ...any) {
	m.Notes = append(m.Notes, fmt.Sprintf(format, args...))
}

// apisixFile is the part of an APISIX standalone apisix.yaml Portico reads.
type apisixFile struct {
	Routes    []apisixObject `json:"routes"`
	Services  []apisixObject `json:"services"`
	Upstreams []apisixObject `json:"upstreams"`
	// StreamRoutes become stream services (apisix_stream.go).
	StreamRoutes []apisixStreamRoute `json:"stream_routes"`
}

type apisixObject struct {
	ID         any                        `json:"id"`
	Name       string                     `json:"name"`
	Desc       string                     `json:"desc"`
	URI        string                     `json:"uri"`
	URIs       []string                   `json:"uris"`
	Methods    []string                   `json:"methods"`
	Host       string                     `json:"host"`
	Hosts      []string                   `json:"hosts"`
	ServiceID  any                        `json:"service_id"`
	UpstreamID any                        `json:"upstream_id"`
	Upstream   *apisixUpstream            `json:"upstream"`
	Plugins    map[string]json.RawMessage `json:"plugins"`
	// An upstream object's own fields.
	apisixUpstream
}

type apisixUpstream struct {
	Type         string          `json:"type"`
	Nodes        json.RawMessage `json:"nodes"`
	Scheme       string          `json:"scheme"`
	PassHost     string          `json:"pass_host"`
	UpstreamHost string          `json:"upstream_host"`
	Retries      *int            `json:"retries"`
	HashOn       string          `json:"hash_on"`
	Key          string          `json:"key"`
	Timeout      *struct {
		Connect, Send, Read float64
	} `json:"timeout"`
	Checks        *restyChecks `json:"checks"`
	RetryTimeout  float64      `json:"retry_timeout"`
	DiscoveryType string       `json:"discovery_type"`
	ServiceName   string       `json:"service_name"`
	DiscoveryArgs *struct {
		NamespaceID string `json:"namespace_id"`
		GroupName   string `json:"group_name"`
	} `json:"discovery_args"`
}

var nameRe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// safeName turns an APISIX id or name into a Portico name.
func safeName(prefix string, name string, id any) string {
	if name == "" {
		name = fmt.Sprintf("%s_%v", prefix, id)
	}
	n := strings.Trim(nameRe.ReplaceAllString(name, "_"), "_")
	if n == "" {
		n = prefix
	}
	return n
}

func idString(id any) string {
	if id == nil {
		return ""
	}
	return fmt.Sprint(id)
}

// FromAPISIX converts an APISIX standalone configuration: upstreams by id
// become named upstreams, services become services, a route joins its
// service (routes without one join a service "apisix_routes"), APISIX path
// parameters (:id) become {id}, and the plugins Portico has are mapped.
func FromAPISIX(b []byte, project string) (Migration, error) {
	var m Migration
	b = []byte(strings.TrimSuffix(strings.TrimSpace(string(b)), "#END"))
	var f apisixFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return m, fmt.Errorf("read apisix.yaml: %w", err)
	}
	m.Document.Project = project
	upNames := map[string]string{}
	for _, u := range f.Upstreams {
		name := safeName("upstream", u.Name, u.ID)
		upNames[idString(u.ID)] = name
		up, err := apisixUpstreamOf(&m, "upstream "+name, &u.apisixUpstream)
		if err != nil {
			return m, err
		}
		up.Name = name
		m.Document.Upstreams = append(m.Document.Upstreams, up)
	}
	services := map[string]*spec.Service{}
	var order []string
	addService := func(key string, s spec.Service) *spec.Service {
		services[key] = &s
		order = append(order, key)
		return services[key]
	}
	for _, s := range f.Services {
		name := safeName("service", s.Name, s.ID)
		svc := spec.Service{Name: name, Description: s.Desc, Hosts: s.Hosts}
		if err := apisixServiceUpstream(&m, "service "+name, &svc, s.UpstreamID, s.Upstream, upNames); err != nil {
			return m, err
		}
		svc.Plugins = apisixPlugins(&m, "service "+name, s.Plugins)
		addService(idString(s.ID), svc)
	}
	for i, r := range f.Routes {
		key := idString(r.ServiceID)
		svc, ok := services[key]
		if key == "" || !ok {
			if key != "" {
				m.note("route %v: service %s does not exist; the route joins apisix_routes", r.ID, key)
			}
			key = "\x00routes"
			if svc, ok = services[key]; !ok {
				svc = addService(key, spec.Service{Name: "apisix_routes"})
			}
		}
		route := spec.Route{Name: safeName("route", r.Name, r.ID), Description: r.Desc, Methods: r.Methods, Hosts: r.Hosts}
		if r.Host != "" {
			route.Hosts = append(route.Hosts, r.Host)
		}
		uris := r.URIs
		if r.URI != "" {
			uris = append([]string{r.URI}, uris...)
		}
		for _, u := range uris {
			route.Paths = append(route.Paths, apisixPath(u))
		}
		if len(route.Paths) == 0 {
			m.note("route %s (#%d) has no uri; it answers on /%s", route.Name, i, route.Name)
		}
		route.Plugins = apisixPlugins(&m, "route "+route.Name, r.Plugins)
		if r.UpstreamID != nil || r.Upstream != nil {
			if svc.UpstreamID != "" || svc.Upstream != nil {
				m.note("route %s has its own upstream; Portico's upstream is per service, so the route keeps its service's", route.Name)
			} else if err := apisixServiceUpstream(&m, "route "+route.Name, svc, r.UpstreamID, r.Upstream, upNames); err != nil {
				return m, err
			}
		}
		svc.Routes = append(svc.Routes, route)
	}
	for _, k := range order {
		m.Document.Services = append(m.Document.Services, *services[k])
	}
	if err := apisixStreams(&m, f.StreamRoutes, upNames); err != nil {
		return m, err
	}
	Normalize(&m.Document, nil)
	return m, nil
}

// apisixPath turns /user/:id into /user/{id}; /* stays a wildcard.
func apisixPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") && len(s) > 1 {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func apisixServiceUpstream(m *Migration, where string, svc *spec.Service, id any, inline *apisixUpstream, names map[string]string) error {
	switch {
	case id != nil:
		name, ok := names[idString(id)]
		if !ok {
			m.note("%s: upstream %v does not exist in the file; set one before publishing", where, id)
			return nil
		}
		svc.UpstreamID = name
	case inline != nil:
		up, err := apisixUpstreamOf(m, where, inline)
		if err != nil {
			return err
		}
		svc.Upstream = &up
	}
	return nil
}

func apisixUpstreamOf(m *Migration, where string, u *apisixUpstream) (spec.Upstream, error) {
	up := spec.Upstream{Scheme: u.Scheme, PassHost: u.PassHost, UpstreamHost: u.UpstreamHost, Retries: u.Retries}
	switch u.Type {
	case "", "roundrobin":
	case "least_conn", "ewma":
		up.LoadBalancer = u.Type
	case "chash":
		up.LoadBalancer = u.Type
		up.HashOn = apisixHashOn(m, where, u)
	default:
		m.note("%s: balancer %q is not known; round robin is used", where, u.Type)
	}
	if up.Scheme != "" && up.Scheme != "http" && up.Scheme != "https" {
		m.note("%s: scheme %q is not supported; http is used", where, up.Scheme)
		up.Scheme = ""
	}
	if t := u.Timeout; t != nil {
		up.Timeout = &spec.Timeout{Connect: t.Connect, Send: t.Send, Read: t.Read}
	}
	up.Checks = restyHealthChecks(m, where, u.Checks, false)
	if u.RetryTimeout > 0 {
		up.RetryPolicy = &spec.RetryPolicy{Timeout: u.RetryTimeout}
	}
	if u.DiscoveryType != "" {
		up.Discovery = &spec.Discovery{Registry: safeName("registry", u.DiscoveryType, ""), ServiceName: u.ServiceName}
		if a := u.DiscoveryArgs; a != nil {
			up.Discovery.Namespace = a.NamespaceID
			if a.GroupName != "" {
				m.note("%s: discovery group %q: set it as the registry's service_group", where, a.GroupName)
			}
		}
		m.note("%s: discovered through %s: add a registry named %q to each gateway group before publishing", where, u.DiscoveryType, up.Discovery.Registry)
		return up, nil
	}
	var asMap map[string]int
	var asList []struct {
		Host   string `json:"host"`
		Port   int    `json:"port"`
		Weight int    `json:"weight"`
	}
	switch {
	case len(u.Nodes) == 0 || string(u.Nodes) == "null":
		m.note("%s has no nodes", where)
	case json.Unmarshal(u.Nodes, &asMap) == nil:
		addrs := make([]string, 0, len(asMap))
		for a := range asMap {
			addrs = append(addrs, a)
		}
		sort.Strings(addrs)
		for _, a := range addrs {
			host, port, err := splitHostPort(a, up.Scheme)
			if err != nil {
				return up, fmt.Errorf("%s: node %q: %w", where, a, err)
			}
			up.Nodes = append(up.Nodes, spec.Node{Host: host, Port: port, Weight: asMap[a]})
		}
	case json.Unmarshal(u.Nodes, &asList) == nil:
		for _, n := range asList {
			up.Nodes = append(up.Nodes, spec.Node{Host: n.Host, Port: n.Port, Weight: n.Weight})
		}
	default:
		return up, fmt.Errorf("%s: nodes are neither a map nor a list", where)
	}
	return up, nil
}

func splitHostPort(a, scheme string) (string, int, error) {
	host, p, err := net.SplitHostPort(a)
	if err != nil {
		if scheme == "https" {
			return a, 443, nil
		}
		return a, 80, nil
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return host, port, nil
}

// apisixPlugins maps APISIX plugin configurations to Portico's; a plugin
// or option without an equivalent is noted and left out.
func apisixPlugins(m *Migration, where string, in map[string]json.RawMessage) spec.Plugins {
	if len(in) == 0 {
		return nil
	}
	out := spec.Plugins{}
	names := make([]string, 0, len(in))
	for n := range in {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		var c map[string]any
		_ = json.Unmarshal(in[name], &c)
		target, cfg, ok := apisixPlugin(m, where, name, c)
		if !ok {
			m.note("%s: plugin %s has no Portico equivalent; left out", where, name)
			continue
		}
		raw, _ := json.Marshal(cfg)
		out[target] = raw
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func apisixPlugin(m *Migration, where, name string, c map[string]any) (string, map[string]any, bool) {
	str := func(k string) string { s, _ := c[k].(string); return s }
	num := func(k string) (float64, bool) { f, ok := c[k].(float64); return f, ok }
	cfg := map[string]any{}
	switch name {
	case "key-auth":
		if h := str("header"); h != "" {
			cfg["header"] = h
		}
		if q := str("query"); q != "" {
			cfg["query"] = q
		}
		return name, cfg, true
	case "basic-auth":
		return name, cfg, true
	case "jwt-auth":
		if h := str("header"); h != "" {
			cfg["header"] = h
		}
		if q := str("query"); q != "" {
			cfg["query"] = q
		}
		return name, cfg, true
	case "hmac-auth":
		m.note("%s: hmac-auth: APISIX signs a different string than Portico; clients must re-sign", where)
		return name, cfg, true
	case "limit-count", "limit-req":
		if name == "limit-count" {
			cfg["count"], _ = num("count")
			cfg["time_window"], _ = num("time_window")
		} else {
			cfg["rate"], _ = num("rate")
			cfg["burst"], _ = num("burst")
			if nd, ok := c["nodelay"].(bool); ok && nd {
				cfg["nodelay"] = true
			}
		}
		if k := apisixLimitKey(str("key")); k != "" {
			cfg["key"] = k
		} else if str("key") != "" {
			m.note("%s: %s key %q has no equivalent; counted per client address", where, name, str("key"))
		}
		switch p := str("policy"); p {
		case "", "local":
		case "redis", "redis-cluster":
			cfg["policy"] = "redis"
		default:
			m.note("%s: %s policy %q unknown; local", where, name, p)
		}
		if code, ok := num("rejected_code"); ok && code != 429 {
			m.note("%s: %s answers 429, not %v", where, name, code)
		}
		return name, cfg, true
	case "ip-restriction":
		for from, to := range map[string]string{"whitelist": "allow", "allowlist": "allow", "blacklist": "deny", "denylist": "deny"} {
			if v, ok := c[from]; ok {
				cfg[to] = v
			}
		}
		return name, cfg, true
	case "cors":
		for from, to := range map[string]string{"allow_origins": "allow_origins", "allow_methods": "allow_methods", "allow_headers": "allow_headers", "expose_headers": "expose_headers"} {
			if s := str(from); s != "" && s != "**" {
				cfg[to] = strings.Split(s, ",")
			}
		}
		if a, ok := num("max_age"); ok {
			cfg["max_age"] = a
		}
		return name, cfg, true
	case "proxy-rewrite":
		if u := str("uri"); u != "" {
			cfg["uri"] = u
		}
		if r, ok := c["regex_uri"]; ok {
			cfg["regex_uri"] = r
		}
		if h := str("host"); h != "" {
			cfg["host"] = h
		}
		if _, ok := c["headers"]; ok {
			m.note("%s: proxy-rewrite headers: set them again as proxy-rewrite headers {add, set, remove}", where)
		}
		return name, cfg, true
	case "client-control":
		if n, ok := num("max_body_size"); ok {
			return "request-size-limit", map[string]any{"max_bytes": n}, true
		}
	case "mocking":
		if s, ok := num("response_status"); ok {
			cfg["status"] = s
		}
		if ex := str("response_example"); ex != "" {
			cfg["body"] = ex
		}
		if ct := str("content_type"); ct != "" {
			cfg["headers"] = map[string]string{"Content-Type": ct}
		}
		return "mock", cfg, true
	}
	return "", nil, false
}

// apisixLimitKey maps an APISIX limit key to Portico's.
func apisixLimitKey(k string) string {
	switch {
	case k == "" || k == "remote_addr":
		return ""
	case k == "consumer_name":
		return "consumer"
	case k == "route_id" || k == "service_id":
		return "route"
	case strings.HasPrefix(k, "http_"):
		return "header:" + strings.ReplaceAll(strings.TrimPrefix(k, "http_"), "_", "-")
	}
	return ""
}

// apisixHashOn maps APISIX's chash hash_on and key to an upstream's
// hash_on; what has no equivalent hashes the client's address, and is
// noted.
func apisixHashOn(m *Migration, where string, u *apisixUpstream) string {
	var on string
	switch u.HashOn {
	case "", "vars":
		switch {
		case u.Key == "" || u.Key == "remote_addr":
			on = spec.HashIP
		case u.Key == "uri":
			on = spec.HashURI
		case strings.HasPrefix(u.Key, "arg_"):
			on = spec.HashQuery + ":" + strings.TrimPrefix(u.Key, "arg_")
		case strings.HasPrefix(u.Key, "http_"):
			on = spec.HashHeader + ":" + strings.ReplaceAll(strings.TrimPrefix(u.Key, "http_"), "_", "-")
		case strings.HasPrefix(u.Key, "cookie_"):
			on = spec.HashCookie + ":" + strings.TrimPrefix(u.Key, "cookie_")
		}
	case "header":
		on = spec.HashHeader + ":" + u.Key
	case "cookie":
		on = spec.HashCookie + ":" + u.Key
	case "consumer":
		on = spec.HashConsumer
	}
	if _, _, ok := spec.ParseUpstreamHashOn(on); !ok || on == "" {
		m.note("%s: chash on %s %q has no equivalent; the client's address is hashed", where, u.HashOn, u.Key)
		return spec.HashIP
	}
	return on
}
