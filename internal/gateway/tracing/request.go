package tracing

import "time"

// MaxPhases is how many plugin-phase spans one request records; phases
// after it are not traced (PhaseStart returns -1). A fixed array keeps
// Request free of allocation; 16 covers a long plugin chain.
const MaxPhases = 16

// Request is the trace state of one gateway request. It has a fixed size
// and holds no pointers of its own beyond strings, so the engine embeds it
// in its reused per-request state: Begin at arrival, the phase and
// upstream methods as the request goes, End when the answer is written,
// Exporter.Export if Sampled, Reset before reuse.
//
// Every method is allocation-free. When the request is not sampled the
// phase and upstream methods return at once without reading the clock.
// A Request belongs to one request's goroutine; it is not safe for
// concurrent use.
type Request struct {
	// What the request matched, set by the engine after routing. Strings
	// may alias the engine's reused buffers: Exporter.Export copies them.
	Group, Project, Service, Route string
	// RequestID is the gateway's request id (portico.request_id).
	RequestID string
	// Method and Path are the client request's method and path.
	Method, Path string

	traceID  TraceID
	spanID   SpanID // the gateway's server span
	parentID SpanID // the client's span when continuing a trace
	remote   bool   // the trace came in with the request
	sampled  bool

	start, end int64 // Unix nanoseconds
	status     int

	phaseCount int
	phases     [MaxPhases]phaseSpan
	upstream   upstreamSpan
	// steps are a composite backend's calls (SetSteps); nil for any
	// other request, so Request stays comparable and small.
	steps *Steps
}

// Steps are the calls a composite backend made for a request, one span
// each, children of the server span. The engine keeps one per reused
// request state and hands it to SetSteps; Export copies it.
type Steps struct {
	List []Step
}

// Step is one call of a composite backend.
type Step struct {
	Name, Target, Method, Path string
	// Status is what the call's last attempt answered (0: none),
	// Outcome ok, failed, fallback, skipped, timeout or cancelled, Error
	// why it failed.
	Status         int
	Outcome, Error string
	Attempts       int
	Start, End     int64 // Unix nanoseconds
	SpanID         SpanID
}

// phaseSpan is one plugin phase: name points to the plugin's static name.
type phaseSpan struct {
	name       string
	start, end int64
}

// upstreamSpan is the call to the backend. Its id exists from Begin on
// (when sampled), because the traceparent sent upstream names it as the
// backend's parent before the call starts.
type upstreamSpan struct {
	id         SpanID
	node       string // host:port of the node called
	status     int    // the backend's status; 0 when it did not answer
	err        string // what went wrong (connect, timeout, …); "" if nothing
	start, end int64
	attempts   int // calls made (retries reuse the span)
}

// Begin starts the trace state of a request arriving at now (Unix
// nanoseconds). incoming is the request's traceparent header value ("" when
// absent). A valid incoming traceparent is continued: its trace id, the
// client's span as the parent of the gateway's, and its sampled flag
// (parent-based sampling: the client's decision stands). Otherwise the
// gateway starts a trace with a new id and sampler decides.
//
// Begin clears the trace state of a previous request but keeps the name
// fields, so the engine may set them before or after it.
func (r *Request) Begin(incoming string, sampler Sampler, now int64) {
	r.end, r.status = 0, 0
	r.phaseCount = 0
	r.upstream = upstreamSpan{}
	r.steps = nil
	r.parentID = SpanID{}
	if tid, parent, sampled, ok := ParseTraceparent(incoming); ok {
		r.traceID, r.parentID, r.sampled, r.remote = tid, parent, sampled, true
	} else {
		r.traceID = NewTraceID()
		r.sampled, r.remote = sampler.Sample(r.traceID), false
	}
	r.spanID = NewSpanID()
	if r.sampled {
		r.upstream.id = NewSpanID()
	}
	r.start = now
}

// Sampled reports whether this request's spans are to be exported.
func (r *Request) Sampled() bool { return r.sampled }

// TraceID is the request's trace id (zero before Begin).
func (r *Request) TraceID() TraceID { return r.traceID }

// SpanID is the id of the gateway's server span.
func (r *Request) SpanID() SpanID { return r.spanID }

// AppendTraceID appends the trace id in hex, for the access log and the
// gateway's error body.
func (r *Request) AppendTraceID(dst []byte) []byte { return r.traceID.AppendHex(dst) }

// UpstreamTraceparent appends the traceparent header value to send
// upstream. When sampled its parent is the upstream client span, which
// Export will report; when not sampled no span of ours is reported, so the
// parent is the gateway's span id (the trace stays connected for a backend
// that samples on its own) with the sampled flag off.
func (r *Request) UpstreamTraceparent(dst []byte) []byte {
	if r.sampled {
		return AppendTraceparent(dst, r.traceID, r.upstream.id, true)
	}
	return AppendTraceparent(dst, r.traceID, r.spanID, false)
}

// PhaseStart records the start of a plugin phase named name (a static
// string: it is kept until Export) and returns its index for PhaseEnd, or
// -1 when the request is not sampled or MaxPhases phases were recorded.
func (r *Request) PhaseStart(name string) int {
	if !r.sampled || r.phaseCount == MaxPhases {
		return -1
	}
	i := r.phaseCount
	r.phases[i] = phaseSpan{name: name, start: nowNanos()}
	r.phaseCount++
	return i
}

// PhaseEnd records the end of the phase PhaseStart returned i for; -1 (or
// any index PhaseStart did not return) is ignored.
func (r *Request) PhaseEnd(i int) {
	if i < 0 || i >= r.phaseCount {
		return
	}
	r.phases[i].end = nowNanos()
}

// UpstreamStart records a call to the node (host:port) starting. A retry
// calls it again: the span keeps the first call's start, names the last
// node and counts the calls, because the traceparent every call carried
// named the same upstream span.
func (r *Request) UpstreamStart(node string) {
	if !r.sampled {
		return
	}
	if r.upstream.attempts == 0 {
		r.upstream.start = nowNanos()
	}
	r.upstream.node = node
	r.upstream.attempts++
	r.upstream.status, r.upstream.err, r.upstream.end = 0, "", 0
}

// UpstreamEnd records the end of the upstream call: the backend's status
// (0 when none) and err, what went wrong ("" when nothing).
func (r *Request) UpstreamEnd(status int, err string) {
	if !r.sampled || r.upstream.attempts == 0 {
		return
	}
	r.upstream.status, r.upstream.err, r.upstream.end = status, err, nowNanos()
}

// SetSteps records the calls of a composite backend as spans (when the
// request is sampled); s must stay unchanged until Export or Reset.
func (r *Request) SetSteps(s *Steps) {
	if r.sampled && s != nil && len(s.List) > 0 {
		r.steps = s
	}
}

// End records the status answered to the client and when the answer ended
// (Unix nanoseconds).
func (r *Request) End(status int, now int64) {
	r.status, r.end = status, now
}

// Status is the status End recorded.
func (r *Request) Status() int { return r.status }

// Reset clears r for the next request.
func (r *Request) Reset() { *r = Request{} }

// nowNanos is the clock of phases and upstream calls, read only for
// sampled requests; Begin and End take the engine's own reading so an
// unsampled request reads no clock here.
func nowNanos() int64 { return time.Now().UnixNano() }
