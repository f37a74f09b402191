package gateway

import (
	"net/http"

	"context"
	"net"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/engine/fast"
	"github.com/portico-gw/portico/internal/gateway/engine/nethttp"
	"github.com/portico-gw/portico/internal/gateway/routing"
)

// frontEnd is an engine serving the gateway address.
type frontEnd interface {
	Serve(ln net.Listener) error // nil after Shutdown or Close
	Shutdown(ctx context.Context) error
	Close() error
}

// newFrontEnd builds the engine opts names over the shared table. Both
// engines drive the same compiled routes and plugins; the TLS listener
// (tlsfront.go) hands ALPN "http/1.1" to it and "h2" to nethttp.
func newFrontEnd(opts Options, cfg engine.Config) frontEnd {
	if opts.Engine == EngineNetHTTP {
		return nethttp.NewServer(cfg)
	}
	return fast.NewServer(cfg)
}

// tlsServer serves the connections of the TLS listener once their
// handshake is done: HTTP/1.1 ones by the gateway's engine (the fast one
// takes them as they are; net/http must see them unwrapped), HTTP/2 ones
// (and h2c ones of the plain listener) by net/http, the engine that
// speaks it.
type tlsServer struct {
	h1 func(net.Listener) error
	h2 *nethttp.Server
}

func newTLSServer(gw frontEnd, cfg engine.Config) tlsServer {
	if n, ok := gw.(*nethttp.Server); ok {
		return tlsServer{h1: n.ServeTLS, h2: n}
	}
	return tlsServer{h1: gw.Serve, h2: nethttp.NewServer(cfg)}
}

// newCalls is what composite backends call through: the group's APIs
// in-process, by a net/http handler over the same table, observer and
// telemetry as the front ends (whichever engine serves clients), so a
// call sees what a client would and is counted, logged and traced as
// one; and their services' upstreams.
func newCalls(cfg engine.Config) *routing.Calls {
	h := nethttp.NewHandler(cfg)
	return routing.NewCalls(cfg.Table, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(nethttp.InProcess(r.Context())))
	}))
}
