package routing

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/gateway/compose"
	"github.com/portico-gw/portico/internal/gateway/upstream"
)

// Upstream steps call the composite service's own upstream, as the
// engines' proxies would: a node its balancer picks, its scheme, TLS
// handshake, base path and pass_host. They share one HTTP client per
// TLS configuration, not the engines' per-node clients: steps are few
// beside proxied requests, and a composite service's upstream often has
// no other use.

// Bounds of the upstream steps' clients.
const (
	callIdleConns        = 256
	callIdleConnsPerHost = 32
	callIdleTimeout      = 90 * time.Second
	callTLSHandshake     = 10 * time.Second
	callMaxHeaderBytes   = 1 << 20
	// maxTLSClients bounds the clients kept for https upstreams (one per
	// node and handshake); past it they are all closed and made anew.
	maxTLSClients = 64
)

// upstreamClients are the HTTP clients of upstream steps: one for plain
// HTTP, one per node of an https upstream (its handshake is the
// upstream's: server name, roots, client certificate).
type upstreamClients struct {
	plain *http.Transport
	mu    sync.Mutex
	tls   map[string]*http.Transport // by upstream.Node.Key
}

func newUpstreamClients() *upstreamClients {
	return &upstreamClients{plain: newCallTransport(nil), tls: map[string]*http.Transport{}}
}

type dialTimeoutKey struct{}

// newCallTransport is a client of upstream steps: no proxy from the
// environment, bounded idle connections, and the connect timeout of the
// upstream called (carried by the request's context).
func newCallTransport(tc *tls.Config) *http.Transport {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Timeout: upstream.DefaultConnectTimeout, KeepAlive: 30 * time.Second}
		if t, ok := ctx.Value(dialTimeoutKey{}).(time.Duration); ok && t > 0 {
			d.Timeout = t
		}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Transport{
		DialContext: dial, TLSClientConfig: tc, TLSHandshakeTimeout: callTLSHandshake,
		MaxIdleConns: callIdleConns, MaxIdleConnsPerHost: callIdleConnsPerHost, IdleConnTimeout: callIdleTimeout,
		MaxResponseHeaderBytes: callMaxHeaderBytes, DisableCompression: true,
	}
}

// forNode is the client of a call to node of pool.
func (u *upstreamClients) forNode(pool *upstream.Pool, node *upstream.Node) *http.Transport {
	if pool.URLScheme() != "https" {
		return u.plain
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if t := u.tls[node.Key]; t != nil {
		return t
	}
	if len(u.tls) >= maxTLSClients {
		for _, t := range u.tls {
			t.CloseIdleConnections()
		}
		clear(u.tls)
	}
	t := newCallTransport(pool.ClientTLS(node))
	u.tls[node.Key] = t
	return t
}

func (u *upstreamClients) closeIdle() {
	u.plain.CloseIdleConnections()
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, t := range u.tls {
		t.CloseIdleConnections()
	}
}

// callUpstream sends an upstream step's request to a node of the
// composite service's upstream.
func (cc *compositeCaller) callUpstream(ctx context.Context, c *compose.Call) (*compose.Answer, error) {
	pool := cc.pool
	switch {
	case cc.calls.upstreams == nil || pool == nil:
		return nil, errors.New("the service has no upstream to call")
	case pool.GRPC():
		return nil, errors.New("an upstream step cannot call a gRPC upstream")
	}
	path, err := url.PathUnescape(c.Path)
	if err != nil || len(c.Path) == 0 || c.Path[0] != '/' {
		return nil, fmt.Errorf("path %q is not an escaped path", c.Path)
	}
	node := pool.Pick(callRequest{c})
	if node == nil {
		return nil, errors.New("the service's upstream has no node to call")
	}
	u := &url.URL{Scheme: pool.URLScheme(), Host: node.Addr, Path: pool.BasePath + path, RawPath: pool.BasePath + c.Path, RawQuery: c.Query}
	if c.Method == "" {
		c.Method = http.MethodGet // the step's record shows the method used
	}
	method := c.Method
	h := callHeader(c)
	if c.Client.IsValid() {
		h["X-Forwarded-For"] = []string{c.Client.String()}
	}
	req := &http.Request{Method: method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Host: node.HostHeader}
	if pool.PassHost == "rewrite" && pool.UpstreamHost != "" {
		req.Host = pool.UpstreamHost
	}
	setBody(req, c.Body)
	// The attempt may take the upstream's connect and read timeouts (the
	// step's own deadline, in ctx, may be shorter).
	tctx := context.WithValue(ctx, dialTimeoutKey{}, pool.Timeouts.Connect)
	if d := pool.Timeouts.Connect + pool.Timeouts.Read; d > 0 {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(tctx, d)
		defer cancel()
	}
	start := time.Now()
	pool.Begin(node)
	defer func() { pool.Done(node, time.Since(start)) }()
	resp, err := cc.calls.upstreams.forNode(pool, node).RoundTrip(req.WithContext(tctx))
	if err != nil {
		if upstream.IsTLSError(err) {
			return nil, errors.New(upstream.TLSFailure)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("upstream %s: %w", node.Addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, compose.MaxAnswer+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("upstream %s: reading the answer: %w", node.Addr, err)
	case len(body) > compose.MaxAnswer:
		return nil, fmt.Errorf("upstream %s: %w", node.Addr, errAnswerTooLarge)
	}
	return &compose.Answer{Status: resp.StatusCode, Header: resp.Header, Body: body, Path: u.Path}, nil
}

// setBody gives r the body of a call.
func setBody(r *http.Request, body []byte) {
	if len(body) == 0 {
		r.Body = http.NoBody
		return
	}
	r.ContentLength = int64(len(body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

// callRequest is what a consistent-hash balancer reads of an upstream
// step's call.
type callRequest struct{ c *compose.Call }

func (r callRequest) Header(name string) string { return r.c.Header.Get(name) }

func (r callRequest) Cookie(name string) string {
	for _, line := range r.c.Header.Values("Cookie") {
		if cs, err := http.ParseCookie(line); err == nil {
			for _, ck := range cs {
				if ck.Name == name {
					return ck.Value
				}
			}
		}
	}
	return ""
}

func (r callRequest) Query(name string) string {
	v, _ := url.ParseQuery(r.c.Query)
	return v.Get(name)
}

func (r callRequest) Path() string           { return r.c.Path }
func (r callRequest) ClientAddr() netip.Addr { return r.c.Client }
func (r callRequest) ConsumerName() string   { return "" }
