package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"golang.org/x/net/http/httpguts"
)

// Defaults of ExporterConfig's zero fields.
const (
	DefaultServiceName = "portico-gateway"
	DefaultQueueSize   = 2048
	DefaultBatchSize   = 512
	DefaultTimeout     = 10 * time.Second
	// batchDelay is how long a span waits for its batch to fill: the
	// SDK's default, set explicitly so OTEL_BSP_* variables do not change
	// the gateway behind its configuration's back.
	batchDelay = 5 * time.Second
)

// ExporterConfig configures an Exporter.
type ExporterConfig struct {
	// Endpoint is the collector's OTLP/HTTP URL, http or https, e.g.
	// http://127.0.0.1:4318; /v1/traces is appended when it has no path.
	Endpoint string
	// Headers are sent with every export (e.g. an API key of the
	// tracing backend).
	Headers map[string]string
	// ServiceName is the resource's service.name (DefaultServiceName when
	// empty), Instance its service.instance.id and the spans'
	// portico.instance, Version its service.version.
	ServiceName, Instance, Version string
	// QueueSize is how many finished spans may wait for export; a request
	// whose spans do not fit is dropped whole and counted
	// (DefaultQueueSize when 0).
	QueueSize int
	// BatchSize is how many spans go in one export (DefaultBatchSize when
	// 0, at most QueueSize).
	BatchSize int
	// Timeout bounds one export, its retries included (DefaultTimeout
	// when 0).
	Timeout time.Duration
}

// ParseEndpoint reads the gateway's --otlp-endpoint URL into a config with
// only Endpoint set (normalised). Only http and https are accepted, and
// nothing the exporter would silently ignore: user info (send credentials
// as Headers), a query or a fragment.
func ParseEndpoint(s string) (ExporterConfig, error) {
	u, err := url.Parse(s)
	if err != nil {
		return ExporterConfig{}, fmt.Errorf("otlp endpoint %q is not an http(s) URL: %w", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return ExporterConfig{}, fmt.Errorf("otlp endpoint %q: scheme must be http or https", s)
	case u.Opaque != "" || u.Hostname() == "":
		return ExporterConfig{}, fmt.Errorf("otlp endpoint %q: no host", s)
	case u.User != nil:
		return ExporterConfig{}, fmt.Errorf("otlp endpoint %q: user info is not allowed in the URL (send credentials as headers)", redact(u))
	case u.RawQuery != "" || u.ForceQuery:
		return ExporterConfig{}, fmt.Errorf("otlp endpoint %q: a query is not allowed", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return ExporterConfig{}, fmt.Errorf("otlp endpoint %q: a fragment is not allowed", s)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path, u.RawPath = "/v1/traces", ""
	}
	return ExporterConfig{Endpoint: u.String()}, nil
}

// redact drops the password from an endpoint named in an error.
func redact(u *url.URL) string {
	c := *u
	if _, has := c.User.Password(); has {
		c.User = url.UserPassword(c.User.Username(), "xxxxx")
	}
	return c.String()
}

// Exporter sends the spans of sampled requests to an OTLP/HTTP collector.
// Export never blocks: spans wait in a bounded queue, and a request whose
// spans do not fit is dropped and counted.
type Exporter struct {
	bsp      sdktrace.SpanProcessor
	resource *resource.Resource
	instance string

	// inFlight counts spans handed to the batch processor and not yet
	// returned by an export. Keeping it at most QueueSize keeps the
	// processor's queue from ever being full, so every drop happens here,
	// where it is counted: the processor drops silently.
	inFlight  atomic.Int64
	queueSize int64
	stopped   atomic.Bool

	exported prometheus.Counter
	dropped  *prometheus.CounterVec

	// lastErrorLog is when a failed export was last logged (Unix nanos);
	// failures in between are only counted.
	lastErrorLog atomic.Int64
}

// errorLogInterval spaces the log lines of failed exports: a collector
// that is down fails every batch, several times a second under load.
const errorLogInterval = time.Minute

// Reasons of portico_trace_spans_dropped_total.
const (
	dropQueueFull    = "queue_full"    // the export queue was full
	dropExportFailed = "export_failed" // the collector refused or could not be reached
	dropStopped      = "stopped"       // Export after Shutdown
)

// NewExporter checks cfg and starts an exporter; nothing is sent before
// the first sampled request.
func NewExporter(cfg ExporterConfig) (*Exporter, error) {
	endpoint, err := ParseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	for name, value := range cfg.Headers {
		if !httpguts.ValidHeaderFieldName(name) {
			return nil, fmt.Errorf("otlp headers: %q is not a valid header name", name)
		}
		if !httpguts.ValidHeaderFieldValue(value) {
			return nil, fmt.Errorf("otlp headers: the value of %q is not a valid header value", name)
		}
	}
	if cfg.QueueSize < 0 || cfg.BatchSize < 0 || cfg.Timeout < 0 {
		return nil, errors.New("otlp exporter: queue size, batch size and timeout must not be negative")
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = DefaultServiceName
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = min(DefaultBatchSize, cfg.QueueSize)
	}
	if cfg.BatchSize > cfg.QueueSize {
		return nil, fmt.Errorf("otlp exporter: batch size %d is larger than queue size %d", cfg.BatchSize, cfg.QueueSize)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}

	opts := []otlptracehttp.Option{
		otlptracehttp.WithEndpointURL(endpoint.Endpoint),
		otlptracehttp.WithTimeout(cfg.Timeout),
		// Retries (429, 502, 503, 504) hold the export worker while the
		// queue fills, so they stop within the same Timeout.
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{
			Enabled:         true,
			InitialInterval: min(time.Second, cfg.Timeout/4),
			MaxInterval:     min(5*time.Second, cfg.Timeout/2),
			MaxElapsedTime:  cfg.Timeout,
		}),
	}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	// New only builds the client; it does not connect.
	otlp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}

	attrs := []attribute.KeyValue{attribute.String("service.name", cfg.ServiceName)}
	if cfg.Instance != "" {
		attrs = append(attrs, attribute.String("service.instance.id", cfg.Instance))
	}
	if cfg.Version != "" {
		attrs = append(attrs, attribute.String("service.version", cfg.Version))
	}
	e := &Exporter{
		resource:  resource.NewSchemaless(attrs...),
		instance:  cfg.Instance,
		queueSize: int64(cfg.QueueSize),
		exported: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portico_trace_spans_exported_total",
			Help: "Spans the OTLP collector accepted.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portico_trace_spans_dropped_total",
			Help: "Spans of sampled requests not exported, by reason: queue_full (the export queue was full), export_failed (the collector refused them or could not be reached), stopped (after shutdown).",
		}, []string{"reason"}),
	}
	for _, reason := range []string{dropQueueFull, dropExportFailed, dropStopped} {
		e.dropped.WithLabelValues(reason) // present at 0 from the start
	}
	e.bsp = sdktrace.NewBatchSpanProcessor(countingExporter{SpanExporter: otlp, e: e},
		// One slot more than QueueSize: inFlight never exceeds QueueSize,
		// and a ForceFlush marker, should the SDK ever queue one, must not
		// push a span out.
		sdktrace.WithMaxQueueSize(cfg.QueueSize+1),
		sdktrace.WithMaxExportBatchSize(cfg.BatchSize),
		sdktrace.WithBatchTimeout(batchDelay),
		sdktrace.WithExportTimeout(cfg.Timeout),
	)
	return e, nil
}

// Export hands the spans of a finished, sampled request to the export
// queue; it does nothing for an unsampled one, or on a nil Exporter (no
// collector configured). It copies what it needs, so
// the engine may Reset r as soon as it returns. It never blocks: when the
// queue cannot take all of the request's spans, none are queued (a partial
// trace misleads more than a missing one) and they are counted as dropped.
func (e *Exporter) Export(r *Request) {
	if e == nil || r == nil || !r.sampled {
		return
	}
	n := int64(spanCount(r))
	if e.stopped.Load() {
		e.dropped.WithLabelValues(dropStopped).Add(float64(n))
		return
	}
	if e.inFlight.Add(n) > e.queueSize {
		e.inFlight.Add(-n)
		e.dropped.WithLabelValues(dropQueueFull).Add(float64(n))
		return
	}
	for _, s := range buildSpans(r, e.resource, e.instance) {
		e.bsp.OnEnd(s)
	}
}

// Shutdown exports what is queued, within ctx, and stops the exporter;
// Export is a no-op afterwards.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.stopped.Store(true)
	if err := e.bsp.Shutdown(ctx); err != nil {
		return fmt.Errorf("otlp exporter shutdown: %w", err)
	}
	return nil
}

// Collectors are the exporter's metrics, for the gateway's registry.
func (e *Exporter) Collectors() []prometheus.Collector {
	return []prometheus.Collector{e.exported, e.dropped}
}

// countingExporter counts what the OTLP exporter sent and what it failed
// to send, and releases the spans' places in the queue.
type countingExporter struct {
	sdktrace.SpanExporter
	e *Exporter
}

// ExportSpans returns nil even when the export failed: the batch
// processor's only use of the error is OpenTelemetry's global error
// handler, which logs every failed batch; the failure is counted and
// logged here at most once per errorLogInterval instead.
func (c countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := c.SpanExporter.ExportSpans(ctx, spans)
	n := len(spans)
	c.e.inFlight.Add(-int64(n))
	if err == nil {
		c.e.exported.Add(float64(n))
		return nil
	}
	// A partial success (the collector rejected some spans) also comes as
	// an error; the whole batch is then counted as failed.
	c.e.dropped.WithLabelValues(dropExportFailed).Add(float64(n))
	now := time.Now().UnixNano()
	if last := c.e.lastErrorLog.Load(); now-last >= int64(errorLogInterval) && c.e.lastErrorLog.CompareAndSwap(last, now) {
		slog.Warn("trace export failed; spans are dropped (portico_trace_spans_dropped_total counts them)", "spans", n, "err", err)
	}
	return nil
}
