// Package streamproxy serves a gateway's stream listeners (layer 4): each
// TCP connection is matched to a stream route of the table served — by
// the listener it arrived on and, over TLS, by the server name its
// ClientHello asks for — checked against the route's ip-restriction and
// limit-conn, and relayed byte for byte to the route's upstream: as it
// came (plain or TLS passthrough), or decrypted at the gateway (TLS
// termination), over TCP or TLS to the upstream.
package streamproxy

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

// DefaultHelloTimeout bounds how long a connection on a listener that
// reads TLS may take to send its ClientHello, and a terminated
// connection its whole handshake.
const DefaultHelloTimeout = 10 * time.Second

// Outcomes of a connection, as Observer.Refused and the metrics name them.
const (
	ResultProxied             = "proxied"
	ResultNoRoute             = "no_route"
	ResultForbidden           = "forbidden"            // ip-restriction
	ResultLimited             = "limited"              // limit-conn
	ResultSilent              = "client_silent"        // nothing arrived before the hello timeout
	ResultHandshakeFailed     = "handshake_failed"     // TLS termination failed
	ResultUpstreamUnavailable = "upstream_unavailable" // no node could be reached
	ResultUpstreamTLS         = "upstream_tls"         // the upstream's TLS handshake failed
)

// Observer is told what becomes of each connection.
type Observer interface {
	// Refused: the connection was closed without reaching an upstream;
	// rt is nil when no route took it.
	Refused(listener string, rt *routing.StreamRoute, result string)
	// Opened: relaying to the upstream began.
	Opened(rt *routing.StreamRoute)
	// Closed: an opened connection ended, having moved these bytes.
	Closed(rt *routing.StreamRoute, fromClient, toClient int64)
}

type nopObserver struct{}

func (nopObserver) Refused(string, *routing.StreamRoute, string) {}
func (nopObserver) Opened(*routing.StreamRoute)                  {}
func (nopObserver) Closed(*routing.StreamRoute, int64, int64)    {}

// Server serves one stream listener.
type Server struct {
	Name  string // the listener's name, as stream routes say it
	Table *atomic.Pointer[routing.Table]
	// Terminate is the TLS configuration of routes that terminate TLS:
	// the groups' certificates by server name.
	Terminate    *tls.Config
	Observer     Observer
	Logger       *slog.Logger
	HelloTimeout time.Duration // 0: DefaultHelloTimeout

	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]struct{}
	shutdown bool
	wg       sync.WaitGroup
}

// Serve accepts connections on ln until it is closed (nil) or fails.
// Errors a busy machine recovers from (too many open files) pause the
// loop instead of ending it.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.logger().Warn("stream listener: accept failed; retrying", "listener", s.Name, "err", err, "in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if !s.track(c) {
			_ = c.Close()
			return nil
		}
		go s.handle(c)
	}
}

// Shutdown stops taking connections and waits for those open to end
// until ctx does, then closes them.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	if s.ln != nil {
		_ = s.ln.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	<-done
	return ctx.Err()
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return false
	}
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *Server) helloTimeout() time.Duration {
	if s.HelloTimeout <= 0 {
		return DefaultHelloTimeout
	}
	return s.HelloTimeout
}

// handle serves one connection from arrival to close.
func (s *Server) handle(c net.Conn) {
	defer s.untrack(c)
	defer c.Close()
	obs := s.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	t := s.Table.Load()
	if t == nil {
		obs.Refused(s.Name, nil, ResultNoRoute)
		return
	}
	var head []byte
	var sni string
	if t.StreamReadsHello(s.Name) {
		_ = c.SetReadDeadline(time.Now().Add(s.helloTimeout()))
		sni, head = readHello(c)
		_ = c.SetReadDeadline(time.Time{})
		if len(head) == 0 {
			obs.Refused(s.Name, nil, ResultSilent)
			return
		}
	}
	rt := t.Stream(s.Name, sni)
	if rt == nil {
		obs.Refused(s.Name, nil, ResultNoRoute)
		return
	}
	if !rt.Allowed(peerAddr(c)) {
		obs.Refused(s.Name, rt, ResultForbidden)
		return
	}
	if !rt.Acquire() {
		obs.Refused(s.Name, rt, ResultLimited)
		return
	}
	// The slot is free before the close is reported: whoever learns of
	// the close may connect again at once.
	release := sync.OnceFunc(rt.Release)
	defer release()
	var client net.Conn = c
	if len(head) > 0 {
		client = &replayConn{Conn: c, head: head}
	}
	if rt.TLS == spec.StreamTerminate {
		tc := tls.Server(client, s.Terminate)
		_ = c.SetDeadline(time.Now().Add(s.helloTimeout()))
		if err := tc.Handshake(); err != nil {
			obs.Refused(s.Name, rt, ResultHandshakeFailed)
			return
		}
		_ = c.SetDeadline(time.Time{})
		client = tc
	}
	up, result := dial(rt.Upstream)
	if up == nil {
		obs.Refused(s.Name, rt, result)
		return
	}
	defer up.Close()
	obs.Opened(rt)
	fromClient, toClient := relay(client, up, rt.Idle)
	release()
	obs.Closed(rt, fromClient, toClient)
}

// peerAddr is the client's address (the zero Addr when it is not TCP,
// which ip-restriction refuses).
func peerAddr(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr()
	}
	return netip.Addr{}
}

// dial connects to a node of pool, trying other nodes (the upstream's
// retries) when one cannot be reached; over TLS for scheme tls.
func dial(pool *upstream.Pool) (net.Conn, string) {
	result := ResultUpstreamUnavailable
	var failed []*upstream.Node
	node := pool.Next()
	for attempt := 0; node != nil; attempt++ {
		c, err := dialNode(pool, node)
		if err == nil {
			pool.Observe(node, upstream.Connected)
			return c, ""
		}
		pool.Observe(node, upstream.ConnectFailed)
		if upstream.IsTLSError(err) {
			result = ResultUpstreamTLS
		}
		if attempt >= pool.RetryBudget() {
			break
		}
		failed = append(failed, node)
		node = pool.NextExcept(failed...)
	}
	return nil, result
}

func dialNode(pool *upstream.Pool, node *upstream.Node) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pool.Timeouts.Connect)
	defer cancel()
	d := net.Dialer{}
	c, err := d.DialContext(ctx, "tcp", node.Addr)
	if err != nil || pool.Scheme != "tls" {
		return c, err
	}
	tc := tls.Client(c, pool.ClientTLS(node))
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	return tc, nil
}
