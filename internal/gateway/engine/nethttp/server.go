package nethttp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/portico-gw/portico/internal/gateway/engine"
)

// Config configures a Server: the engines' shared configuration. A
// larger header than MaxHeaderBytes is answered 431 by net/http (which
// allows 4 KiB of slack on top); a larger declared body 413 before the
// backend is contacted, a chunked one cut off when it passes the limit; a
// client slower than BodyTimeout with its body 408 and the upstream
// request aborted.
type Config = engine.Config

// Server serves the gateway on listeners with the limits of its Config.
type Server struct {
	h       *Handler
	srv     *http.Server
	send    time.Duration
	maxHead int
}

// NewHandler is the handler a Server for cfg serves with: its telemetry,
// body limits and redirects. The gateway also serves in-process requests
// with one (a composite backend's calls), logged and traced as any.
func NewHandler(cfg Config) *Handler {
	cfg = cfg.WithDefaults()
	h := New(cfg.Table, cfg.Observer, cfg.Logger)
	h.telemetry = cfg.Telemetry
	h.maxBody = cfg.MaxBodyBytes
	h.bodyTimeout = cfg.BodyTimeout
	h.tlsPort = cfg.TLSPort
	return h
}

// NewServer returns a server for cfg; Serve starts it.
func NewServer(cfg Config) *Server {
	cfg = cfg.WithDefaults()
	h := NewHandler(cfg)
	s := &Server{
		h:    h,
		send: cfg.SendTimeout,
		// net/http reads 4 KiB past MaxHeaderBytes before it refuses.
		maxHead: cfg.MaxHeaderBytes + 4<<10,
		srv: &http.Server{
			Handler:           h,
			MaxHeaderBytes:    cfg.MaxHeaderBytes,
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			IdleTimeout:       cfg.IdleTimeout,
			ErrorLog:          h.errLog,
			ConnContext:       connContext,
		},
	}
	// A client that stops reading an HTTP/2 stream holds it no longer
	// than one that stops reading HTTP/1.1.
	s.srv.HTTP2 = &http.HTTP2Config{WriteByteTimeout: cfg.SendTimeout}
	if cfg.H2C {
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetHTTP2(true)
		p.SetUnencryptedHTTP2(true)
		s.srv.Protocols = &p
	}
	return s
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

// ServeH2C serves connections that opened with the HTTP/2 preface (h2c,
// prior knowledge) until Shutdown or Close, with the server's handler and
// limits; Config.H2C must be set.
func (s *Server) ServeH2C(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ServeTLS serves connections whose TLS handshake is done (*tls.Conn,
// HTTP/2 or HTTP/1.1 by what ALPN chose) until Shutdown or Close. HTTP/1.1
// ones get the plain listener's wrapper (its send timeout and checks of
// request heads), which hides the *tls.Conn from net/http: their TLS
// state travels with the wrapper (requestTLS). HTTP/2 ones go as they
// are: net/http must see the *tls.Conn to speak HTTP/2, which has its own
// framing and a write timeout of its own (HTTP2Config).
func (s *Server) ServeTLS(ln net.Listener) error {
	err := s.srv.Serve(tlsListener{sendListener{Listener: ln, send: s.send, maxHead: s.maxHead}})
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
