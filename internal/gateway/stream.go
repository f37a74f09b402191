package gateway

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/gateway/streamproxy"
	"github.com/portico-gw/portico/internal/spec"
)

// ParseStreamAddrs reads --gateway-stream-addr values, NAME=ADDR each
// (redis=:6380), into listeners by name.
func ParseStreamAddrs(values []string) (map[string]string, error) {
	out := make(map[string]string, len(values))
	for _, v := range values {
		name, addr, ok := strings.Cut(v, "=")
		switch {
		case !ok || addr == "":
			return nil, fmt.Errorf("stream listener %q: want NAME=ADDR, e.g. redis=:6380", v)
		case !spec.ValidListenerName(name):
			return nil, fmt.Errorf("stream listener %q: the name must be lower-case letters, digits, '_' or '-' (at most 63)", v)
		case out[name] != "":
			return nil, fmt.Errorf("stream listener %q is given twice", name)
		}
		out[name] = addr
	}
	return out, nil
}

// streams are a gateway's stream listeners and their servers.
type streams struct {
	listeners map[string]net.Listener
	servers   map[string]*streamproxy.Server
}

// listenStreams opens the stream listeners; on an error none stays open.
func listenStreams(addrs map[string]string) (*streams, error) {
	s := &streams{listeners: map[string]net.Listener{}, servers: map[string]*streamproxy.Server{}}
	for _, name := range slices.Sorted(maps.Keys(addrs)) {
		ln, err := net.Listen("tcp", addrs[name])
		if err != nil {
			s.close()
			return nil, fmt.Errorf("listen on stream listener %s (%s): %w", name, addrs[name], err)
		}
		s.listeners[name] = ln
	}
	return s, nil
}

func (s *streams) close() {
	for _, ln := range s.listeners {
		_ = ln.Close()
	}
}

// bound are the listeners' addresses by name (nil: none).
func (s *streams) bound() map[string]string {
	if len(s.listeners) == 0 {
		return nil
	}
	out := make(map[string]string, len(s.listeners))
	for name, ln := range s.listeners {
		out[name] = ln.Addr().String()
	}
	return out
}

// serve starts a server per listener; each runs until shutdown.
func (s *streams) serve(table *atomic.Pointer[routing.Table], m *metrics, log *slog.Logger, run func(name string, serve func() error)) {
	terminate := streamTLSConfig(table)
	for name, ln := range s.listeners {
		srv := &streamproxy.Server{Name: name, Table: table, Terminate: terminate, Observer: m.streams, Logger: log}
		s.servers[name] = srv
		run(name, func() error { return srv.Serve(ln) })
	}
}

// streamTLSConfig is the handshake of stream routes that terminate TLS:
// the group's certificates by SNI, as HTTPS; a certificate that names a
// client CA requires a client certificate it signed, since no plugin of a
// stream route could refuse a connection without one later.
func streamTLSConfig(table *atomic.Pointer[routing.Table]) *tls.Config {
	c := ServerTLSConfig()
	c.GetCertificate = certificateOf(table)
	c.GetConfigForClient = clientCAConfig(table, c.Clone(), tls.RequireAndVerifyClientCert)
	return c
}

// shutdown stops every stream server, each waiting for its connections
// until ctx ends.
func (s *streams) shutdown(ctx context.Context, log *slog.Logger) {
	for name, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("stream connections still open at the end of the drain; closed", "listener", name)
		}
	}
}

// warnUnserved logs the stream listeners the table's routes name that
// this gateway does not have (those routes are served nowhere here) when
// they differ from what it warned of last, and returns them.
func warnUnserved(t *routing.Table, have map[string]string, last string, log *slog.Logger) string {
	var missing []string
	for _, name := range t.StreamListeners() {
		if _, ok := have[name]; !ok {
			missing = append(missing, name)
		}
	}
	now := strings.Join(missing, ",")
	if now != "" && now != last {
		log.Warn("stream routes name listeners this gateway does not have (--gateway-stream-addr)", "listeners", missing)
	}
	return now
}

// streamMetrics are the stream listeners' series (streamproxy.Observer).
type streamMetrics struct {
	connections *prometheus.CounterVec
	active      *prometheus.GaugeVec
	bytes       *prometheus.CounterVec
}

func newStreamMetrics() *streamMetrics {
	return &streamMetrics{
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_stream_connections_total",
			Help: "Connections on stream listeners by listener, group, service, route and result: proxied, no_route, forbidden, limited, client_silent, handshake_failed, upstream_unavailable, upstream_tls.",
		}, []string{"listener", "group", "service", "route", "result"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portico_stream_active_connections",
			Help: "Connections being relayed, by stream route.",
		}, []string{"listener", "group", "service", "route"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_stream_bytes_total",
			Help: "Bytes relayed by ended connections, by stream route and direction: received (from clients) or sent (to clients).",
		}, []string{"listener", "group", "service", "route", "direction"}),
	}
}

func (s *streamMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{s.connections, s.active, s.bytes}
}

func (s *streamMetrics) Refused(listener string, rt *routing.StreamRoute, result string) {
	if rt == nil {
		s.connections.WithLabelValues(listener, "", "", "", result).Inc()
		return
	}
	s.connections.WithLabelValues(listener, rt.Group, rt.ServiceName, rt.Name, result).Inc()
}

func (s *streamMetrics) Opened(rt *routing.StreamRoute) {
	s.connections.WithLabelValues(rt.Listener, rt.Group, rt.ServiceName, rt.Name, streamproxy.ResultProxied).Inc()
	s.active.WithLabelValues(rt.Listener, rt.Group, rt.ServiceName, rt.Name).Inc()
}

func (s *streamMetrics) Closed(rt *routing.StreamRoute, fromClient, toClient int64) {
	s.active.WithLabelValues(rt.Listener, rt.Group, rt.ServiceName, rt.Name).Dec()
	s.bytes.WithLabelValues(rt.Listener, rt.Group, rt.ServiceName, rt.Name, "received").Add(float64(fromClient))
	s.bytes.WithLabelValues(rt.Listener, rt.Group, rt.ServiceName, rt.Name, "sent").Add(float64(toClient))
}

// certificateOf picks the certificate of the name a client asks for from
// the table served at the handshake.
func certificateOf(table *atomic.Pointer[routing.Table]) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		t := table.Load()
		if t == nil {
			return nil, errNoConfig
		}
		return t.Certificate(hello)
	}
}
