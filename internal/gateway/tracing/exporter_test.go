package tracing

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// receiver is an OTLP/HTTP collector: it decodes what it receives and
// keeps the spans with their resource's attributes.
type receiver struct {
	t       testing.TB
	srv     *httptest.Server
	release chan struct{} // when not nil, requests wait for it to close

	mu      sync.Mutex
	spans   []*tracepb.Span
	res     map[string]string
	headers http.Header
}

func newReceiver(t testing.TB, hold bool) *receiver {
	rc := &receiver{t: t, res: map[string]string{}}
	if hold {
		rc.release = make(chan struct{})
	}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(func() {
		if rc.release != nil {
			select {
			case <-rc.release:
			default:
				close(rc.release)
			}
		}
		rc.srv.Close()
	})
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if rc.release != nil {
		<-rc.release
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		rc.t.Errorf("collector got %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		http.Error(w, "unexpected", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		rc.t.Errorf("collector read: %v", err)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		rc.t.Errorf("collector decode: %v", err)
		http.Error(w, "bad protobuf", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.headers = r.Header.Clone()
	for _, rs := range req.ResourceSpans {
		for _, kv := range rs.GetResource().GetAttributes() {
			rc.res[kv.Key] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.ScopeSpans {
			rc.spans = append(rc.spans, ss.Spans...)
		}
	}
	rc.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (rc *receiver) received() ([]*tracepb.Span, map[string]string, http.Header) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.spans, rc.res, rc.headers
}

func attrs(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		switch v := kv.GetValue().GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.Key] = v.IntValue
		default:
			m[kv.Key] = kv.GetValue().String()
		}
	}
	return m
}

func shutdown(t testing.TB, e *Exporter) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// sampledRequest runs one request through r the way the engine does and
// returns the traceparent it sent upstream.
func sampledRequest(r *Request, incoming string, status, upstreamStatus int) string {
	r.Begin(incoming, NewSampler(0), time.Now().UnixNano())
	r.Group, r.Project, r.Service, r.Route, r.RequestID = "prod", "p1", "orders", "list-orders", "req-1"
	r.Method, r.Path = "GET", "/orders/42"
	i := r.PhaseStart("key-auth")
	r.PhaseEnd(i)
	i = r.PhaseStart("limit-count")
	r.PhaseEnd(i)
	tp := string(r.UpstreamTraceparent(nil))
	r.UpstreamStart("127.0.0.1:8080")
	r.UpstreamEnd(upstreamStatus, "")
	r.End(status, time.Now().UnixNano())
	return tp
}

func TestExportSendsTheSpanTree(t *testing.T) {
	rc := newReceiver(t, false)
	e, err := NewExporter(ExporterConfig{
		Endpoint: rc.srv.URL, Headers: map[string]string{"X-Api-Key": "k1"},
		Instance: "gw-1", Version: "1.2.3",
	})
	if err != nil {
		t.Fatal(err)
	}
	var r Request
	tp := sampledRequest(&r, incomingSampled, 502, 503)
	e.Export(&r)
	// The engine reuses its state at once; Export must have copied.
	r.Reset()
	r.Method, r.Path, r.Route = "XXX", "/overwritten", "overwritten"
	// An unsampled request exports nothing.
	sampledRequest(&r, strings.TrimSuffix(incomingSampled, "1")+"0", 200, 200)
	e.Export(&r)
	shutdown(t, e)

	spans, res, headers := rc.received()
	if len(spans) != 4 {
		t.Fatalf("collector got %d spans, want 4 (server, 2 plugins, upstream): %v", len(spans), spans)
	}
	if headers.Get("X-Api-Key") != "k1" {
		t.Errorf("header X-Api-Key = %q", headers.Get("X-Api-Key"))
	}
	if res["service.name"] != "portico-gateway" || res["service.instance.id"] != "gw-1" || res["service.version"] != "1.2.3" {
		t.Errorf("resource = %v", res)
	}
	_, upstreamParent, _, ok := ParseTraceparent(tp)
	if !ok {
		t.Fatalf("upstream traceparent %q invalid", tp)
	}

	byKind := map[tracepb.Span_SpanKind][]*tracepb.Span{}
	for _, s := range spans {
		if got := TraceID(s.TraceId); got.String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("span %q trace id %s, want the incoming one", s.Name, got)
		}
		if s.StartTimeUnixNano == 0 || s.EndTimeUnixNano < s.StartTimeUnixNano {
			t.Errorf("span %q times %d..%d", s.Name, s.StartTimeUnixNano, s.EndTimeUnixNano)
		}
		byKind[s.Kind] = append(byKind[s.Kind], s)
	}
	servers, plugins, clients := byKind[tracepb.Span_SPAN_KIND_SERVER], byKind[tracepb.Span_SPAN_KIND_INTERNAL], byKind[tracepb.Span_SPAN_KIND_CLIENT]
	if len(servers) != 1 || len(plugins) != 2 || len(clients) != 1 {
		t.Fatalf("kinds: %d server, %d internal, %d client; want 1, 2, 1", len(servers), len(plugins), len(clients))
	}
	server, upstream := servers[0], clients[0]
	if got := SpanID(server.ParentSpanId); got.String() != "00f067aa0ba902b7" {
		t.Errorf("server span parent = %s, want the incoming parent", got)
	}
	if server.Name != "GET list-orders" {
		t.Errorf("server span name %q", server.Name)
	}
	sa := attrs(server.Attributes)
	for k, want := range map[string]any{
		"http.request.method": "GET", "url.path": "/orders/42", "http.response.status_code": int64(502),
		"portico.group": "prod", "portico.project": "p1", "portico.service": "orders", "portico.route": "list-orders",
		"portico.instance": "gw-1", "portico.request_id": "req-1",
	} {
		if sa[k] != want {
			t.Errorf("server span %s = %v, want %v", k, sa[k], want)
		}
	}
	if server.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("server span status %v for a 502, want error", server.Status)
	}
	for _, c := range append(plugins, upstream) {
		if !slicesEqual(c.ParentSpanId, server.SpanId) {
			t.Errorf("span %q parent %x, want the server span %x", c.Name, c.ParentSpanId, server.SpanId)
		}
	}
	names := map[string]bool{plugins[0].Name: true, plugins[1].Name: true}
	if !names["plugin key-auth"] || !names["plugin limit-count"] {
		t.Errorf("plugin span names %v", names)
	}
	if got := SpanID(upstream.SpanId); got != upstreamParent {
		t.Errorf("upstream span id %s, want the traceparent's parent %s", got, upstreamParent)
	}
	ua := attrs(upstream.Attributes)
	for k, want := range map[string]any{
		"http.request.method": "GET", "server.address": "127.0.0.1", "server.port": int64(8080),
		"http.response.status_code": int64(503), "error.type": "503",
	} {
		if ua[k] != want {
			t.Errorf("upstream span %s = %v, want %v", k, ua[k], want)
		}
	}
	if upstream.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("upstream span status %v for a 503, want error", upstream.Status)
	}
	if got := testutil.ToFloat64(e.exported); got != 4 {
		t.Errorf("portico_trace_spans_exported_total = %v, want 4", got)
	}
}

func slicesEqual(a, b []byte) bool { return string(a) == string(b) }

func TestNewTraceHasNoParent(t *testing.T) {
	rc := newReceiver(t, false)
	e, err := NewExporter(ExporterConfig{Endpoint: rc.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var r Request
	r.Begin("", NewSampler(1), time.Now().UnixNano())
	r.Method = "POST" // no route matched: no phase, no upstream call
	r.End(404, time.Now().UnixNano())
	e.Export(&r)
	shutdown(t, e)
	spans, _, _ := rc.received()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want the server span only", len(spans))
	}
	s := spans[0]
	if len(s.ParentSpanId) != 0 || TraceID(s.TraceId) != r.TraceID() || s.Name != "POST" {
		t.Errorf("span %q parent %x trace %x; want no parent, trace %s", s.Name, s.ParentSpanId, s.TraceId, r.TraceID())
	}
	if s.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("a 404 marked the span as an error")
	}
}

// A composite backend's steps are client spans, children of the server
// span, with the ids the calls' traceparents named; the engine's list is
// copied by Export.
func TestExportStepSpans(t *testing.T) {
	rc := newReceiver(t, false)
	e, err := NewExporter(ExporterConfig{Endpoint: rc.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixNano()
	var r Request
	r.Begin("", NewSampler(1), now)
	r.Method, r.Route = "GET", "profile"
	userID := NewSpanID()
	steps := &Steps{List: []Step{
		{Name: "user", Target: "users/get-user", Method: "GET", Path: "/users/7", Status: 200, Outcome: "ok", Attempts: 1,
			Start: now + 10, End: now + 20, SpanID: userID},
		{Name: "orders", Target: "upstream", Method: "GET", Path: "/orders", Status: 503, Outcome: "failed",
			Error: "answered 503", Attempts: 2, Start: now + 10, End: now + 30},
	}}
	r.SetSteps(steps)
	r.End(502, now+40)
	e.Export(&r)
	steps.List[0].Name = "overwritten" // the engine reuses its list
	r.Reset()
	shutdown(t, e)
	spans, _, _ := rc.received()
	if len(spans) != 3 {
		t.Fatalf("collector got %d spans, want 3 (server, 2 steps)", len(spans))
	}
	byName := map[string]*tracepb.Span{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	server, user, orders := byName["GET profile"], byName["step user"], byName["step orders"]
	if server == nil || user == nil || orders == nil {
		t.Fatalf("span names %v", byName)
	}
	for _, s := range []*tracepb.Span{user, orders} {
		if !slicesEqual(s.ParentSpanId, server.SpanId) || s.Kind != tracepb.Span_SPAN_KIND_CLIENT {
			t.Errorf("step span %q: parent %x kind %v, want the server span %x, client", s.Name, s.ParentSpanId, s.Kind, server.SpanId)
		}
	}
	if SpanID(user.SpanId) != userID || user.StartTimeUnixNano != uint64(now+10) || user.EndTimeUnixNano != uint64(now+20) {
		t.Errorf("user span id %x times %d..%d", user.SpanId, user.StartTimeUnixNano, user.EndTimeUnixNano)
	}
	if user.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("an ok step marked as an error")
	}
	oa := attrs(orders.Attributes)
	for k, want := range map[string]any{
		"portico.step.target": "upstream", "portico.step.outcome": "failed", "portico.step.attempts": int64(2),
		"http.response.status_code": int64(503), "url.path": "/orders",
	} {
		if oa[k] != want {
			t.Errorf("orders span %s = %v, want %v", k, oa[k], want)
		}
	}
	if orders.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || orders.Status.GetMessage() != "answered 503" {
		t.Errorf("failed step's status %v", orders.Status)
	}
}
