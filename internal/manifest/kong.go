package manifest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/portico-gw/portico/internal/spec"
)

// kongFile is the part of a Kong decK file (kong.yaml) Portico reads.
type kongFile struct {
	Services  []kongService  `json:"services"`
	Upstreams []kongUpstream `json:"upstreams"`
	Plugins   []kongPlugin   `json:"plugins"`
	Consumers []any          `json:"consumers"`
}

type kongService struct {
	Name     string       `json:"name"`
	URL      string       `json:"url"`
	Protocol string       `json:"protocol"`
	Host     string       `json:"host"`
	Port     int          `json:"port"`
	Path     string       `json:"path"`
	Retries  *int         `json:"retries"`
	Routes   []kongRoute  `json:"routes"`
	Plugins  []kongPlugin `json:"plugins"`
	// Timeouts in milliseconds.
	ConnectTimeout float64 `json:"connect_timeout"`
	ReadTimeout    float64 `json:"read_timeout"`
	WriteTimeout   float64 `json:"write_timeout"`
}

type kongRoute struct {
	Name      string       `json:"name"`
	Paths     []string     `json:"paths"`
	Methods   []string     `json:"methods"`
	Hosts     []string     `json:"hosts"`
	StripPath *bool        `json:"strip_path"`
	Plugins   []kongPlugin `json:"plugins"`
}

type kongUpstream struct {
	Name    string `json:"name"`
	Targets []struct {
		Target string `json:"target"`
		Weight *int   `json:"weight"`
	} `json:"targets"`
	Algorithm    string       `json:"algorithm"`
	HashOn       string       `json:"hash_on"`
	HashOnHeader string       `json:"hash_on_header"`
	HashOnCookie string       `json:"hash_on_cookie"`
	HashOnQuery  string       `json:"hash_on_query_arg"`
	HashFallback string       `json:"hash_fallback"`
	Healthchecks *restyChecks `json:"healthchecks"`
}

type kongPlugin struct {
	Name    string         `json:"name"`
	Enabled *bool          `json:"enabled"`
	Config  map[string]any `json:"config"`
}

// FromKong converts a Kong decK file: each service with its routes; a
// service whose host names a Kong upstream uses it; Kong's prefix paths
// become an exact and a wildcard path, and strip_path (Kong's default)
// becomes a proxy-rewrite; the plugins Portico has are mapped.
func FromKong(b []byte, project string) (Migration, error) {
	var m Migration
	var f kongFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return m, fmt.Errorf("read kong.yaml: %w", err)
	}
	m.Document.Project = project
	ups := map[string]bool{}
	for _, u := range f.Upstreams {
		name := safeName("upstream", u.Name, "")
		up := spec.Upstream{Name: name}
		switch u.Algorithm {
		case "", "round-robin":
		case "least-connections":
			up.LoadBalancer = "least_conn"
		case "latency":
			up.LoadBalancer = "ewma"
		case "consistent-hashing":
			up.LoadBalancer = "chash"
			up.HashOn = kongHashOn(&m, u)
		default:
			m.note("upstream %s: algorithm %q is not known; round robin is used", u.Name, u.Algorithm)
		}
		for _, t := range u.Targets {
			host, port, err := splitHostPort(t.Target, "")
			if err != nil {
				return m, fmt.Errorf("upstream %s: target %q: %w", u.Name, t.Target, err)
			}
			w := 100
			if t.Weight != nil {
				w = *t.Weight
			}
			up.Nodes = append(up.Nodes, spec.Node{Host: host, Port: port, Weight: w})
		}
		up.Checks = restyHealthChecks(&m, "upstream "+u.Name, u.Healthchecks, true)
		ups[u.Name] = true
		m.Document.Upstreams = append(m.Document.Upstreams, up)
	}
	if len(f.Plugins) > 0 {
		m.note("%d global plugin(s): Portico has no global plugins; set them on each service", len(f.Plugins))
	}
	if len(f.Consumers) > 0 {
		m.note("%d consumer(s): create them as applications with credentials (their secrets are not in a decK file you should trust)", len(f.Consumers))
	}
	for _, ks := range f.Services {
		svc, err := kongServiceOf(&m, &ks, ups)
		if err != nil {
			return m, err
		}
		m.Document.Services = append(m.Document.Services, svc)
	}
	Normalize(&m.Document, nil)
	return m, nil
}

func kongServiceOf(m *Migration, ks *kongService, ups map[string]bool) (spec.Service, error) {
	name := safeName("service", ks.Name, "")
	svc := spec.Service{Name: name}
	scheme, host, port, base := ks.Protocol, ks.Host, ks.Port, ks.Path
	if ks.URL != "" {
		u, err := url.Parse(ks.URL)
		if err != nil {
			return svc, fmt.Errorf("service %s: url %q: %w", ks.Name, ks.URL, err)
		}
		scheme, host, base = u.Scheme, u.Hostname(), u.Path
		port, _ = strconv.Atoi(u.Port())
	}
	switch scheme {
	case "", "http", "https":
	default:
		m.note("service %s: protocol %q is not supported; http is used", name, scheme)
		scheme = "http"
	}
	if port == 0 {
		port = 80
		if scheme == "https" {
			port = 443
		}
	}
	if ups[host] {
		svc.UpstreamID = safeName("upstream", host, "")
	} else if host != "" {
		svc.Upstream = &spec.Upstream{Scheme: scheme, Nodes: []spec.Node{{Host: host, Port: port, Weight: 100}}, Retries: ks.Retries}
		if ks.ConnectTimeout > 0 || ks.ReadTimeout > 0 || ks.WriteTimeout > 0 {
			svc.Upstream.Timeout = &spec.Timeout{Connect: ks.ConnectTimeout / 1000, Read: ks.ReadTimeout / 1000, Send: ks.WriteTimeout / 1000}
		}
	}
	svc.Plugins = kongPlugins(m, "service "+name, ks.Plugins)
	base = strings.TrimRight(base, "/")
	for i, kr := range ks.Routes {
		r := spec.Route{Name: safeName("route", kr.Name, fmt.Sprintf("%s_%d", name, i)), Methods: kr.Methods, Hosts: kr.Hosts}
		r.Plugins = kongPlugins(m, "route "+r.Name, kr.Plugins)
		strip := kr.StripPath == nil || *kr.StripPath
		for _, p := range kr.Paths {
			if strings.HasPrefix(p, "~") {
				m.note("route %s: regex path %q is not supported; left out", r.Name, p)
				continue
			}
			p = "/" + strings.Trim(p, "/")
			if p == "/" {
				r.Paths = append(r.Paths, "/*")
			} else {
				r.Paths = append(r.Paths, p, p+"/*")
			}
			if strip || base != "" {
				// Kong sends the service path plus what follows the
				// matched prefix (strip_path) or the whole path.
				from, to := "^"+regexpQuote(p)+"/?(.*)", base+"/$1"
				if !strip {
					from, to = "^(.*)", base+"$1"
				}
				if len(kr.Paths) > 1 {
					m.note("route %s: several paths with strip_path: the rewrite of the first applies to all", r.Name)
				}
				if r.Plugins == nil {
					r.Plugins = spec.Plugins{}
				}
				if _, set := r.Plugins["proxy-rewrite"]; !set {
					raw, _ := json.Marshal(map[string]any{"regex_uri": []string{from, to}})
					r.Plugins["proxy-rewrite"] = raw
				}
			}
		}
		svc.Routes = append(svc.Routes, r)
	}
	return svc, nil
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func kongPlugins(m *Migration, where string, in []kongPlugin) spec.Plugins {
	out := spec.Plugins{}
	sort.Slice(in, func(i, j int) bool { return in[i].Name < in[j].Name })
	for _, p := range in {
		if p.Enabled != nil && !*p.Enabled {
			m.note("%s: plugin %s is disabled; left out", where, p.Name)
			continue
		}
		name, cfg, ok := mapKongPlugin(m, where, p.Name, p.Config)
		if !ok {
			m.note("%s: plugin %s has no Portico equivalent; left out", where, p.Name)
			continue
		}
		raw, _ := json.Marshal(cfg)
		out[name] = raw
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func mapKongPlugin(m *Migration, where, name string, c map[string]any) (string, map[string]any, bool) {
	cfg := map[string]any{}
	strs := func(k string) []string {
		var out []string
		if l, ok := c[k].([]any); ok {
			for _, v := range l {
				if s, ok := v.(string); ok {
					out = append(out, s)
				}
			}
		}
		return out
	}
	switch name {
	case "key-auth":
		names := strs("key_names")
		key := "apikey"
		if len(names) > 0 {
			key = names[0]
		}
		if len(names) > 1 {
			m.note("%s: key-auth reads one name; %q is used", where, key)
		}
		if v, ok := c["key_in_header"].(bool); !ok || v {
			cfg["header"] = key
		}
		if v, ok := c["key_in_query"].(bool); !ok || v {
			cfg["query"] = key
		}
		return name, cfg, true
	case "basic-auth":
		return name, cfg, true
	case "jwt":
		m.note("%s: jwt: Portico reads the credential from the `key` claim, Kong from `iss`; reissue tokens or set key_claim_name to key", where)
		return "jwt-auth", cfg, true
	case "hmac-auth":
		m.note("%s: hmac-auth: Kong signs a different string than Portico; clients must re-sign", where)
		return name, cfg, true
	case "rate-limiting":
		for _, w := range []struct {
			key    string
			window float64
		}{{"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}, {"month", 2592000}, {"year", 31536000}} {
			if n, ok := c[w.key].(float64); ok && n > 0 {
				if _, set := cfg["count"]; set {
					m.note("%s: rate-limiting: only the shortest window (%v s) is kept", where, cfg["time_window"])
					continue
				}
				cfg["count"], cfg["time_window"] = n, w.window
			}
		}
		switch c["limit_by"] {
		case nil, "ip":
		case "consumer", "credential":
			cfg["key"] = "consumer"
		case "header":
			if h, ok := c["header_name"].(string); ok {
				cfg["key"] = "header:" + h
			}
		default:
			m.note("%s: rate-limiting limit_by %v is counted per client address", where, c["limit_by"])
		}
		if c["policy"] == "redis" {
			cfg["policy"] = "redis"
		}
		return "limit-count", cfg, true
	case "ip-restriction":
		if a := strs("allow"); a != nil {
			cfg["allow"] = a
		}
		if d := strs("deny"); d != nil {
			cfg["deny"] = d
		}
		return name, cfg, true
	case "cors":
		for from, to := range map[string]string{"origins": "allow_origins", "methods": "allow_methods", "headers": "allow_headers", "exposed_headers": "expose_headers"} {
			if v := strs(from); v != nil {
				cfg[to] = v
			}
		}
		if a, ok := c["max_age"].(float64); ok {
			cfg["max_age"] = a
		}
		return name, cfg, true
	case "request-size-limiting":
		size, ok := c["allowed_payload_size"].(float64)
		if !ok {
			size = 128
		}
		unit := float64(1 << 20)
		if c["size_unit"] == "kilobytes" {
			unit = 1 << 10
		} else if c["size_unit"] == "bytes" {
			unit = 1
		}
		return "request-size-limit", map[string]any{"max_bytes": size * unit}, true
	}
	return "", nil, false
}

// kongHashOn maps Kong's hash_on (and its hash_on_* name) to an upstream's;
// what has no equivalent hashes the client's address, and is noted.
func kongHashOn(m *Migration, u kongUpstream) string {
	var on string
	switch u.HashOn {
	case "", "none", "ip":
		on = spec.HashIP
	case "consumer":
		on = spec.HashConsumer
	case "path":
		on = spec.HashURI
	case "header":
		on = spec.HashHeader + ":" + u.HashOnHeader
	case "cookie":
		on = spec.HashCookie + ":" + u.HashOnCookie
	case "query_arg":
		on = spec.HashQuery + ":" + u.HashOnQuery
	}
	if _, _, ok := spec.ParseUpstreamHashOn(on); !ok {
		m.note("upstream %s: hash_on %q has no equivalent; the client's address is hashed", u.Name, u.HashOn)
		return spec.HashIP
	}
	if u.HashFallback != "" && u.HashFallback != "none" {
		m.note("upstream %s: hash_fallback %q is not carried over: a request without the key is balanced round robin", u.Name, u.HashFallback)
	}
	return on
}
