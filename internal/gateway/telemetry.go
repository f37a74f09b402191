package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/portico-gw/portico/internal/gateway/accesslog"
	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/tracing"
)

// Telemetry configures what a gateway records of each request beyond its
// metrics: the access log and traces.
type Telemetry struct {
	// AccessLog are the sinks of the access log (accesslog.ParseSink);
	// none: no access log is written.
	AccessLog []accesslog.SinkConfig
	// RedactQuery names the query parameters whose values the access log
	// replaces by "***" (globs with *); nil: accesslog.DefaultRedacted.
	RedactQuery []string
	// Instance names this gateway in log lines and spans.
	Instance string
	// Version is the gateway's version, in spans' resource.
	Version string
	// OTLP, when set, exports sampled traces over OTLP/HTTP and turns
	// tracing on: every request gets a trace id (the client's, or a new
	// one), sent upstream in traceparent and given in error bodies.
	OTLP *tracing.ExporterConfig
	// TraceSampleRatio is the share of new traces sampled on groups that
	// set no ratio of their own, 0 to 1.
	TraceSampleRatio float64
	// Group names the group in log lines of requests no route matched.
	Group string
	// Calls, when set, receives the calls kept for the control plane's
	// log search, at most CallsPerSecond a second and as many failed ones
	// again (engine.CallBudget); CallsPerSecond 0 keeps none.
	Calls          *accesslog.SinkConfig
	CallsPerSecond int
}

// DefaultCallsPerSecond is how many calls a second a gateway keeps for
// its control plane's log search before it keeps failed calls only.
const DefaultCallsPerSecond = 100

// newTelemetry builds the engines' telemetry and registers its series;
// closeFn flushes what is queued (bounded by ctx) and stops it.
func newTelemetry(t Telemetry, m *metrics, log *slog.Logger) (tel engine.Telemetry, closeFn func(context.Context), err error) {
	if t.TraceSampleRatio < 0 || t.TraceSampleRatio > 1 {
		return tel, nil, fmt.Errorf("trace sample ratio %v: must be between 0 and 1", t.TraceSampleRatio)
	}
	tel.Group = t.Group
	tel.Sampler = tracing.NewSampler(t.TraceSampleRatio)
	var closers []func(context.Context) error
	closeFn = func(ctx context.Context) {
		for _, c := range closers {
			if err := c(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Warn("telemetry did not flush", "err", err)
			}
		}
	}
	var red *accesslog.Redactor
	if t.RedactQuery != nil {
		if red, err = accesslog.NewRedactor(t.RedactQuery); err != nil {
			return tel, nil, fmt.Errorf("access log: %w", err)
		}
	}
	if t.CallsPerSecond < 0 {
		return tel, nil, fmt.Errorf("calls a second %d: must not be negative", t.CallsPerSecond)
	}
	if t.Calls != nil && t.CallsPerSecond > 0 {
		calls, err := accesslog.New(accesslog.Config{Sinks: []accesslog.SinkConfig{*t.Calls}, Redact: red, Instance: t.Instance})
		if err != nil {
			return tel, nil, fmt.Errorf("call log: %w", err)
		}
		budget := &engine.CallBudget{PerSecond: int64(t.CallsPerSecond)}
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "portico_call_log_budget_dropped_total",
			Help: "Calls not sent to the control plane's log search: past the calls a second it keeps (the access log is not limited).",
		}, func() float64 { return float64(budget.Dropped()) }))
		tel.Calls, tel.Budget = calls, budget
		closers = append(closers, calls.Close)
	}
	if len(t.AccessLog) > 0 {
		lg, err := accesslog.New(accesslog.Config{Sinks: t.AccessLog, Redact: red, Instance: t.Instance})
		if err != nil {
			return tel, nil, fmt.Errorf("access log: %w", err)
		}
		m.registry.MustRegister(lg.Collectors()...)
		tel.Log = lg
		closers = append(closers, lg.Close)
	}
	if t.OTLP != nil {
		cfg := *t.OTLP
		cfg.Instance, cfg.Version = t.Instance, t.Version
		ex, err := tracing.NewExporter(cfg)
		if err != nil {
			closeFn(context.Background())
			return tel, nil, fmt.Errorf("tracing: %w", err)
		}
		m.registry.MustRegister(ex.Collectors()...)
		tel.Traces = ex
		closers = append(closers, ex.Shutdown)
	}
	return tel, closeFn, nil
}
