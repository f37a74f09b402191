package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"golang.org/x/net/http/httpguts"
)

// Defaults of ExporterConfig's zero fields.
const (
	DefaultServiceName = "portico-gateway"
	DefaultQueueSize   = 2048
	DefaultBatchSize   = 512
	DefaultTimeout     = 10 * time.Second
	// batchDelay is how long a span waits for its batch to fill (the
	// OpenTelemetry SDK's default).
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
// Export never blocks: requests wait in a bounded queue, and a request
// whose spans do not fit is dropped and counted.
//
// The queue is a slice under a mutex, emptied by one goroutine that is
// woken only when the queue's first request arrives (to start the batch's
// clock) and when a batch is full: under load the export costs a wake-up
// per batch, not per span.
type Exporter struct {
	client    otlptrace.Client
	resource  *resourcepb.Resource
	instance  string
	batchSize int
	timeout   time.Duration

	// inFlight counts spans queued or being exported; Export keeps it at
	// most queueSize.
	inFlight  atomic.Int64
	queueSize int64

	mu           sync.Mutex
	pending      []Request // detached copies; guarded by mu
	pendingSpans int       // guarded by mu
	stopped      bool      // guarded by mu
	spare        []Request // the other array, touched only by the worker

	kick   chan struct{}
	stop   chan struct{} // closed by Shutdown
	done   chan struct{} // closed when the worker has exported what was queued
	ctx    context.Context
	cancel context.CancelFunc

	exported prometheus.Counter
	dropped  *prometheus.CounterVec

	// lastErrorLog is when a failed export was last logged; failures in
	// between are only counted. Touched only by the worker.
	lastErrorLog time.Time
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
	client := otlptracehttp.NewClient(opts...)
	// Start only builds the HTTP client; it does not connect.
	if err := client.Start(context.Background()); err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}

	res := []*commonpb.KeyValue{}
	res = appendString(res, "service.name", cfg.ServiceName)
	res = appendString(res, "service.instance.id", cfg.Instance)
	res = appendString(res, "service.version", cfg.Version)
	ctx, cancel := context.WithCancel(context.Background())
	e := &Exporter{
		client:    client,
		resource:  &resourcepb.Resource{Attributes: res},
		instance:  cfg.Instance,
		batchSize: cfg.BatchSize,
		timeout:   cfg.Timeout,
		queueSize: int64(cfg.QueueSize),
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		ctx:       ctx,
		cancel:    cancel,
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
	go e.run()
	return e, nil
}

// Export hands the spans of a finished, sampled request to the export
// queue; it does nothing for an unsampled one, or on a nil Exporter (no
// collector configured). It copies what it needs, so the engine may Reset
// r as soon as it returns. It never blocks: when the queue cannot take all
// of the request's spans, none are queued (a partial trace misleads more
// than a missing one) and they are counted as dropped.
func (e *Exporter) Export(r *Request) {
	if e == nil || r == nil || !r.sampled {
		return
	}
	n := spanCount(r)
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		e.dropped.WithLabelValues(dropStopped).Add(float64(n))
		return
	}
	if e.inFlight.Add(int64(n)) > e.queueSize {
		e.inFlight.Add(-int64(n))
		e.mu.Unlock()
		e.dropped.WithLabelValues(dropQueueFull).Add(float64(n))
		return
	}
	e.pending = append(e.pending, *r)
	detach(&e.pending[len(e.pending)-1])
	first := len(e.pending) == 1
	before := e.pendingSpans
	e.pendingSpans += n
	full := before < e.batchSize && e.pendingSpans >= e.batchSize
	e.mu.Unlock()
	if first || full {
		select {
		case e.kick <- struct{}{}:
		default: // already kicked
		}
	}
}

// Shutdown exports what is queued, within ctx, and stops the exporter;
// Export is a no-op afterwards.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	already := e.stopped
	e.stopped = true
	e.mu.Unlock()
	if !already {
		close(e.stop)
	}
	var err error
	select {
	case <-e.done:
	case <-ctx.Done():
		e.cancel() // the export in progress gives up
		<-e.done
		err = fmt.Errorf("otlp exporter shutdown: %w", ctx.Err())
	}
	e.cancel()
	if stopErr := e.client.Stop(ctx); stopErr != nil && err == nil {
		err = fmt.Errorf("otlp exporter shutdown: %w", stopErr)
	}
	return err
}

// Collectors are the exporter's metrics, for the gateway's registry.
func (e *Exporter) Collectors() []prometheus.Collector {
	return []prometheus.Collector{e.exported, e.dropped}
}

// run exports the queued requests: as soon as a batch is full, and
// everything queued once the first request of it has waited batchDelay.
// On stop it exports what is queued and closes done.
func (e *Exporter) run() {
	defer close(e.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-e.kick: // the queue's first request: its clock starts
		case <-e.stop:
			e.exportQueued()
			return
		}
		timer.Reset(batchDelay)
	cycle:
		for {
			e.mu.Lock()
			queued, spans := len(e.pending), e.pendingSpans
			e.mu.Unlock()
			switch {
			case spans >= e.batchSize:
				e.exportQueued()
				continue
			case queued == 0:
				timer.Stop()
				break cycle
			}
			select {
			case <-timer.C:
				e.exportQueued()
				break cycle
			case <-e.kick: // a batch filled up, or a first request after one
			case <-e.stop:
				e.exportQueued()
				return
			}
		}
	}
}

// exportQueued takes the queue and sends it in batches of about batchSize
// spans (a request's spans stay in one batch).
func (e *Exporter) exportQueued() {
	e.mu.Lock()
	reqs := e.pending
	e.pending, e.pendingSpans = e.spare[:0], 0
	e.mu.Unlock()
	var spans []*tracepb.Span
	for i := range reqs {
		spans = appendSpans(spans, &reqs[i], e.instance)
		if len(spans) >= e.batchSize || i == len(reqs)-1 {
			e.upload(spans)
			spans = spans[:0]
		}
	}
	clear(reqs) // drop the strings for the collector
	e.spare = reqs[:0]
}

// upload sends one batch and counts it as exported or dropped.
func (e *Exporter) upload(spans []*tracepb.Span) {
	n := len(spans)
	ctx, cancel := context.WithTimeout(e.ctx, e.timeout)
	err := e.client.UploadTraces(ctx, []*tracepb.ResourceSpans{{
		Resource:   e.resource,
		ScopeSpans: []*tracepb.ScopeSpans{{Scope: &commonpb.InstrumentationScope{Name: scopeName}, Spans: spans}},
	}})
	cancel()
	e.inFlight.Add(-int64(n))
	if err == nil {
		e.exported.Add(float64(n))
		return
	}
	// A partial success (the collector rejected some spans) also comes as
	// an error; the whole batch is then counted as failed.
	e.dropped.WithLabelValues(dropExportFailed).Add(float64(n))
	if now := time.Now(); now.Sub(e.lastErrorLog) >= errorLogInterval {
		e.lastErrorLog = now
		slog.Warn("trace export failed; spans are dropped (portico_trace_spans_dropped_total counts them)", "spans", n, "err", err)
	}
}
