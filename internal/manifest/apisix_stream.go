package manifest

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/portico-gw/portico/internal/spec"
)

// apisixStreamRoute is an APISIX stream route (layer 4).
type apisixStreamRoute struct {
	ID         any                        `json:"id"`
	Name       string                     `json:"name"`
	Desc       string                     `json:"desc"`
	ServerAddr string                     `json:"server_addr"`
	ServerPort int                        `json:"server_port"`
	RemoteAddr string                     `json:"remote_addr"`
	SNI        string                     `json:"sni"`
	UpstreamID any                        `json:"upstream_id"`
	Upstream   *apisixUpstream            `json:"upstream"`
	ServiceID  any                        `json:"service_id"`
	Plugins    map[string]json.RawMessage `json:"plugins"`
}

// apisixStreams turns each APISIX stream route into a stream service (a
// Portico stream service has one upstream): its listener is named after
// the APISIX port ("port-9100", to be opened on the gateways with
// --gateway-stream-addr port-9100=:9100), an sni makes it a TLS route
// terminated with the group's certificates (as APISIX does with its SSL
// objects), remote_addr becomes ip-restriction, limit-conn keeps conn.
func apisixStreams(m *Migration, routes []apisixStreamRoute, upNames map[string]string) error {
	ports := map[string]bool{}
	for _, r := range routes {
		name := "stream_" + safeName("route", r.Name, r.ID)
		where := "stream route " + name
		svc := spec.Service{Name: name, Description: r.Desc, Type: spec.ServiceStream}
		listener := "stream"
		if r.ServerPort != 0 {
			listener = fmt.Sprintf("port-%d", r.ServerPort)
		}
		if !ports[listener] {
			ports[listener] = true
			m.note("%s: give the gateways the stream listener %s (--gateway-stream-addr %s=%s)", where, listener, listener, listenAddr(r))
		}
		route := spec.StreamRoute{Name: "main", Listener: listener}
		if r.SNI != "" {
			route.TLS, route.SNI = spec.StreamTerminate, []string{r.SNI}
			m.note("%s: TLS for %s ends at the gateway; add its certificate to the group", where, r.SNI)
		}
		if r.ServiceID != nil {
			m.note("%s: service %v is not carried over; the route's own upstream and plugins are", where, r.ServiceID)
		}
		switch {
		case r.UpstreamID != nil:
			up, ok := upNames[idString(r.UpstreamID)]
			if !ok {
				m.note("%s: upstream %v does not exist in the file; set one before publishing", where, r.UpstreamID)
				break
			}
			m.note("%s: uses upstream %s, which must be of scheme tcp or tls to serve it", where, up)
			svc.UpstreamID = up
		case r.Upstream != nil:
			scheme := r.Upstream.Scheme
			u := *r.Upstream
			u.Scheme = ""
			up, err := apisixUpstreamOf(m, where, &u)
			if err != nil {
				return err
			}
			switch scheme {
			case "", "tcp":
				up.Scheme = "tcp"
			case "tls":
				up.Scheme = "tls"
			default:
				m.note("%s: upstream scheme %q is not a stream scheme; tcp is used", where, scheme)
				up.Scheme = "tcp"
			}
			svc.Upstream = &up
		}
		route.Plugins = apisixStreamPlugins(m, where, r)
		svc.StreamRoutes = []spec.StreamRoute{route}
		m.Document.Services = append(m.Document.Services, svc)
	}
	return nil
}

func listenAddr(r apisixStreamRoute) string {
	if r.ServerPort == 0 {
		return ":PORT"
	}
	return fmt.Sprintf("%s:%d", r.ServerAddr, r.ServerPort)
}

// apisixStreamPlugins maps remote_addr and the stream plugins Portico
// has: ip-restriction and limit-conn's conn.
func apisixStreamPlugins(m *Migration, where string, r apisixStreamRoute) spec.Plugins {
	out := spec.Plugins{}
	var allow []any
	if r.RemoteAddr != "" {
		allow = append(allow, r.RemoteAddr)
	}
	names := make([]string, 0, len(r.Plugins))
	for n := range r.Plugins {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		var c map[string]any
		_ = json.Unmarshal(r.Plugins[name], &c)
		switch name {
		case "ip-restriction":
			_, cfg, _ := apisixPlugin(m, where, name, c)
			if a, ok := cfg["allow"].([]any); ok {
				allow = append(allow, a...)
			}
			if d, ok := cfg["deny"]; ok {
				out[name] = mustJSON(map[string]any{"deny": d})
			}
		case "limit-conn":
			conn, _ := c["conn"].(float64)
			out[name] = mustJSON(map[string]any{"conn": int(conn)})
			if burst, _ := c["burst"].(float64); burst > 0 {
				m.note("%s: limit-conn burst %v is not carried over: connections over conn are closed, not delayed", where, burst)
			}
		default:
			m.note("%s: plugin %s has no Portico stream equivalent; left out", where, name)
		}
	}
	if len(allow) > 0 {
		cfg := map[string]any{"allow": allow}
		if raw, ok := out["ip-restriction"]; ok {
			var deny map[string]any
			_ = json.Unmarshal(raw, &deny)
			cfg["deny"] = deny["deny"]
		}
		out["ip-restriction"] = mustJSON(cfg)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
