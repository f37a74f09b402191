// Package fast is the gateway's HTTP/1.1 hot-path engine, built on
// valyala/fasthttp: connection and request state are reused, no goroutine is
// started per request, headers are read in place, and the upstream round
// trip runs on the serving goroutine over the node's keep-alive pool. It
// drives the same compiled routing table and plugin chains as the net/http
// engine, through plugin.Exchange.
//
// TLS is planned as a front that chooses by ALPN: "http/1.1" connections
// are handed to this engine's Serve, "h2" ones (and cleartext h2c) to the
// net/http engine; Server.Serve takes any net.Listener so that split needs
// no change here.
package fast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/portico-gw/portico/internal/gateway/engine"
)

// Config of a Server: the engines' shared configuration. Zero limits
// take engine's defaults; on top of them the fast engine reads at most
// prefetchBody bytes of a body before the handler runs.
type Config = engine.Config

const (
	// prefetchBody is how much of a request body is read before the
	// handler runs; larger bodies stream through.
	prefetchBody = 16 << 10
	// watchAfter is how long a request waits for its upstream before the
	// watcher starts checking that its client is still there.
	watchAfter = 100 * time.Millisecond
)

// Server is the fast engine on one or more listeners.
type Server struct {
	cfg     Config
	srv     *fasthttp.Server
	clients clients
	states  freeList
	watch   watcher
	tunnels tunnels
	conns   openConns
	release memoryRelease
	parked  parkedSet
	// parkAfter is how long fasthttp waits for a keep-alive connection's
	// next request before the connection is parked (park.go).
	parkAfter time.Duration
	closing   atomic.Bool
	stopped   chan struct{}
	once      sync.Once

	// listeners given to Serve, closed by Shutdown too: fasthttp closes
	// only those its Serve has registered, so a Shutdown that comes first
	// would leave a later Serve accepting for ever.
	lnMu      sync.Mutex
	listeners []net.Listener
}

// NewServer returns a server for cfg.
func NewServer(cfg Config) *Server {
	cfg = cfg.WithDefaults()
	s := &Server{cfg: cfg, stopped: make(chan struct{}), parkAfter: defaultParkAfter}
	s.states.s = s
	s.watch.s = s
	s.parked.s = s
	s.srv = &fasthttp.Server{
		Handler:       s.serve,
		ErrorHandler:  s.parseError,
		ExpectHandler: s.expect,
		ConnState:     s.conns.track,
		// fasthttp bounds the request header by its read buffer.
		ReadBufferSize:  cfg.MaxHeaderBytes,
		WriteBufferSize: 16 << 10,
		// Idle serving goroutines end soon, so their stacks can be
		// released after a wave of parked connections (park.go).
		MaxIdleWorkerDuration: idleWorkerLife,
		// Applies from a request's first byte through its header (and the
		// prefetched body); a streamed body moves the deadline itself.
		ReadTimeout: cfg.ReadHeaderTimeout,
		// Set before the answer is written; a streamed body moves it.
		WriteTimeout: cfg.SendTimeout,
		// fasthttp's idle wait ends after parkAfter, when the connection
		// is parked for the rest of cfg.IdleTimeout (park.go).
		IdleTimeout:                  fasthttpIdleTimeout(cfg.IdleTimeout, s.parkAfter),
		MaxRequestBodySize:           prefetchBody,
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		NoDefaultDate:                true,
		// Nothing reads the request's fasthttp time (st.start is ours):
		// a clock read saved per request.
		LazyRequestTime: true,
		CloseOnShutdown: true,
		Logger:          fasthttpLogger{cfg.Logger},
	}
	return s
}

// Serve accepts connections on ln until Shutdown or Close; it then
// returns nil.
func (s *Server) Serve(ln net.Listener) error {
	s.lnMu.Lock()
	if s.closing.Load() {
		s.lnMu.Unlock()
		_ = ln.Close()
		return nil
	}
	s.listeners = append(s.listeners, ln)
	s.lnMu.Unlock()
	s.once.Do(func() {
		go every(s.stopped, watchTick, func(time.Time) { s.watch.scan(engine.Monotonic()) })
		go every(s.stopped, releaseTick, s.release.tick)
	})
	err := s.srv.Serve(parkingListener{Listener: ln, s: s})
	if s.closing.Load() {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fast engine: %w", err)
	}
	return nil
}

// Shutdown stops accepting, lets in-flight requests finish (or ctx end)
// and closes idle upstream connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.lnMu.Lock()
	s.closing.Store(true)
	s.lnMu.Unlock()
	err := s.srv.ShutdownWithContext(ctx)
	s.closeListeners()
	s.conns.closeParked()
	s.stop()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("fast engine shutdown: %w", err)
	}
	return err
}

// Close stops at once: listeners and connections are closed.
func (s *Server) Close() error {
	s.lnMu.Lock()
	s.closing.Store(true)
	s.lnMu.Unlock()
	s.closeListeners()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // an ended context makes fasthttp close what is open
	_ = s.srv.ShutdownWithContext(ctx)
	s.conns.closeAll()
	s.tunnels.closeAll()
	s.stop()
	return nil
}

// closeListeners closes every listener Serve was given (those fasthttp
// already closed answer an error, ignored).
func (s *Server) closeListeners() {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	for _, ln := range s.listeners {
		_ = ln.Close()
	}
}

func (s *Server) stop() {
	select {
	case <-s.stopped:
	default:
		close(s.stopped)
	}
	s.clients.closeIdle()
}

// every calls fn with the time every d until stop is closed.
func every(stop <-chan struct{}, d time.Duration, fn func(time.Time)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			fn(now)
		}
	}
}

// fasthttpIdleTimeout is how long fasthttp itself waits for a keep-alive
// connection's next request: parkAfter, when the connection can then be
// parked for the rest of idle.
func fasthttpIdleTimeout(idle, parkAfter time.Duration) time.Duration {
	if canPark && idle > parkAfter {
		return parkAfter
	}
	return idle
}

// noDeadline clears a deadline.
var noDeadline time.Time

// fasthttpLogger sends fasthttp's own messages (broken client
// connections, mostly) to debug: metrics count what matters.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug(fmt.Sprintf(format, args...), "engine", "fast")
	}
}
