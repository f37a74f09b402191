// Package engine is what the gateway's front ends share: the
// configuration every engine takes (the compiled table, an observer, a
// logger and the client limits) with its defaults, described once. The
// engines themselves live in the sub-packages fast and nethttp, and
// enginetest is the conformance suite both run.
package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/gateway/routing"
)

// Observer receives what metrics need. route is nil for requests no route
// matched.
type Observer interface {
	// Observe counts an answer: end is when it ended (the engine has the
	// arrival and elapsed, so it costs no clock read), elapsed from
	// arrival to the end of the answer, upstream from the first upstream
	// attempt to the backend's header (0: no upstream call).
	Observe(route *routing.Route, status int, end time.Time, elapsed, upstream time.Duration)
	UpstreamError(route *routing.Route, kind string)
}

// Limits bound what a client may send and how slowly. A zero field takes
// its default.
type Limits struct {
	MaxHeaderBytes    int           // request line and headers: 431 above (64 KiB)
	MaxBodyBytes      int64         // request body: 413 above (0: unlimited)
	ReadHeaderTimeout time.Duration // whole header (30 s)
	BodyTimeout       time.Duration // between two reads of a body, as nginx's client_body_timeout (60 s)
	SendTimeout       time.Duration // between two writes of an answer, as nginx's send_timeout (60 s)
	IdleTimeout       time.Duration // keep-alive idle (120 s)
}

// Defaults of the zero Limits.
const (
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultReadHeaderTimeout = 30 * time.Second
	DefaultBodyTimeout       = 60 * time.Second
	DefaultSendTimeout       = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

// Validate refuses negative limits: zero means "the default", and a
// negative one would silently mean "none".
func (l Limits) Validate() error {
	switch {
	case l.MaxHeaderBytes < 0:
		return fmt.Errorf("max header bytes %d: must not be negative", l.MaxHeaderBytes)
	case l.MaxBodyBytes < 0:
		return fmt.Errorf("max body bytes %d: must not be negative (0: no limit)", l.MaxBodyBytes)
	case l.ReadHeaderTimeout < 0 || l.BodyTimeout < 0 || l.SendTimeout < 0 || l.IdleTimeout < 0:
		return errors.New("gateway timeouts must not be negative")
	}
	return nil
}

// Config is what an engine serves.
type Config struct {
	Table *atomic.Pointer[routing.Table]
	// TLSPort is the port of the gateway's TLS listener, for redirects to
	// HTTPS (0: none).
	TLSPort int
	// H2C lets the net/http engine speak HTTP/2 without TLS on the
	// connections handed to its ServeH2C.
	H2C      bool
	Observer Observer     // nil: nothing is observed
	Logger   *slog.Logger // nil: slog.Default()
	// Telemetry is the access log and tracing (zero: neither).
	Telemetry Telemetry
	Limits
}

// WithDefaults fills every zero field: the default limits, a logger, and
// an observer that drops what it is told, so an engine never checks for
// nil on the hot path.
func (c Config) WithDefaults() Config {
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	c.ReadHeaderTimeout = orDefault(c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	c.BodyTimeout = orDefault(c.BodyTimeout, DefaultBodyTimeout)
	c.SendTimeout = orDefault(c.SendTimeout, DefaultSendTimeout)
	c.IdleTimeout = orDefault(c.IdleTimeout, DefaultIdleTimeout)
	return c
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

type nopObserver struct{}

func (nopObserver) Observe(*routing.Route, int, time.Time, time.Duration, time.Duration) {}
func (nopObserver) UpstreamError(*routing.Route, string)                                 {}
