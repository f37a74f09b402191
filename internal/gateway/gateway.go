// Package gateway runs Portico's data plane: the gateway listener, the
// status listener, and the loop that takes config snapshots from a Source,
// compiles them and swaps the routing table atomically.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/plugin/hmacauth"
	"github.com/portico-gw/portico/internal/gateway/plugin/limitcount"
	"github.com/portico-gw/portico/internal/gateway/plugin/limitreq"
	"github.com/portico-gw/portico/internal/gateway/plugin/oauth2"
	"github.com/portico-gw/portico/internal/gateway/plugin/quota"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/gateway/splitstats"
	"github.com/portico-gw/portico/internal/gateway/sqlbackend"
	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

// Limits of the status listener; sourceRetry paces a failing source.
const (
	readHeaderTimeout = 30 * time.Second
	sourceRetry       = time.Second
)

// Run serves until ctx ends, then stops accepting, lets in-flight requests
// finish for up to DrainTimeout and returns.
func Run(ctx context.Context, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 30 * time.Second
	}
	if opts.Source == nil {
		return errors.New("gateway needs a config source")
	}
	if err := opts.Limits.Validate(); err != nil {
		return err
	}
	switch opts.Engine {
	case "":
		opts.Engine = EngineFast
	case EngineFast, EngineNetHTTP:
	default:
		return fmt.Errorf("unknown gateway engine %q (fast or nethttp)", opts.Engine)
	}
	gwLn, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on gateway address %s: %w", opts.Addr, err)
	}
	defer gwLn.Close()
	var tlsLn net.Listener
	if opts.TLSAddr != "" {
		if tlsLn, err = net.Listen("tcp", opts.TLSAddr); err != nil {
			return fmt.Errorf("listen on the gateway's TLS address %s: %w", opts.TLSAddr, err)
		}
		defer tlsLn.Close()
	}
	streamLns, err := listenStreams(opts.StreamAddrs)
	if err != nil {
		return err
	}
	defer streamLns.close()
	var statusLn net.Listener
	if opts.StatusAddr != "" {
		if statusLn, err = net.Listen("tcp", opts.StatusAddr); err != nil {
			return fmt.Errorf("listen on status address %s: %w", opts.StatusAddr, err)
		}
		defer statusLn.Close()
	}

	var table atomic.Pointer[routing.Table]
	var draining atomic.Bool
	m := newMetrics()
	if opts.Totals != nil {
		read := m.totals
		opts.Totals.read.Store(&read)
	}
	m.services = opts.ServiceStats
	counters, quotas, closeRedis, err := newCounters(ctx, opts, log, m)
	if err != nil {
		return err
	}
	defer closeRedis()
	if opts.Quotas != nil {
		opts.Quotas.read.Store(&quotaState{table: &table, reg: quotas})
	}
	tel, closeTelemetry, err := newTelemetry(opts.Telemetry, m, log)
	if err != nil {
		return err
	}
	cfg := engine.Config{Table: &table, Observer: m, Logger: log, Limits: opts.Limits, Telemetry: tel}
	if tlsLn != nil {
		cfg.TLSPort = tlsLn.Addr().(*net.TCPAddr).Port
	}
	cfg.H2C = opts.H2C
	calls := newCalls(cfg)
	defer calls.Close()
	gwSrv := newFrontEnd(opts, cfg)
	tlsSrv := newTLSServer(gwSrv, cfg)
	statusSrv := &http.Server{
		Handler:           statusMux(m, &table, &draining, opts.SourceDetail, opts.Profiling),
		ReadHeaderTimeout: readHeaderTimeout,
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	serve := func(srv interface{ Serve(net.Listener) error }, ln net.Listener, what string) {
		wg.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s server: %w", what, err)
				cancel()
			}
		})
	}
	frontCtx, endFronts := context.WithCancel(context.Background())
	defer endFronts()
	headTimeout := cfg.WithDefaults().ReadHeaderTimeout
	if opts.H2C {
		front := newH2CFront(gwLn, headTimeout, log)
		wg.Go(func() { front.run(frontCtx) })
		serve(gwSrv, front.h1, "gateway")
		serve(serveFunc(tlsSrv.h2.ServeH2C), front.h2, "gateway h2c")
	} else {
		serve(gwSrv, gwLn, "gateway")
	}
	bound := Listening{Gateway: gwLn.Addr().String()}
	if tlsLn != nil {
		front := newTLSFront(tlsLn, tlsConfig(&table), headTimeout, log)
		wg.Go(func() { front.run(frontCtx) })
		serve(serveFunc(tlsSrv.h1), front.h1, "gateway TLS")
		serve(serveFunc(tlsSrv.h2.ServeTLS), front.h2, "gateway HTTP/2")
		bound.TLS = tlsLn.Addr().String()
	}
	streamLns.serve(&table, m, log, func(name string, run func() error) {
		serve(serveFunc(func(net.Listener) error { return run() }), nil, "stream listener "+name)
	})
	bound.Streams = streamLns.bound()
	if statusLn != nil {
		serve(statusSrv, statusLn, "status")
		bound.Status = statusLn.Addr().String()
	}
	if opts.OnListen != nil {
		opts.OnListen(bound)
	}
	log.Info("gateway listening", "addr", bound.Gateway, "tls", bound.TLS, "streams", bound.Streams, "status", bound.Status, "groups", opts.Groups, "engine", opts.Engine)
	wg.Go(func() { follow(runCtx, opts, log, &table, m, counters, quotas, calls) })
	// Quota counts go to Redis until the last request drained.
	flushCtx, endFlush := context.WithCancel(context.Background())
	defer endFlush()
	wg.Go(func() { quotas.Run(flushCtx) })

	<-runCtx.Done()
	draining.Store(true)
	drainCtx, stop := context.WithTimeout(context.Background(), opts.DrainTimeout)
	defer stop()
	// The fronts stop taking connections and end the handshakes under
	// way; their queues close with the servers reading them.
	if tlsLn != nil {
		_ = tlsLn.Close()
	}
	if opts.H2C {
		_ = gwLn.Close()
	}
	endFronts()
	// Both servers drain at once: HTTP/2 clients hear GOAWAY now, not
	// after the other engine's drain.
	var drain sync.WaitGroup
	for _, srv := range servers(gwSrv, tlsSrv.h2, tlsLn != nil || opts.H2C) {
		drain.Go(func() {
			if err := srv.Shutdown(drainCtx); err != nil {
				log.Warn("gateway did not drain in time; closing connections", "err", err)
				_ = srv.Close()
			}
		})
	}
	drain.Go(func() { streamLns.shutdown(drainCtx, log) })
	drain.Wait()
	// What the drained requests logged and traced goes out before exit.
	closeTelemetry(drainCtx)
	endFlush()
	_ = statusSrv.Shutdown(drainCtx)
	cancel()
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// firstDiscoveryWait bounds how long a new table waits for the first
// answers of the registries it newly follows.
const firstDiscoveryWait = 3 * time.Second

// follow applies every newer revision the source delivers. A snapshot or
// delta that does not compile is refused and the previous table keeps
// serving; a delta that does not start from the table served (one was
// refused, or the gateway restarted its source) is answered by asking for
// the whole snapshot.
func follow(ctx context.Context, opts Options, log *slog.Logger, table *atomic.Pointer[routing.Table], m *metrics, counters *limitcount.Registry, quotas *quota.Registry,
	calls *routing.Calls) {
	var after int64
	var unserved string // stream listeners named and missing, as last warned
	// Plugin state that must survive reloads (plugin state is kept across reloads).
	deps := routing.Deps{Logger: log, Counters: counters, Quotas: quotas, Buckets: limitreq.NewRegistry(), Splits: opts.Splits,
		Tokens: oauth2.NewStore(opts.TokenKey), StreamConns: &routing.StreamConns{}, Calls: calls}
	if deps.Splits == nil {
		deps.Splits = splitstats.NewRegistry()
	}
	deps.SQL = sqlbackend.NewRegistry(0) // pools of sql backends' data sources
	defer deps.SQL.Close()
	cache, closeCache := newCacheRegistry(opts, log) // proxy-cache's stores
	defer closeCache()
	deps.Cache = cache
	m.registry.MustRegister(deps.SQL)
	// Upstream nodes' health and discovered nodes, kept across reloads.
	ups := &upstreamState{health: upstream.NewHealth(), disc: newDiscoverer(ctx, log)}
	defer ups.health.Close()
	deps.Health, deps.Discovery = ups.health, ups.disc
	m.registry.MustRegister(upstreamCollector{ups})
	if opts.Upstreams != nil {
		opts.Upstreams.read.Store(ups)
	}
	for {
		up, err := opts.Source.Next(ctx, opts.Groups, after)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Warn("config source failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(sourceRetry):
			}
			continue
		}
		t, err := compileCompact(table.Load(), up, deps)
		if errors.Is(err, routing.ErrNeedsSnapshot) && after != 0 {
			log.Debug("asking for the whole snapshot", "revision", up.Revision(), "why", err)
			after = 0
			continue
		}
		after = up.Revision()
		if err != nil {
			m.applyErrors.Inc()
			log.Error("refused config snapshot; serving the previous one", "revision", after, "err", err)
			continue
		}
		ups.disc.awaitFirst(ctx, firstDiscoveryWait)
		table.Store(t)
		deps.Splits.Retain(t.CanaryIDs())
		deps.SQL.Retain(t.DataSourceIDs())
		quotas.Retain(t.HasSubscription)
		m.applied(t, up, time.Now()) // and the series of the routes it took away go
		unserved = warnUnserved(t, opts.StreamAddrs, unserved, log)
		log.Debug("config applied", "revision", t.Revision, "routes", t.Len(), "delta", up.Delta != nil)
		if opts.OnApply != nil {
			opts.OnApply(t.Revision)
		}
		if up.Snapshot != nil {
			// A whole snapshot passed through memory several times over
			// (the answer, its decoding, the old and the new table): give
			// that back now rather than keep it as the process's size.
			up = spec.SnapshotUpdate{}
			debug.FreeOSMemory()
		}
	}
}

// compileCompact is compile with the collector kept busy while a whole
// snapshot is built. Building allocates about twice what the table keeps,
// interleaved with it; with the snapshot's hundreds of megabytes live the
// collector would not run until the build is over, and the table would be
// left spread over spans the garbage half empties — a fifth of a large
// gateway's memory (25 MiB at 100 000 routes). Collecting at every 5%
// of growth instead reuses the garbage's room for the table as it is
// built (10 MiB left), for some collections' CPU once per snapshot.
func compileCompact(cur *routing.Table, up spec.SnapshotUpdate, deps routing.Deps) (*routing.Table, error) {
	if up.Snapshot == nil {
		return compile(cur, up, deps)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	return compile(cur, up, deps)
}

// compile builds the table of an update: a delta onto the table served,
// a snapshot from scratch.
func compile(cur *routing.Table, up spec.SnapshotUpdate, deps routing.Deps) (*routing.Table, error) {
	switch {
	case up.Delta != nil && cur == nil:
		return nil, fmt.Errorf("a delta and no table to apply it to: %w", routing.ErrNeedsSnapshot)
	case up.Delta != nil:
		return cur.Update(up.Delta, deps)
	case up.Snapshot != nil:
		return routing.Build(up.Snapshot, deps)
	}
	return nil, fmt.Errorf("an empty update: %w", routing.ErrNeedsSnapshot)
}

func statusMux(m *metrics, table *atomic.Pointer[routing.Table], draining *atomic.Bool, source func() string, profiling bool) http.Handler {
	mux := http.NewServeMux()
	if profiling {
		// Every named profile (heap, allocs, goroutine…) through Index;
		// not the command line, which may hold a token or a store URL.
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", http.NotFound)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		t := table.Load()
		switch {
		case draining.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"draining"}` + "\n"))
		case t == nil:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"waiting for config"}` + "\n"))
		default:
			ready := struct {
				Status   string `json:"status"`
				Revision int64  `json:"revision"`
				Routes   int    `json:"routes"`
				// StreamRoutes are the stream services' routes, apart:
				// they answer connections, not requests.
				StreamRoutes int    `json:"stream_routes,omitempty"`
				Source       string `json:"source,omitempty"`
			}{Status: "ready", Revision: t.Revision, Routes: t.Len(), StreamRoutes: t.StreamRouteCount()}
			if source != nil {
				ready.Source = source()
			}
			_ = json.NewEncoder(w).Encode(ready)
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	return mux
}

// newCounters makes limit-count's registry and the plan quotas' one,
// connected to Redis when opts.RedisURL is set. A Redis that does not
// answer at start is logged, not fatal: limits count locally until it
// does.
func newCounters(ctx context.Context, opts Options, log *slog.Logger, m *metrics) (*limitcount.Registry, *quota.Registry, func(), error) {
	reg := limitcount.NewRegistry()
	ro := limitcount.RemoteOptions{OnFallback: m.fallbackCounter(), Logger: log}
	quotas := quota.NewRegistry()
	qo := quota.Options{OnFallback: m.fallbackCounter(), OnReject: m.quotaRejection, Logger: log}
	closeFn := func() {}
	if opts.RedisURL != "" {
		r, err := limitcount.NewRedis(opts.RedisURL, opts.RedisPrefix)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--redis: %w", err)
		}
		pingCtx, cancel := context.WithTimeout(ctx, time.Second)
		if err := r.Ping(pingCtx); err != nil {
			log.Warn("Redis does not answer; limit-count policy redis counts locally until it does", "err", err)
		}
		cancel()
		ro.Remote, qo.Remote = r, r
		// hmac-auth remembers used signatures there too: a replay is
		// refused by every gateway, not only the one that saw it first.
		hmacauth.UseRemote(r, log)
		closeFn = func() { hmacauth.UseRemote(nil, nil); _ = r.Close() }
	}
	reg.UseRemote(ro)
	quotas.Use(qo)
	return reg, quotas, closeFn, nil
}

// serveFunc makes a Serve method of a function.
type serveFunc func(net.Listener) error

func (f serveFunc) Serve(ln net.Listener) error { return f(ln) }

// servers are the front ends to drain: the gateway's engine, and the
// net/http one of HTTP/2 when it is another.
func servers(gw frontEnd, h2 frontEnd, h2Used bool) []frontEnd {
	if !h2Used || h2 == gw {
		return []frontEnd{gw}
	}
	return []frontEnd{gw, h2}
}
