package nethttp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/gateway/routing"
)

// Defaults of the zero Config limits.
const (
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultReadHeaderTimeout = 30 * time.Second
	DefaultBodyTimeout       = 60 * time.Second
	DefaultSendTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

// Config configures a Server. A zero limit takes its default.
type Config struct {
	Table    *atomic.Pointer[routing.Table]
	Observer Observer     // nil: nothing is observed
	Logger   *slog.Logger // nil: slog.Default()

	// MaxHeaderBytes bounds the request line and headers; a larger header
	// is answered 431 by net/http (which allows 4 KiB of slack on top).
	// 0 → 64 KiB.
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request body: a larger declared Content-Length
	// is answered 413 before the backend is contacted; a chunked body is
	// cut off when it passes the limit (413, or an aborted upstream request
	// once the backend has answered). 0 → unlimited.
	MaxBodyBytes int64
	// ReadHeaderTimeout: a client that has not sent its whole header in
	// time is disconnected. 0 → 30 s.
	ReadHeaderTimeout time.Duration
	// BodyTimeout is the longest wait between two reads of the request
	// body (nginx client_body_timeout); the client is answered 408 and
	// disconnected, and the upstream request aborted. 0 → 60 s.
	BodyTimeout time.Duration
	// SendTimeout is the longest wait between two writes to the client
	// (nginx send_timeout): a client that stops reading is cut off. A
	// stream that keeps moving never times out. 0 → 60 s.
	SendTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle that long. 0 → 120 s.
	IdleTimeout time.Duration
}

// Server serves the gateway on listeners with the limits of its Config.
type Server struct {
	h       *Handler
	srv     *http.Server
	send    time.Duration
	maxHead int
}

// NewServer returns a server for cfg; Serve starts it.
func NewServer(cfg Config) *Server {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	obs := cfg.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	h := New(cfg.Table, obs, logger)
	if cfg.MaxBodyBytes > 0 {
		h.maxBody = cfg.MaxBodyBytes
	}
	h.bodyTimeout = orDefault(cfg.BodyTimeout, DefaultBodyTimeout)
	maxHeader := cfg.MaxHeaderBytes
	if maxHeader <= 0 {
		maxHeader = DefaultMaxHeaderBytes
	}
	return &Server{
		h:    h,
		send: orDefault(cfg.SendTimeout, DefaultSendTimeout),
		// net/http reads 4 KiB past MaxHeaderBytes before it refuses.
		maxHead: maxHeader + 4<<10,
		srv: &http.Server{
			Handler:           h,
			MaxHeaderBytes:    maxHeader,
			ReadHeaderTimeout: orDefault(cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout),
			IdleTimeout:       orDefault(cfg.IdleTimeout, DefaultIdleTimeout),
			ErrorLog:          h.errLog,
			ConnContext:       connContext,
		},
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Serve accepts connections on ln until Shutdown or Close, after which it
// returns nil.
func (s *Server) Serve(ln net.Listener) error {
	err := s.srv.Serve(sendListener{Listener: ln, send: s.send, maxHead: s.maxHead})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, closes idle connections, waits for in-flight
// requests to finish (or ctx to end, whose error it then returns) and
// closes idle upstream connections. Upgraded connections (WebSocket) are
// not waited for.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	s.h.CloseIdle()
	return err
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	err := s.srv.Close()
	s.h.CloseIdle()
	return err
}

type nopObserver struct{}

func (nopObserver) Observe(*routing.Route, int, time.Duration) {}
func (nopObserver) UpstreamError(*routing.Route, string)       {}
