package engine

import (
	"math/rand/v2"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/portico-gw/portico/internal/gateway/accesslog"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/gateway/tracing"
	"github.com/portico-gw/portico/internal/spec"
)

// Telemetry is what the engines record of each request beyond metrics:
// the access log and traces. Both engines share it through Call, so a
// request is logged and traced the same whichever serves it.
type Telemetry struct {
	// Log writes the access log; nil: none.
	Log *accesslog.Logger
	// Calls writes the calls kept for the control plane's log search,
	// as many as Budget admits; nil: none.
	Calls  *accesslog.Logger
	Budget *CallBudget
	// Traces exports sampled traces; nil: tracing is off (no trace ids
	// are made, a client's traceparent goes upstream untouched).
	Traces *tracing.Exporter
	// Sampler decides new traces of services whose group sets no ratio,
	// and of requests no route matched.
	Sampler tracing.Sampler
	// Group names the group in records of requests no route matched (a
	// stand-alone gateway's group; "" for the embedded one).
	Group string
}

// Tracing reports whether requests are traced.
func (t *Telemetry) Tracing() bool { return t.Traces != nil }

// Call is one request's telemetry state, embedded in an engine's reused
// request state: nothing in it allocates per request once its buffers
// have grown.
type Call struct {
	Trace    tracing.Request
	traceHex []byte
	tpBuf    []byte
	rec      spec.CallRecord
	addrBuf  []byte

	// What the engine learns as the request goes; Reset clears it.
	Node           string // the upstream node (host:port) last called
	UpstreamStatus int    // what it answered; 0: no answer
	upStart        int64  // Monotonic: the first upstream attempt
	upEnd          int64  // the backend's header arrived
	ErrorDetail    string // what went wrong upstream (connect, timeout, …)
	BytesIn        int64
	BytesOut       int64
	// Bodies is the route's body policy while bodies are captured; the
	// engine fills ReqBody and RespBody (capped by Bodies.MaxBytes).
	Bodies            *accesslog.BodyPolicy
	ReqBody, RespBody []byte
	bodyBuf           []byte
	// steps and traceSteps are a composite backend's calls as the record
	// and the trace take them, reused request after request.
	steps      []spec.CallStep
	traceSteps tracing.Steps
}

// Begin starts the request's trace when tracing is on: incoming is the
// client's traceparent ("" without one), rt the matched route (nil: none).
// It answers the trace id in hex ("" when tracing is off), valid until
// Reset; engines give it to the Exchange (SetTraceID).
func (c *Call) Begin(t *Telemetry, incoming string, rt *routing.Route, start time.Time) string {
	if rt != nil {
		if p := rt.AccessLog(); p != nil && p.Bodies != nil && (t.Log != nil || t.Calls != nil) {
			c.Bodies = p.Bodies
		}
	}
	if t.Traces == nil {
		return ""
	}
	sampler := t.Sampler
	if rt != nil && rt.Info.ServiceInfo != nil {
		if r := rt.Info.TraceSampling; r >= 0 {
			sampler = tracing.NewSampler(r)
		}
	}
	c.Trace.Begin(incoming, sampler, start.UnixNano())
	c.traceHex = c.Trace.AppendTraceID(c.traceHex[:0])
	return b2s(c.traceHex)
}

// Traceparent is the header value to send upstream (nil when tracing is
// off): the trace continued with the upstream call's span as parent.
func (c *Call) Traceparent(t *Telemetry) []byte {
	if t.Traces == nil {
		return nil
	}
	c.tpBuf = c.Trace.UpstreamTraceparent(c.tpBuf[:0])
	return c.tpBuf
}

// PhaseStart opens a plugin's span (-1 when not sampled); PhaseEnd closes it.
func (c *Call) PhaseStart(name string) int { return c.Trace.PhaseStart(name) }

// PhaseEnd closes the span PhaseStart opened.
func (c *Call) PhaseEnd(i int) {
	if i >= 0 {
		c.Trace.PhaseEnd(i)
	}
}

// UpstreamStart notes an attempt to node: the upstream latency runs from
// the first one.
func (c *Call) UpstreamStart(node string) {
	if c.upStart == 0 {
		c.upStart = Monotonic()
	}
	c.Node = node
	c.Trace.UpstreamStart(node)
}

// UpstreamEnd notes the backend's answer (status) or the failure of the
// call (status 0, kind what went wrong).
func (c *Call) UpstreamEnd(status int, kind string) {
	c.upEnd = Monotonic()
	c.UpstreamStatus = status
	if kind != "" {
		c.ErrorDetail = kind
	}
	c.Trace.UpstreamEnd(status, kind)
}

// UpstreamLatency is from the first upstream attempt to the backend's
// header (or the last attempt's failure); 0 without an upstream call.
func (c *Call) UpstreamLatency() time.Duration {
	if c.upStart == 0 || c.upEnd < c.upStart {
		return 0
	}
	return time.Duration(c.upEnd - c.upStart)
}

// Failed notes what went wrong upstream without a call (no node).
func (c *Call) Failed(kind string) { c.ErrorDetail = kind }

// Capture keeps up to the body policy's cap of a body the engine passes
// on: request or response side.
func (c *Call) Capture(response bool, p []byte) {
	if c.Bodies == nil || len(p) == 0 || (response && !c.Bodies.Response) || (!response && !c.Bodies.Request) {
		return
	}
	dst := &c.ReqBody
	if response {
		dst = &c.RespBody
	}
	if room := c.Bodies.MaxBytes + 1 - len(*dst); room > 0 {
		// One byte over the cap tells the policy the body was cut.
		*dst = append(*dst, p[:min(room, len(p))]...)
	}
}

// Finished is what the engine knows when the answer has been written.
type Finished struct {
	Route              *routing.Route // nil: no route matched
	Exchange           *plugin.Exchange
	Start              time.Time
	Elapsed            time.Duration
	Status             int
	Method, Host, Path string
	RawQuery           string
	Canary             bool   // the canary's side served it
	ReqType, RespType  string // content types, for body masking
}

// Finish writes the request's access-log line (unless its route's policy
// leaves it out) and exports its trace when sampled.
func (c *Call) Finish(t *Telemetry, f *Finished) {
	if t.Traces != nil {
		tr := &c.Trace
		if rt := f.Route; rt != nil && rt.Info.ServiceInfo != nil {
			tr.Group, tr.Project, tr.Service, tr.Route = rt.Info.Group, rt.Info.ProjectID, rt.Info.ServiceName, rt.Info.RouteName
		}
		tr.RequestID, tr.Method, tr.Path = f.Exchange.RequestID(), f.Method, f.Path
		if steps := f.Exchange.Steps(); len(steps) > 0 && tr.Sampled() {
			tr.SetSteps(c.stepSpans(steps))
		}
		tr.End(f.Status, f.Start.Add(f.Elapsed).UnixNano())
		if tr.Sampled() {
			t.Traces.Export(tr)
		}
	}
	if t.Log == nil && t.Calls == nil {
		return
	}
	if p := f.Route.AccessLog(); p != nil && (p.Disabled || !p.Sampled(rand.Uint64())) {
		return
	}
	// The budget is asked before anything is encoded: past it, a busy
	// gateway pays nothing for the calls it does not keep.
	keep := t.Calls != nil && t.Budget.Admit(f.Status, f.Start.Unix())
	if t.Log == nil && !keep {
		return
	}
	r := &c.rec
	*r = spec.CallRecord{
		Time: f.Start, RequestID: f.Exchange.RequestID(), TraceID: b2s(c.traceHex), Group: t.Group,
		Method: f.Method, Host: f.Host, Path: f.Path, Query: f.RawQuery, Status: f.Status,
		Upstream: c.Node, UpstreamStatus: c.UpstreamStatus, BytesIn: c.BytesIn, BytesOut: c.BytesOut,
		LatencyMs: ms(f.Elapsed), Error: f.Exchange.RejectCode(), ErrorDetail: c.ErrorDetail,
	}
	if r.ErrorDetail == "" {
		r.ErrorDetail = f.Exchange.Note()
	}
	if rt := f.Route; rt != nil && rt.Info.ServiceInfo != nil {
		r.Group, r.Project, r.Service, r.ServiceID = rt.Info.Group, rt.Info.ProjectID, rt.Info.ServiceName, rt.Info.ServiceID
		r.Version, r.Route = rt.Info.Version, rt.Info.RouteName
		if _, _, ok := rt.Canary(); ok {
			r.Side = spec.SideStable
			if f.Canary {
				r.Side = spec.SideCanary
			}
		}
	}
	if cons, ok := f.Exchange.Consumer(); ok {
		r.Consumer, r.Application = cons.Name, cons.ApplicationID
	}
	c.addrBuf = f.Exchange.ClientAddr().AppendTo(c.addrBuf[:0])
	r.Client = b2s(c.addrBuf)
	if up := c.UpstreamLatency(); up > 0 {
		r.UpstreamLatencyMs = ms(up)
	}
	if b := c.Bodies; b != nil {
		c.bodyBuf = c.bodyBuf[:0]
		if b.Request && len(c.ReqBody) > 0 {
			c.bodyBuf = b.Append(c.bodyBuf, c.ReqBody, f.ReqType)
			r.RequestBody = b2s(c.bodyBuf)
		}
		if b.Response && len(c.RespBody) > 0 {
			n := len(c.bodyBuf)
			c.bodyBuf = b.Append(c.bodyBuf, c.RespBody, f.RespType)
			r.ResponseBody = b2s(c.bodyBuf[n:])
			if r.RequestBody != "" {
				r.RequestBody = b2s(c.bodyBuf[:n]) // the append may have moved it
			}
		}
	}
	if steps := f.Exchange.Steps(); len(steps) > 0 {
		r.Steps = c.callSteps(steps, f.Start)
	}
	if t.Log != nil {
		t.Log.Log(r)
	}
	if keep {
		t.Calls.Log(r)
	}
}

// callSteps are a composite backend's steps as the record writes them,
// their starts from the request's arrival.
func (c *Call) callSteps(steps []plugin.Step, arrival time.Time) []spec.CallStep {
	c.steps = c.steps[:0]
	for i := range steps {
		s := &steps[i]
		c.steps = append(c.steps, spec.CallStep{Name: s.Name, Target: s.Target, Method: s.Method, Path: s.Path, Status: s.Status,
			Outcome: s.Outcome, Error: s.Error, Attempts: s.Attempts, StartMs: ms(max(s.Start.Sub(arrival), 0)), LatencyMs: ms(s.Duration)})
	}
	return c.steps
}

// stepSpans are a composite backend's steps as the trace takes them.
func (c *Call) stepSpans(steps []plugin.Step) *tracing.Steps {
	l := c.traceSteps.List[:0]
	for i := range steps {
		s := &steps[i]
		start := s.Start.UnixNano()
		l = append(l, tracing.Step{Name: s.Name, Target: s.Target, Method: s.Method, Path: s.Path, Status: s.Status,
			Outcome: s.Outcome, Error: s.Error, Attempts: s.Attempts, Start: start, End: start + int64(s.Duration), SpanID: s.SpanID})
	}
	c.traceSteps.List = l
	return &c.traceSteps
}

// CallBudget bounds the calls a gateway keeps for its control plane's
// log search: PerSecond a second, and past that failed calls only
// (status 400 and above: what "why did this call fail?" asks about), up
// to as many again. Admit costs a few atomic operations and never
// blocks; at a second's turn a few calls may be counted in the old one.
type CallBudget struct {
	PerSecond int64
	second    atomic.Int64
	kept      atomic.Int64
	failed    atomic.Int64
	dropped   atomic.Uint64
}

// Admit says whether a call answered with status at unix second now is
// kept.
func (b *CallBudget) Admit(status int, now int64) bool {
	if b == nil {
		return true
	}
	if sec := b.second.Load(); sec != now && b.second.CompareAndSwap(sec, now) {
		b.kept.Store(0)
		b.failed.Store(0)
	}
	if b.kept.Add(1) <= b.PerSecond {
		return true
	}
	if status >= 400 && b.failed.Add(1) <= b.PerSecond {
		return true
	}
	b.dropped.Add(1)
	return false
}

// Dropped is how many calls the budget left out.
func (b *CallBudget) Dropped() uint64 { return b.dropped.Load() }

// Reset clears the call for the state's next request, keeping buffers.
func (c *Call) Reset() {
	c.Trace.Reset()
	c.traceHex = c.traceHex[:0]
	c.rec = spec.CallRecord{}
	c.Node, c.UpstreamStatus, c.upStart, c.upEnd, c.ErrorDetail = "", 0, 0, 0, ""
	c.BytesIn, c.BytesOut = 0, 0
	c.Bodies = nil
	c.ReqBody, c.RespBody = c.ReqBody[:0], c.RespBody[:0]
	if len(c.steps) > 0 || len(c.traceSteps.List) > 0 { // drop what they point to
		clear(c.steps)
		clear(c.traceSteps.List)
		c.steps, c.traceSteps.List = c.steps[:0], c.traceSteps.List[:0]
	}
}

// ms is d in milliseconds to the microsecond: finer digits say nothing
// about a request's latency, and three decimals are what the access log's
// encoder writes fastest.
func ms(d time.Duration) float64 { return float64(d/time.Microsecond) / 1000 }

// b2s views b as a string without copying; valid while b is unchanged.
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
