package tracing

import (
	"net"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// The finished spans are built with tracetest.SpanStub.Snapshot, the SDK's
// public way to make a ReadOnlySpan with explicit ids, parent and times.
// The alternative, a Tracer whose IDGenerator returns ids smuggled in
// through the context given to Start, was rejected: it relies on the SDK
// passing that very context to the generator (true today, not part of the
// IDGenerator contract), it cannot express the upstream span's id being
// fixed before its parent span has been started in SDK terms, and it would
// allocate two contexts and a recording span per span only to produce the
// same snapshot the processor receives here.

// scope names the instrumentation in every exported span.
var scope = instrumentation.Scope{Name: "github.com/portico-gw/portico/internal/gateway/tracing"}

// spanCount is how many spans buildSpans makes of r.
func spanCount(r *Request) int {
	n := 1 + r.phaseCount
	if r.upstream.attempts > 0 {
		n++
	}
	return n
}

// buildSpans makes the finished spans of a sampled request: the gateway's
// server span, one internal span per plugin phase and the upstream client
// span, the last two kinds children of the first. Strings are copied: the
// Request's may alias buffers the engine reuses.
func buildSpans(r *Request, res *resource.Resource, instance string) []sdktrace.ReadOnlySpan {
	end := r.end
	if end == 0 { // End was not called: the request ends now
		end = nowNanos()
	}
	method := strings.Clone(r.Method)
	path := strings.Clone(r.Path)
	server := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID(r.traceID), SpanID: trace.SpanID(r.spanID), TraceFlags: trace.FlagsSampled,
	})
	var parent trace.SpanContext
	if r.remote {
		parent = trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID(r.traceID), SpanID: trace.SpanID(r.parentID), TraceFlags: trace.FlagsSampled, Remote: true,
		})
	}
	spans := make([]sdktrace.ReadOnlySpan, 0, spanCount(r))

	attrs := make([]attribute.KeyValue, 0, 10)
	if method != "" {
		attrs = append(attrs, attribute.String("http.request.method", method))
	}
	if path != "" {
		attrs = append(attrs, attribute.String("url.path", path))
	}
	if r.status != 0 {
		attrs = append(attrs, attribute.Int("http.response.status_code", r.status))
	}
	attrs = appendNonEmpty(attrs, "portico.group", r.Group)
	attrs = appendNonEmpty(attrs, "portico.project", r.Project)
	attrs = appendNonEmpty(attrs, "portico.service", r.Service)
	attrs = appendNonEmpty(attrs, "portico.route", r.Route)
	attrs = appendNonEmpty(attrs, "portico.instance", instance)
	attrs = appendNonEmpty(attrs, "portico.request_id", r.RequestID)
	var status sdktrace.Status
	if r.status >= 500 {
		status = sdktrace.Status{Code: codes.Error}
	}
	spans = append(spans, tracetest.SpanStub{
		Name:                 serverSpanName(method, r.Route),
		SpanContext:          server,
		Parent:               parent,
		SpanKind:             trace.SpanKindServer,
		StartTime:            time.Unix(0, r.start),
		EndTime:              time.Unix(0, end),
		Attributes:           attrs,
		Status:               status,
		ChildSpanCount:       spanCount(r) - 1,
		Resource:             res,
		InstrumentationScope: scope,
	}.Snapshot())

	for i := range r.phaseCount {
		p := &r.phases[i]
		pEnd := p.end
		if pEnd == 0 { // a phase left without PhaseEnd ends with the request
			pEnd = end
		}
		spans = append(spans, tracetest.SpanStub{
			Name:                 "plugin " + p.name,
			SpanContext:          childContext(r.traceID, NewSpanID()),
			Parent:               server,
			SpanKind:             trace.SpanKindInternal,
			StartTime:            time.Unix(0, p.start),
			EndTime:              time.Unix(0, pEnd),
			Resource:             res,
			InstrumentationScope: scope,
		}.Snapshot())
	}

	if u := &r.upstream; u.attempts > 0 {
		spans = append(spans, upstreamSpanOf(r, u, server, method, path, end, res))
	}
	return spans
}

// upstreamSpanOf is the client span of the call to the backend, named and
// described per OpenTelemetry's HTTP client conventions.
func upstreamSpanOf(r *Request, u *upstreamSpan, server trace.SpanContext, method, path string, end int64, res *resource.Resource) sdktrace.ReadOnlySpan {
	uEnd := u.end
	if uEnd == 0 { // no UpstreamEnd: the call ended with the request
		uEnd = end
	}
	attrs := make([]attribute.KeyValue, 0, 8)
	if method != "" {
		attrs = append(attrs, attribute.String("http.request.method", method))
	}
	if path != "" {
		attrs = append(attrs, attribute.String("url.path", path))
	}
	if host, port, err := net.SplitHostPort(u.node); err == nil {
		attrs = append(attrs, attribute.String("server.address", strings.Clone(host)))
		if p, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, attribute.Int("server.port", p))
		}
	} else if u.node != "" {
		attrs = append(attrs, attribute.String("server.address", strings.Clone(u.node)))
	}
	if u.status != 0 {
		attrs = append(attrs, attribute.Int("http.response.status_code", u.status))
	}
	if u.attempts > 1 {
		attrs = append(attrs, attribute.Int("http.request.resend_count", u.attempts-1))
	}
	var status sdktrace.Status
	switch {
	case u.err != "":
		errText := strings.Clone(u.err)
		attrs = append(attrs, attribute.String("error.type", errText))
		status = sdktrace.Status{Code: codes.Error, Description: errText}
	case u.status >= 500:
		attrs = append(attrs, attribute.String("error.type", strconv.Itoa(u.status)))
		status = sdktrace.Status{Code: codes.Error}
	}
	name := method
	if name == "" {
		name = "HTTP"
	}
	return tracetest.SpanStub{
		Name:                 name,
		SpanContext:          childContext(r.traceID, u.id),
		Parent:               server,
		SpanKind:             trace.SpanKindClient,
		StartTime:            time.Unix(0, u.start),
		EndTime:              time.Unix(0, uEnd),
		Attributes:           attrs,
		Status:               status,
		Resource:             res,
		InstrumentationScope: scope,
	}.Snapshot()
}

func childContext(tid TraceID, sid SpanID) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID(tid), SpanID: trace.SpanID(sid), TraceFlags: trace.FlagsSampled,
	})
}

// serverSpanName is "<METHOD> <route>", the route's name standing for the
// HTTP conventions' route template. Without a route (nothing matched) it is
// the method alone, as the conventions ask: the path would give span names
// as many values as clients can invent.
func serverSpanName(method, route string) string {
	switch {
	case method == "" && route == "":
		return "HTTP"
	case method == "":
		return route
	case route == "":
		return method
	}
	return method + " " + route
}

func appendNonEmpty(attrs []attribute.KeyValue, key, value string) []attribute.KeyValue {
	if value == "" {
		return attrs
	}
	return append(attrs, attribute.String(key, strings.Clone(value)))
}
