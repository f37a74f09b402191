package routing

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin/iprestriction"
	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

// DefaultStreamIdle ends a relayed connection that moved no byte either
// way for this long, unless its upstream's timeout.read says otherwise
// (nginx's proxy_timeout is ten minutes too).
const DefaultStreamIdle = 10 * time.Minute

// StreamRoute is a compiled stream route: what a connection arriving on
// its listener needs, built once.
type StreamRoute struct {
	Group, ProjectID, ServiceID, ServiceName, Name string
	Listener                                       string
	TLS                                            string // spec.StreamPlain, StreamPassthrough or StreamTerminate
	Upstream                                       *upstream.Pool
	// Idle ends a connection that moved nothing for this long.
	Idle     time.Duration
	sni      []string              // the server names it takes; none: the listener's default
	allow    *iprestriction.Filter // nil: every client
	conns    *atomic.Int64         // open connections, kept across reloads
	maxConns int64                 // 0: no limit
}

// Allowed reports whether a client at addr may connect.
func (r *StreamRoute) Allowed(addr netip.Addr) bool {
	return r.allow == nil || r.allow.Allowed(addr)
}

// Acquire counts a connection in, unless the route's limit-conn is
// reached; a connection acquired is Released once closed.
func (r *StreamRoute) Acquire() bool {
	n := r.conns.Add(1)
	if r.maxConns > 0 && n > r.maxConns {
		r.conns.Add(-1)
		return false
	}
	return true
}

// Release counts a connection Acquire admitted out.
func (r *StreamRoute) Release() { r.conns.Add(-1) }

// StreamConns keeps the open-connection counts of stream routes across
// reloads, so a new table does not reset limit-conn. Nil: fresh counts.
type StreamConns struct{ m sync.Map }

func (s *StreamConns) get(key string) *atomic.Int64 {
	if s == nil {
		return new(atomic.Int64)
	}
	v, _ := s.m.LoadOrStore(key, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// streamListener is what one listener answers: routes by the server name
// a TLS client asks for, and a default for the rest.
type streamListener struct {
	exact map[string]*StreamRoute
	wild  map[string]*StreamRoute // by the suffix after "*."
	def   *StreamRoute
	// readsHello: a route wants TLS, so the listener reads a client's
	// first bytes (a ClientHello) before it picks the route.
	readsHello bool
}

// streamIndex is the stream routes of a table by listener.
type streamIndex map[string]*streamListener

// streamKey keys a stream service in Table.streamServices.
func streamKey(group, serviceID string) string { return group + "\x00" + serviceID }

// Stream finds the route of a connection on listener asking for server
// name sni ("" when it sent none, or is not TLS): the exact name, then a
// wildcard of one label, then the listener's default; nil when none.
func (t *Table) Stream(listener, sni string) *StreamRoute {
	l := t.streams[listener]
	if l == nil {
		return nil
	}
	if sni != "" {
		sni = strings.ToLower(strings.TrimSuffix(sni, "."))
		if r := l.exact[sni]; r != nil {
			return r
		}
		if i := strings.IndexByte(sni, '.'); i > 0 {
			if r := l.wild[sni[i+1:]]; r != nil {
				return r
			}
		}
	}
	return l.def
}

// StreamReadsHello reports whether a connection on listener must show its
// first bytes before its route is known: some route there wants TLS. A
// listener of plain routes only relays at once, so protocols whose server
// speaks first (MySQL, SMTP) work.
func (t *Table) StreamReadsHello(listener string) bool {
	l := t.streams[listener]
	return l != nil && l.readsHello
}

// StreamRouteCount is how many stream routes the table holds.
func (t *Table) StreamRouteCount() int {
	n := 0
	for _, routes := range t.streamServices {
		n += len(routes)
	}
	return n
}

// StreamListeners are the listeners the table's stream routes name.
func (t *Table) StreamListeners() []string {
	return slices.Sorted(maps.Keys(t.streams))
}

// compileStream compiles a stream service's routes.
func compileStream(fe *spec.FieldErrors, deps Deps, g spec.GatewayGroup, ds *spec.DeployedService) []*StreamRoute {
	svc := &ds.Service
	field := fmt.Sprintf("services[%s]", svc.Name)
	if ds.Canary != nil {
		fe.Add(field+".canary", `a service of type "stream" takes no canary release`)
	}
	if len(svc.Routes) > 0 {
		fe.Add(field+".routes", `a service of type "stream" has no HTTP routes`)
	}
	*fe = append(*fe, spec.StreamUpstreamErrors(field+".upstream.", &ds.Upstream)...)
	u := ds.Upstream
	if u.Scheme == "" {
		u.Scheme = "tcp"
	}
	pool := upstreamPool(fe, field+".upstream", deps, upstream.Owner{Group: g.Name, Service: svc.Name}, &u)
	idle := DefaultStreamIdle
	if ds.Upstream.Timeout != nil && ds.Upstream.Timeout.Read > 0 {
		idle = time.Duration(ds.Upstream.Timeout.Read * float64(time.Second))
	}
	var out []*StreamRoute
	claimed := map[string]string{} // listener and server name → route
	for i := range svc.StreamRoutes {
		sr := &svc.StreamRoutes[i]
		rf := fmt.Sprintf("%s.stream_routes[%s]", field, sr.Name)
		r := &StreamRoute{Group: g.Name, ProjectID: ds.ProjectID, ServiceID: svc.ID, ServiceName: svc.Name, Name: sr.Name,
			Listener: sr.Listener, TLS: sr.TLS, Upstream: pool, Idle: idle, sni: sr.SNI,
			conns: deps.StreamConns.get(g.Name + "\x00" + svc.ID + "\x00" + sr.Name)}
		if err := compileStreamPlugins(r, sr.Plugins); err != nil {
			addPrefixed(fe, rf+".plugins", err)
		}
		names := sr.SNI
		if len(names) == 0 {
			names = []string{""}
		}
		for _, name := range names {
			key := sr.Listener + " " + name
			if other, ok := claimed[key]; ok {
				what := "connections without a server name it claims"
				if name != "" {
					what = "server name " + name
				}
				fe.Add(rf, "takes %s on listener %q, as route %q does", what, sr.Listener, other)
			}
			claimed[key] = sr.Name
		}
		out = append(out, r)
	}
	return out
}

// CheckStreamPlugins checks a stream route's plugins as the gateway's
// compiler does.
func CheckStreamPlugins(field string, p spec.Plugins) error {
	err := compileStreamPlugins(&StreamRoute{}, p)
	if err == nil {
		return nil
	}
	var fe spec.FieldErrors
	addPrefixed(&fe, field, err)
	return fe.Err()
}

// limitConnConfig is the limit-conn plugin of a stream route.
type limitConnConfig struct {
	// Conn is how many connections of the route one gateway keeps open
	// at once; the next is closed as it arrives.
	Conn int64 `json:"conn"`
}

// StreamConfigType is the type a stream route's plugin name's
// configuration is decoded into (false: no such stream plugin).
func StreamConfigType(name string) (reflect.Type, bool) {
	switch name {
	case spec.StreamIPRestriction:
		return reflect.TypeFor[iprestriction.Config](), true
	case spec.StreamLimitConn:
		return reflect.TypeFor[limitConnConfig](), true
	}
	return nil, false
}

func compileStreamPlugins(r *StreamRoute, p spec.Plugins) error {
	var fe spec.FieldErrors
	for _, name := range slices.Sorted(maps.Keys(p)) {
		raw := p[name]
		switch name {
		case spec.StreamIPRestriction:
			var cfg iprestriction.Config
			if err := decodeStrict(raw, &cfg); err != nil {
				fe.Add(name, "%v", err)
				continue
			}
			if len(cfg.TrustedProxies) > 0 {
				fe.Add(name+".trusted_proxies", "a stream connection carries no X-Forwarded-For: its peer is the client")
				continue
			}
			f, err := iprestriction.New(cfg)
			if err != nil {
				fe.Add(name, "%v", err)
				continue
			}
			r.allow = f
		case spec.StreamLimitConn:
			var cfg limitConnConfig
			if err := decodeStrict(raw, &cfg); err != nil {
				fe.Add(name, "%v", err)
				continue
			}
			if cfg.Conn < 1 {
				fe.Add(name+".conn", "must be at least 1")
				continue
			}
			r.maxConns = cfg.Conn
		default:
			fe.Add(name, "is not a stream plugin (ip-restriction and limit-conn are)")
		}
	}
	return fe.Err()
}

// addPrefixed adds err's field errors under prefix.
func addPrefixed(fe *spec.FieldErrors, prefix string, err error) {
	if sub, ok := errors.AsType[spec.FieldErrors](err); ok {
		for _, e := range sub {
			fe.Add(prefix+"."+e.Field, "%s", e.Message)
		}
		return
	}
	fe.Add(prefix, "%v", err)
}

// buildStreamIndex indexes the stream routes of services by listener. Of
// two routes of different groups claiming one listener and name (the
// release checks keep them apart within a group), the group first by name
// takes it, so every gateway picks the same.
func buildStreamIndex(services map[string][]*StreamRoute) streamIndex {
	if len(services) == 0 {
		return nil
	}
	idx := streamIndex{}
	for _, key := range slices.Sorted(maps.Keys(services)) {
		for _, r := range services[key] {
			l := idx[r.Listener]
			if l == nil {
				l = &streamListener{exact: map[string]*StreamRoute{}, wild: map[string]*StreamRoute{}}
				idx[r.Listener] = l
			}
			l.readsHello = l.readsHello || r.TLS != spec.StreamPlain
			names := r.sni
			if len(names) == 0 && l.def == nil {
				l.def = r
			}
			for _, name := range names {
				m, k := l.exact, name
				if suffix, ok := strings.CutPrefix(name, "*."); ok {
					m, k = l.wild, suffix
				}
				if _, taken := m[k]; !taken {
					m[k] = r
				}
			}
		}
	}
	return idx
}
