package tracing

import (
	"net"
	"slices"
	"strconv"
	"strings"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// The finished spans are built directly as OTLP protobuf messages and
// handed to the OTLP/HTTP client of the OpenTelemetry exporter, without
// the SDK's span objects in between: the gateway already knows every
// span's ids, parent and times, and going through SDK snapshots (and the
// SDK's batch processor, which wakes its goroutine for every span) cost
// several times what the protobuf alone costs.

// scopeName names the instrumentation in every exported span.
const scopeName = "github.com/portico-gw/portico/internal/gateway/tracing"

// Span flags of OTLP (trace.proto's SpanFlags): the W3C sampled bit, and
// whether the parent is known to be remote.
const (
	flagSampled      = 0x01
	flagHasIsRemote  = 0x100
	flagParentRemote = 0x200
)

// spanCount is how many spans appendSpans makes of r.
func spanCount(r *Request) int {
	n := 1 + r.phaseCount
	if r.upstream.attempts > 0 {
		n++
	}
	if r.steps != nil {
		n += len(r.steps.List)
	}
	return n
}

// detach gives r's strings storage of their own (one allocation for all
// of them), so r may be kept after the engine reuses the buffers they
// aliased. Phase names are static and stay as they are.
func detach(r *Request) {
	fields := [...]*string{&r.Group, &r.Project, &r.Service, &r.Route, &r.RequestID, &r.Method, &r.Path, &r.upstream.node, &r.upstream.err}
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(*f)
	}
	all, off := b.String(), 0
	for _, f := range fields {
		l := len(*f)
		*f = all[off : off+l]
		off += l
	}
	if r.steps != nil {
		// The engine reuses its list; the steps' strings are its own.
		r.steps = &Steps{List: slices.Clone(r.steps.List)}
	}
}

// appendSpans appends the finished spans of a sampled request: the
// gateway's server span, one internal span per plugin phase and the
// upstream client span, the last two kinds children of the first.
func appendSpans(spans []*tracepb.Span, r *Request, instance string) []*tracepb.Span {
	end := r.end
	if end == 0 { // End was not called: the request ends now
		end = nowNanos()
	}
	flags := uint32(flagSampled | flagHasIsRemote)
	server := &tracepb.Span{
		TraceId:           r.traceID[:],
		SpanId:            r.spanID[:],
		Name:              serverSpanName(r.Method, r.Route),
		Kind:              tracepb.Span_SPAN_KIND_SERVER,
		StartTimeUnixNano: uint64(r.start),
		EndTimeUnixNano:   uint64(end),
		Flags:             flags,
		Attributes:        make([]*commonpb.KeyValue, 0, 9),
	}
	if r.remote {
		server.ParentSpanId = r.parentID[:]
		server.Flags |= flagParentRemote
	}
	a := server.Attributes
	a = appendString(a, "http.request.method", r.Method)
	a = appendString(a, "url.path", r.Path)
	if r.status != 0 {
		a = appendInt(a, "http.response.status_code", int64(r.status))
	}
	a = appendString(a, "portico.group", r.Group)
	a = appendString(a, "portico.project", r.Project)
	a = appendString(a, "portico.service", r.Service)
	a = appendString(a, "portico.route", r.Route)
	a = appendString(a, "portico.instance", instance)
	a = appendString(a, "portico.request_id", r.RequestID)
	server.Attributes = a
	if r.status >= 500 {
		server.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR}
	}
	spans = append(spans, server)

	for i := range r.phaseCount {
		p := &r.phases[i]
		pEnd := p.end
		if pEnd == 0 { // a phase left without PhaseEnd ends with the request
			pEnd = end
		}
		id := NewSpanID()
		spans = append(spans, &tracepb.Span{
			TraceId:           r.traceID[:],
			SpanId:            id[:],
			ParentSpanId:      r.spanID[:],
			Name:              "plugin " + p.name,
			Kind:              tracepb.Span_SPAN_KIND_INTERNAL,
			StartTimeUnixNano: uint64(p.start),
			EndTimeUnixNano:   uint64(pEnd),
			Flags:             flags,
		})
	}

	if u := &r.upstream; u.attempts > 0 {
		spans = append(spans, upstreamSpanOf(r, u, end, flags))
	}
	if r.steps != nil {
		for i := range r.steps.List {
			spans = append(spans, stepSpanOf(r, &r.steps.List[i], end, flags))
		}
	}
	return spans
}

// stepSpanOf is the client span of a composite backend's step: the
// calls it made (an API's in-process server span, an upstream call) are
// its children, through the traceparent they carried.
func stepSpanOf(r *Request, s *Step, end int64, flags uint32) *tracepb.Span {
	sEnd := s.End
	if sEnd == 0 || sEnd < s.Start {
		sEnd = end
	}
	id := s.SpanID
	if id == (SpanID{}) {
		id = NewSpanID()
	}
	a := make([]*commonpb.KeyValue, 0, 7)
	a = appendString(a, "portico.step.target", s.Target)
	a = appendString(a, "http.request.method", s.Method)
	a = appendString(a, "url.path", s.Path)
	if s.Status != 0 {
		a = appendInt(a, "http.response.status_code", int64(s.Status))
	}
	a = appendString(a, "portico.step.outcome", s.Outcome)
	if s.Attempts > 0 {
		a = appendInt(a, "portico.step.attempts", int64(s.Attempts))
	}
	var status *tracepb.Status
	if s.Outcome == "failed" || s.Outcome == "timeout" {
		a = appendString(a, "error.type", s.Outcome)
		status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: s.Error}
	}
	return &tracepb.Span{
		TraceId:           r.traceID[:],
		SpanId:            id[:],
		ParentSpanId:      r.spanID[:],
		Name:              "step " + s.Name,
		Kind:              tracepb.Span_SPAN_KIND_CLIENT,
		StartTimeUnixNano: uint64(s.Start),
		EndTimeUnixNano:   uint64(sEnd),
		Flags:             flags,
		Attributes:        a,
		Status:            status,
	}
}

// upstreamSpanOf is the client span of the call to the backend, named and
// described per OpenTelemetry's HTTP client conventions.
func upstreamSpanOf(r *Request, u *upstreamSpan, end int64, flags uint32) *tracepb.Span {
	uEnd := u.end
	if uEnd == 0 { // no UpstreamEnd: the call ended with the request
		uEnd = end
	}
	a := make([]*commonpb.KeyValue, 0, 7)
	a = appendString(a, "http.request.method", r.Method)
	a = appendString(a, "url.path", r.Path)
	if host, port, err := net.SplitHostPort(u.node); err == nil {
		a = appendString(a, "server.address", host)
		if p, err := strconv.Atoi(port); err == nil {
			a = appendInt(a, "server.port", int64(p))
		}
	} else {
		a = appendString(a, "server.address", u.node)
	}
	if u.status != 0 {
		a = appendInt(a, "http.response.status_code", int64(u.status))
	}
	if u.attempts > 1 {
		a = appendInt(a, "http.request.resend_count", int64(u.attempts-1))
	}
	var status *tracepb.Status
	switch {
	case u.err != "":
		a = appendString(a, "error.type", u.err)
		status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: u.err}
	case u.status >= 500:
		a = appendString(a, "error.type", strconv.Itoa(u.status))
		status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR}
	}
	name := r.Method
	if name == "" {
		name = "HTTP"
	}
	return &tracepb.Span{
		TraceId:           r.traceID[:],
		SpanId:            u.id[:],
		ParentSpanId:      r.spanID[:],
		Name:              name,
		Kind:              tracepb.Span_SPAN_KIND_CLIENT,
		StartTimeUnixNano: uint64(u.start),
		EndTimeUnixNano:   uint64(uEnd),
		Flags:             flags,
		Attributes:        a,
		Status:            status,
	}
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

// appendString adds a string attribute unless value is empty.
func appendString(a []*commonpb.KeyValue, key, value string) []*commonpb.KeyValue {
	if value == "" {
		return a
	}
	return append(a, &commonpb.KeyValue{Key: key, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: value}}})
}

func appendInt(a []*commonpb.KeyValue, key string, value int64) []*commonpb.KeyValue {
	return append(a, &commonpb.KeyValue{Key: key, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: value}}})
}
