package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/portico-gw/portico/internal/gateway"
	"github.com/portico-gw/portico/internal/gateway/accesslog"
	"github.com/portico-gw/portico/internal/gateway/tracing"
)

// DefaultTraceSampleRatio is the share of new traces sampled when
// tracing is on and a group sets no ratio: enough to see every route's
// shape under load at a cost the hot path hardly notices.
const DefaultTraceSampleRatio = 0.01

// telemetryFlags adds the access-log and tracing flags both `portico
// server` and `portico gateway` take, filling t once parsed; the answer
// parses the sinks and the endpoint, naming a bad value, so that a typo
// stops the start.
func telemetryFlags(f *pflag.FlagSet, t *gateway.Telemetry) func() error {
	var sinks, otlpHeaders []string
	var otlp string
	f.StringArrayVar(&sinks, "access-log", nil, "write the access log (one JSON line per request) to: stdout; file:/var/log/portico/access.log?max_size_mb=100&max_backups=5; "+
		"http(s)://collector/path?format=ndjson|json&batch=500&flush=1s&header=Name:Value (Loki via Vector, Elasticsearch, any JSON endpoint); syslog://host:514?tag=portico (also syslog+tcp://, syslog+unix:///dev/log). Repeatable; lines never wait for a sink: a full queue drops them, counted in portico_access_log_dropped_total")
	f.StringSliceVar(&t.RedactQuery, "access-log-redact", accesslog.DefaultRedacted, "query parameters whose values the access log writes as *** (globs with *, case-insensitive; repeatable, or comma-separated)")
	f.StringVar(&otlp, "otlp-endpoint", "", "trace requests and export sampled traces over OTLP/HTTP to this collector (http://127.0.0.1:4318; /v1/traces is added to a URL without a path); empty: tracing off, a client's traceparent goes upstream untouched")
	f.StringArrayVar(&otlpHeaders, "otlp-header", nil, "a header sent with every trace export, Name=Value (a tracing backend's API key; repeatable)")
	f.IntVar(&t.CallsPerSecond, "call-log-rate", gateway.DefaultCallsPerSecond, "calls a second the gateway keeps for the control plane's log search (past it, only failed calls, 4xx and 5xx, up to as many again; 0 keeps none); the access log is not limited")
	f.Float64Var(&t.TraceSampleRatio, "trace-sample-ratio", DefaultTraceSampleRatio, "share of new traces sampled, 0 to 1, on groups without their own trace_sample_ratio (a request continuing a client's trace follows the client's decision)")
	return func() error {
		t.AccessLog = nil
		for _, s := range sinks {
			sc, err := accesslog.ParseSink(s)
			if err != nil {
				return fmt.Errorf("--access-log: %w", err)
			}
			t.AccessLog = append(t.AccessLog, sc)
		}
		if t.TraceSampleRatio < 0 || t.TraceSampleRatio > 1 {
			return fmt.Errorf("--trace-sample-ratio %v: must be between 0 and 1", t.TraceSampleRatio)
		}
		t.OTLP = nil
		if otlp == "" {
			if len(otlpHeaders) > 0 {
				return fmt.Errorf("--otlp-header needs --otlp-endpoint")
			}
			return nil
		}
		cfg, err := tracing.ParseEndpoint(otlp)
		if err != nil {
			return fmt.Errorf("--otlp-endpoint: %w", err)
		}
		for _, h := range otlpHeaders {
			name, value, ok := strings.Cut(h, "=")
			if !ok || strings.TrimSpace(name) == "" {
				return fmt.Errorf("--otlp-header %q: want Name=Value", h)
			}
			if cfg.Headers == nil {
				cfg.Headers = map[string]string{}
			}
			cfg.Headers[strings.TrimSpace(name)] = value
		}
		t.OTLP = &cfg
		return nil
	}
}
