// Package tracing is the gateway's OpenTelemetry tracing: W3C trace
// context (the traceparent header), the per-request trace state, the
// sampling decision and the export of finished spans over OTLP/HTTP.
//
// The gateway owns its trace ids, span ids and timestamps instead of
// creating spans through an OpenTelemetry Tracer, for two reasons:
//
//   - Cost. Tracing runs on every proxied request and most requests are not
//     sampled. An unsampled request must cost a few tens of nanoseconds and
//     allocate nothing, so the per-request state ([Request]) is a fixed-size
//     value the engine embeds in its reused per-request state: ids are
//     random numbers from math/rand/v2's lock-free generator, phases and the
//     upstream call are slots in arrays, and every method returns at once
//     when the request is not sampled. A Tracer allocates a span, a context
//     and attribute storage per span, sampled or not.
//   - Order. The traceparent sent upstream must name the upstream (client)
//     span as its parent before that call has started, let alone ended, and
//     the phases of a plugin chain begin and end in a loop that must not
//     carry a context.Context through it. With our own ids the upstream span
//     id exists from Begin on, whatever happens later.
//
// At the end of a sampled request the engine calls [Exporter.Export],
// which copies the request's trace state into a bounded queue. One
// goroutine, woken per batch rather than per span, builds the finished
// spans (server span, one span per plugin phase, the upstream client span)
// directly as OTLP protobuf messages with their explicit ids, parents and
// times, and sends them with the OpenTelemetry OTLP/HTTP client, which
// does the wire format, the POSTs and their retries. The SDK's span
// objects and batch processor are not used: for spans the gateway has
// already described they only added cost (see spans.go).
package tracing
