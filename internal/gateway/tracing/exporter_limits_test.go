package tracing

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func dropped(e *Exporter, reason string) float64 {
	return testutil.ToFloat64(e.dropped.WithLabelValues(reason))
}

// exportMany exports n sampled requests (4 spans each) and fails when that
// took long: Export must never wait for the collector.
func exportMany(t *testing.T, e *Exporter, n int) {
	t.Helper()
	var r Request
	began := time.Now()
	for range n {
		sampledRequest(&r, incomingSampled, 200, 200)
		e.Export(&r)
		r.Reset()
	}
	// Building 4 spans costs microseconds; a blocked Export would take the
	// export timeout (seconds).
	if took := time.Since(began); took > time.Second {
		t.Fatalf("%d Exports took %v", n, took)
	}
}

func TestExportToDeadEndpointNeverBlocks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	e, err := NewExporter(ExporterConfig{Endpoint: "http://" + addr, QueueSize: 8, BatchSize: 4, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	const requests = 200
	exportMany(t, e, requests)
	shutdown(t, e)

	full, failed := dropped(e, dropQueueFull), dropped(e, dropExportFailed)
	if got := testutil.ToFloat64(e.exported); got != 0 {
		t.Errorf("exported %v spans to a closed port", got)
	}
	if failed == 0 || full+failed != 4*requests {
		t.Errorf("dropped: queue_full %v + export_failed %v, want every one of %d spans, some failed", full, failed, 4*requests)
	}
}

func TestExportDropsWhenCollectorHangs(t *testing.T) {
	rc := newReceiver(t, true) // holds every request until released
	e, err := NewExporter(ExporterConfig{Endpoint: rc.srv.URL, QueueSize: 8, BatchSize: 4, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Two requests (8 spans) fill the queue whether or not the first batch
	// is already held in an export: spans count until their export returns.
	exportMany(t, e, 10)
	if got := dropped(e, dropQueueFull); got != 8*4 {
		t.Errorf("queue_full = %v, want the 32 spans of the 8 requests that did not fit", got)
	}
	close(rc.release)
	shutdown(t, e)
	if got := testutil.ToFloat64(e.exported); got != 8 {
		t.Errorf("exported = %v, want the 8 spans that fitted", got)
	}
	spans, _, _ := rc.received()
	if len(spans) != 8 {
		t.Errorf("collector got %d spans, want 8", len(spans))
	}
	var r Request
	sampledRequest(&r, incomingSampled, 200, 200)
	e.Export(&r)
	if got := dropped(e, dropStopped); got != 4 {
		t.Errorf("Export after Shutdown: stopped = %v, want 4", got)
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  string // a word the error must contain
	}{
		{in: "http://127.0.0.1:4318", want: "http://127.0.0.1:4318/v1/traces"},
		{in: "http://127.0.0.1:4318/", want: "http://127.0.0.1:4318/v1/traces"},
		{in: "https://otel.example.com/custom/traces", want: "https://otel.example.com/custom/traces"},
		{in: "http://[::1]:4318", want: "http://[::1]:4318/v1/traces"},
		{in: "grpc://127.0.0.1:4317", wantErr: "scheme"},
		{in: "127.0.0.1:4318", wantErr: "http(s) URL"},
		{in: "", wantErr: "scheme"},
		{in: "http://user:secret@127.0.0.1:4318", wantErr: "user info"},
		{in: "http://127.0.0.1:4318/v1/traces#frag", wantErr: "fragment"},
		{in: "http://127.0.0.1:4318/v1/traces?x=1", wantErr: "query"},
		{in: "http:///v1/traces", wantErr: "host"},
		{in: "http://:4318", wantErr: "host"},
		{in: "http://127.0.0.1:port", wantErr: "port"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			cfg, err := ParseEndpoint(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseEndpoint(%q) = %v, %v; want an error about %s", tt.in, cfg, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error shows the password: %v", err)
				}
				return
			}
			if err != nil || cfg.Endpoint != tt.want {
				t.Fatalf("ParseEndpoint(%q) = %q, %v; want %q", tt.in, cfg.Endpoint, err, tt.want)
			}
		})
	}
}

func TestNewExporterRefusesBadConfig(t *testing.T) {
	const ok = "http://127.0.0.1:4318"
	tests := []struct {
		name    string
		cfg     ExporterConfig
		wantErr string
	}{
		{"bad endpoint", ExporterConfig{Endpoint: "ftp://x"}, "scheme"},
		{"bad header name", ExporterConfig{Endpoint: ok, Headers: map[string]string{"bad name": "v"}}, "header name"},
		{"bad header value", ExporterConfig{Endpoint: ok, Headers: map[string]string{"X-Key": "a\r\nb"}}, "header value"},
		{"negative queue", ExporterConfig{Endpoint: ok, QueueSize: -1}, "negative"},
		{"negative timeout", ExporterConfig{Endpoint: ok, Timeout: -time.Second}, "negative"},
		{"batch over queue", ExporterConfig{Endpoint: ok, QueueSize: 10, BatchSize: 11}, "batch size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewExporter(tt.cfg)
			if err == nil {
				shutdown(t, e)
				t.Fatalf("NewExporter accepted %+v", tt.cfg)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not mention %s", err, tt.wantErr)
			}
		})
	}
}

func TestCollectorsRegister(t *testing.T) {
	e, err := NewExporter(ExporterConfig{Endpoint: "http://127.0.0.1:4318"})
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, e)
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.Collectors()...)
	n, err := testutil.GatherAndCount(reg, "portico_trace_spans_exported_total", "portico_trace_spans_dropped_total")
	if err != nil || n != 4 { // exported + dropped by 3 reasons
		t.Fatalf("gathered %d series, %v; want 4", n, err)
	}
}

// BenchmarkSampledRequest measures a sampled request from Begin to Export
// plus, in cpu-ns/op, the export in the background (building the protobuf,
// the HTTP request) until Shutdown has sent everything. The collector reads
// and discards. The loop waits for the queue to drain to half when it is
// nearly full (sleeping, which costs no CPU), so no request is dropped (a dropped one costs less and
// would flatter the figure).
func BenchmarkSampledRequest(b *testing.B) {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	const queue = 1 << 14
	e, err := NewExporter(ExporterConfig{Endpoint: collector.URL, QueueSize: queue, BatchSize: 512})
	if err != nil {
		b.Fatal(err)
	}
	var r Request
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		sampledRequest(&r, incomingSampled, 200, 200)
		e.Export(&r)
		r.Reset()
		if e.inFlight.Load() > queue-64 {
			// Throttling, not synchronisation: sleeping rather than
			// spinning keeps the wait out of the CPU measured.
			for e.inFlight.Load() > queue/2 {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}
	b.StopTimer()
	shutdown(b, e)
	b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
	if d := dropped(e, dropQueueFull) + dropped(e, dropExportFailed); d != 0 {
		b.Fatalf("%v spans dropped", d)
	}
}
