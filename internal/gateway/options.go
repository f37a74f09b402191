package gateway

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/splitstats"
	"github.com/portico-gw/portico/internal/gateway/svcstats"
	"github.com/portico-gw/portico/internal/spec"
)

// Source delivers configuration. The control plane in process and the
// remote feed client of a stand-alone gateway both satisfy it.
type Source interface {
	// Next blocks until the groups have a revision greater than after (or
	// ctx ends) and returns the latest: a delta from after when the change
	// was confined to some services, else the whole snapshot; after 0 asks
	// for the whole snapshot. A poll always returns the latest revision, so
	// bursts of changes coalesce.
	Next(ctx context.Context, groups []string, after int64) (spec.SnapshotUpdate, error)
}

// Options configure Run.
type Options struct {
	Addr string // gateway listener, e.g. ":9080"
	// TLSAddr, when set, is the gateway's HTTPS listener (e.g. ":9443"),
	// serving the groups' certificates by SNI (tls.go).
	TLSAddr string
	// H2C lets the plain listener also speak HTTP/2 without TLS (prior
	// knowledge), for gRPC clients that do not use TLS (h2c.go).
	H2C bool
	// StreamAddrs are the stream listeners by name (redis → ":6380"):
	// stream services' routes name them (stream.go).
	StreamAddrs map[string]string
	StatusAddr  string   // /healthz, /readyz, /metrics; empty disables
	Groups      []string // gateway groups served
	Source      Source
	Logger      *slog.Logger
	// DrainTimeout bounds how long shutdown waits for in-flight requests.
	DrainTimeout time.Duration
	// OnListen, when set, is called with the bound addresses once the
	// listeners are open (tests use ":0").
	OnListen func(Listening)
	// OnApply, when set, is called after each snapshot is swapped in.
	OnApply func(revision int64)
	// Engine serves the gateway address: "fast" (default, HTTP/1.1 on
	// fasthttp) or "nethttp" (net/http: HTTP/1.1 and, with TLS, HTTP/2).
	Engine string
	// Limits of client requests; zero values take the engines' defaults.
	Limits Limits
	// RedisURL (redis://…) is where limit-count's policy redis counts,
	// shared by every gateway; empty: such limits count locally.
	RedisURL string
	// RedisPrefix starts every Redis key (default "portico:"), so
	// installs or tests sharing one Redis stay apart.
	RedisPrefix string
	// Splits, when set, receives the live figures of the canaries this
	// gateway runs (the control plane reads them for GET …/canary and the
	// guard); nil keeps them private.
	Splits *splitstats.Registry
	// ServiceStats, when set, receives per-service figures over time (the
	// console's charts, GET …/services/{s}/stats); nil: none are kept.
	ServiceStats *svcstats.Registry
	// TokenKey signs the OAuth2 access tokens the gateway issues and
	// checks those it is shown: gateways given the same key (derived from
	// the control plane's secret key) accept each other's tokens. Nil: a
	// random key, tokens that work on this gateway only.
	TokenKey []byte
	// SourceDetail, when set, says where the configuration comes from and
	// how that is going, in /readyz's "source" (a stand-alone gateway:
	// connected to its control plane, or serving its cache through an
	// outage).
	SourceDetail func() string
	// Profiling serves Go's runtime profiles (net/http/pprof) on the
	// status address under /debug/pprof/, to see where a gateway's memory
	// and CPU go. Off by default: a profile shows the process's insides.
	Profiling bool
	// Totals, when set, is given a way to read how many requests the
	// gateway answered since it started and how many of them with a 5xx
	// (a stand-alone gateway's heartbeats report them).
	Totals *Totals
	// Upstreams, when set, is given a way to read the health of checked
	// upstream nodes and the state of the service registries followed
	// (heartbeats report them).
	Upstreams *UpstreamReport
	// Quotas, when set, is given a way to read the usage of the plan
	// quotas of the subscriptions the gateway serves (quota_report.go).
	Quotas *QuotaReport
	// Telemetry is the access log and tracing (telemetry.go); zero:
	// neither.
	Telemetry Telemetry
}

// Totals reads a running gateway's request counts; zero before Run
// starts. The counts come from the gateway's own metrics when read, so
// keeping them costs the hot path nothing.
type Totals struct {
	read atomic.Pointer[func() (requests, errors uint64)]
}

// Read answers the requests answered since start and the 5xx among them.
func (t *Totals) Read() (requests, errors uint64) {
	if f := t.read.Load(); f != nil {
		return (*f)()
	}
	return 0, 0
}

// Engines a gateway can run.
const (
	EngineFast    = "fast"
	EngineNetHTTP = "nethttp"
)

// Limits bound what a client may send and how slowly (engine.Limits).
type Limits = engine.Limits

// Listening are the addresses a gateway bound: TLS and Status are empty
// when it has no such listener.
type Listening struct {
	Gateway, TLS, Status string
	Streams              map[string]string // stream listeners by name; nil: none
}
