package gateway

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"

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
// engines drive the same compiled routes and plugins; TLS, when it comes,
// will sit in front and hand ALPN "http/1.1" to fast and "h2" (and h2c)
// to nethttp, since Serve takes any listener.
func newFrontEnd(opts Options, table *atomic.Pointer[routing.Table], m *metrics, log *slog.Logger, tlsPort int) frontEnd {
	cfg := engine.Config{Table: table, Observer: m, Logger: log, Limits: opts.Limits, TLSPort: tlsPort}
	if opts.Engine == EngineNetHTTP {
		return nethttp.NewServer(cfg)
	}
	return fast.NewServer(cfg)
}
