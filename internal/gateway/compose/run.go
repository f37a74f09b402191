package compose

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Input is the client's request, copied out of the Exchange: nothing in
// it aliases the engine's buffers, so steps may read it from any
// goroutine.
type Input struct {
	Method string
	Path   string
	Params map[string]string // path parameters; "*" for a trailing wildcard
	Query  url.Values
	// Headers are the request headers the flow reads
	// (Flow.RequestHeaders): lower-case name → first value.
	Headers     map[string]string
	Body        []byte
	ContentType string
	Client      netip.Addr
	RequestID   string
	TraceID     string // hex; "" when the request is not traced
}

// Result is what a run answers: the answer (Code == "") or a gateway
// error (Code, Message), and the record of every step that began.
type Result struct {
	Status int
	Header []HeaderField
	Body   []byte
	// Code and Message are a gateway error's.
	Code    string
	Message string
	// FailedStep names the step that ended the flow, StepStatus the
	// status it last got (0: none).
	FailedStep string
	StepStatus int
	Steps      []plugin.Step
}

// HeaderField is one header of the answer.
type HeaderField struct{ Name, Value string }

// Error codes of a run's gateway errors.
const (
	CodeStepFailed      = "step_failed"
	CodeFlowTimeout     = "flow_timeout"
	CodeClientClosed    = "client_closed"
	CodeResponseFailed  = "composite_response_failed"
	StatusClientClosed  = 499
	maxBackoff          = 100 * time.Millisecond
	firstBackoff        = 10 * time.Millisecond
	contentTypeJSON     = "application/json"
	headerContentType   = "Content-Type"
	maxStepErrorMessage = 512
)

var (
	errFlowDeadline = errors.New("the flow's deadline passed")
	errAborted      = errors.New("another step failed")
	errNoAnswer     = errors.New("the call returned no answer")
	errNoCaller     = errors.New("no caller is configured for this flow")
)

// run is one run of a flow.
type run struct {
	flow    *Flow
	in      *Input
	caller  Caller
	parent  context.Context // the client's
	flowCtx context.Context // parent + the flow's deadline
	ctx     context.Context // flowCtx, cancelled when a step ends the flow
	// abort cancels ctx: called by the step that ends the flow, at once,
	// so the others stop even while Run itself runs a step.
	abort   context.CancelCauseFunc
	request map[string]any
	meter   *meter
	done    chan int
	// Each step's state is written by its goroutine only, and read by
	// others after its index came through done.
	states []stepState
}

type stepState struct {
	began bool
	rec   plugin.Step
	view  map[string]any // steps.NAME once finished well (or fallback, skipped)
	fatal bool           // ends the flow
	// late: the flow's deadline ended the step; cut: it was running
	// then (a call was under way).
	late   bool
	cut    bool
	reason string
}

var evaluators = sync.Pool{New: func() any { return new(evaluator) }}

// Run runs the flow for one request. It returns once every step it began
// has ended; the steps still running when one fails, when the flow's
// deadline passes or when ctx is cancelled are cancelled.
func (f *Flow) Run(ctx context.Context, in *Input, c Caller) *Result {
	if in == nil {
		in = &Input{}
	}
	flowCtx, cancelFlow := context.WithTimeoutCause(ctx, f.timeout, errFlowDeadline)
	defer cancelFlow()
	stepsCtx, abort := context.WithCancelCause(flowCtx)
	defer abort(nil)
	r := &run{
		flow: f, in: in, caller: c, parent: ctx, flowCtx: flowCtx, ctx: stepsCtx, abort: abort,
		request: in.requestValue(),
		meter:   &meter{},
		done:    make(chan int, len(f.steps)),
		states:  make([]stepState, len(f.steps)),
	}
	pending := make([]int, len(f.steps))
	ready := make([]int, 0, len(f.steps))
	for i, s := range f.steps {
		pending[i] = len(s.deps)
		if pending[i] == 0 {
			ready = append(ready, i)
		}
	}
	running := r.startAll(ready)
	failed := -1
	for running > 0 {
		i := <-r.done
		running--
		if r.states[i].fatal && failed < 0 {
			failed = i
			abort(errAborted)
		}
		if failed >= 0 {
			continue
		}
		ready = ready[:0]
		for _, d := range f.steps[i].dependents {
			pending[d]--
			if pending[d] == 0 {
				ready = append(ready, d)
			}
		}
		running += r.startAll(ready)
	}
	res := &Result{Steps: r.records()}
	switch {
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.Status, res.Code, res.Message = StatusClientClosed, CodeClientClosed, "the client closed the request"
	case failed >= 0 && r.states[failed].late:
		res.Status, res.Code = http.StatusGatewayTimeout, CodeFlowTimeout
		res.Message = fmt.Sprintf("the flow did not finish within %s", f.timeout)
		if cut := r.cutSteps(); len(cut) > 0 {
			res.Message += "; steps still running: " + strings.Join(cut, ", ")
		}
	case failed >= 0:
		st, s := &r.states[failed], f.steps[failed]
		res.Status, res.Code = http.StatusBadGateway, CodeStepFailed
		res.Message = fmt.Sprintf("step %q failed: %s", s.name, st.reason)
		res.FailedStep, res.StepStatus = s.name, st.rec.Status
	default:
		r.answer(res)
	}
	return res
}

// startAll starts the steps that became ready together and answers how
// many: each but the last on a goroutine of its own, the last on Run's,
// which would only wait for them otherwise (a flow of one call, or of
// calls one after the other, starts no goroutine; each saves one and the
// growth of its stack). Every step reports on done when it ends, whoever
// ran it, and one that ends the flow cancels the others itself.
func (r *run) startAll(ready []int) int {
	for n, i := range ready {
		r.states[i].began = true
		if n < len(ready)-1 {
			go r.runStep(i)
		}
	}
	if len(ready) > 0 {
		r.runStep(ready[len(ready)-1])
	}
	return len(ready)
}

// records are the steps that began, in the order they are defined.
func (r *run) records() []plugin.Step {
	out := make([]plugin.Step, 0, len(r.states))
	for i := range r.states {
		if r.states[i].began {
			out = append(out, r.states[i].rec)
		}
	}
	return out
}

func (r *run) cutSteps() []string {
	var out []string
	for i := range r.states {
		if r.states[i].cut {
			out = append(out, r.flow.steps[i].name)
		}
	}
	return out
}

// answer evaluates the response once every step finished.
func (r *run) answer(res *Result) {
	steps := make(map[string]any, len(r.states))
	for i, s := range r.flow.steps {
		steps[s.name] = r.states[i].view
	}
	env := map[string]any{varRequest: r.request, varSteps: steps, meterKey: r.meter}
	ev := evaluators.Get().(*evaluator)
	defer evaluators.Put(ev)
	fail := func(field string, err error) {
		res.Status, res.Code = http.StatusInternalServerError, CodeResponseFailed
		res.Message = truncate(fmt.Sprintf("%s: %v", field, err))
		res.Header, res.Body = nil, nil
	}
	v, err := ev.eval(r.flow.body, env)
	if err != nil {
		fail("response.body", err)
		return
	}
	body, err := marshalBounded(v, MaxAnswer)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			err = fmt.Errorf("the answer is larger than %d MiB", MaxAnswer>>20)
		}
		fail("response.body", err)
		return
	}
	res.Header = make([]HeaderField, 0, len(r.flow.headers)+1)
	for _, h := range r.flow.headers {
		v, err := ev.eval(h.prog, env)
		if err != nil {
			fail(h.field, err)
			return
		}
		s, ok, err := headerValue(v)
		if err != nil {
			fail(h.field, err)
			return
		}
		if ok {
			res.Header = append(res.Header, HeaderField{Name: h.name, Value: s})
		}
	}
	if !slices.ContainsFunc(res.Header, func(h HeaderField) bool { return strings.EqualFold(h.Name, headerContentType) }) {
		res.Header = append(res.Header, HeaderField{Name: headerContentType, Value: contentTypeJSON})
	}
	res.Status, res.Body = r.flow.status, body
}

// runStep runs step i in its own goroutine and reports on done.
func (r *run) runStep(i int) {
	s, st := r.flow.steps[i], &r.states[i]
	st.rec = plugin.Step{Name: s.name, Target: s.target, Method: s.method, Start: time.Now()}
	if r.in.TraceID != "" {
		st.rec.SpanID = newSpanID()
	}
	ev := evaluators.Get().(*evaluator)
	defer func() {
		if p := recover(); p != nil {
			r.failStep(s, st, plugin.StepFailed, fmt.Sprintf("internal error: %v", p))
		}
		evaluators.Put(ev)
		st.rec.Duration = time.Since(st.rec.Start)
		r.done <- i
	}()
	if err := r.ctx.Err(); err != nil {
		r.failStep(s, st, plugin.StepCancelled, "the flow ended before the step started")
		return
	}
	env := r.stepEnv(s)
	if s.cond != nil {
		v, err := ev.eval(s.cond, env)
		if err != nil {
			r.failStep(s, st, plugin.StepFailed, s.field+".if: "+err.Error())
			return
		}
		if v == nil || v == false {
			st.rec.Outcome = plugin.StepSkipped
			st.view = map[string]any{"status": 0, "ok": false, "skipped": true, "headers": map[string]any{}, "body": s.fallback}
			return
		}
	}
	call, err := r.buildCall(ev, s, env, st.rec.SpanID)
	if err != nil {
		r.failStep(s, st, plugin.StepFailed, err.Error())
		return
	}
	st.rec.Path = call.Path
	r.attempt(s, st, call)
}

// attempt sends the call, again after a failure it may retry.
func (r *run) attempt(s *step, st *stepState, call *Call) {
	if r.caller == nil {
		r.failStep(s, st, plugin.StepFailed, errNoCaller.Error())
		return
	}
	for n := 0; ; n++ {
		st.rec.Attempts++
		actx, cancel := r.ctx, context.CancelFunc(nil)
		if s.timeout > 0 {
			actx, cancel = context.WithTimeout(r.ctx, s.timeout)
		}
		ans, err := r.caller.Call(actx, call)
		timedOut := err != nil && r.ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded)
		if cancel != nil {
			cancel()
		}
		if call.Method != "" {
			st.rec.Method = call.Method
		}
		if err == nil && ans == nil {
			err = errNoAnswer
		}
		if err == nil {
			st.rec.Status = ans.Status
			if ans.Path != "" {
				st.rec.Path = ans.Path
			}
			if len(ans.Body) > MaxAnswer {
				err = fmt.Errorf("the answer is larger than %d MiB", MaxAnswer>>20)
			} else if r.meter.grow(len(ans.Body)) != nil {
				// The answers a run holds count against its memory
				// budget too: 32 steps of 8 MiB each would not fit.
				err = fmt.Errorf("the flow's answers exceed its memory budget of %d MiB: %w", maxRunBytes>>20, ErrRefused)
			} else if ans.Status >= 100 && ans.Status < 400 {
				st.rec.Outcome = plugin.StepOK
				st.view = answerView(ans)
				return
			}
		}
		outcome, reason, retry := plugin.StepFailed, "", false
		switch {
		case err == nil:
			reason = fmt.Sprintf("status %d", ans.Status)
			retry = !ans.Final && (ans.Status == http.StatusBadGateway || ans.Status == http.StatusServiceUnavailable || ans.Status == http.StatusGatewayTimeout)
		case errors.Is(err, ErrNotRunning):
			reason = fmt.Sprintf("the API %s does not run in this group", s.target)
		case errors.Is(err, ErrRefused):
			reason = err.Error()
		case timedOut:
			outcome, reason, retry = plugin.StepTimeout, fmt.Sprintf("timed out after %s", s.timeout), true
		default:
			reason, retry = err.Error(), true
		}
		if !retry || n >= s.retries || r.ctx.Err() != nil || !r.backoff(n) {
			r.failStep(s, st, outcome, reason)
			return
		}
	}
}

// backoff waits a little before a retry (jittered, at most maxBackoff);
// false when the flow ended meanwhile.
func (r *run) backoff(n int) bool {
	d := min(firstBackoff<<n, maxBackoff)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// failStep ends a step that did not succeed: the flow goes on with its
// fallback when it is optional, else it ends. When the flow had already
// ended (deadline, client gone, another step failed), that is the cause.
func (r *run) failStep(s *step, st *stepState, outcome, reason string) {
	st.reason = truncate(reason)
	st.rec.Error = st.reason
	switch {
	case r.parent.Err() != nil && !errors.Is(r.parent.Err(), context.DeadlineExceeded):
		st.rec.Outcome, st.rec.Error, st.fatal = plugin.StepCancelled, "the client closed the request", true
	case r.flowCtx.Err() != nil:
		st.rec.Outcome, st.rec.Error, st.fatal = plugin.StepTimeout, "the flow's deadline passed", true
		st.late, st.cut = true, st.rec.Attempts > 0
	case r.ctx.Err() != nil:
		st.rec.Outcome, st.rec.Error = plugin.StepCancelled, "another step failed"
	case s.optional:
		st.rec.Outcome = plugin.StepFallback
		st.view = map[string]any{"status": st.rec.Status, "ok": false, "skipped": false, "headers": map[string]any{}, "body": s.fallback}
	default:
		st.rec.Outcome, st.fatal = outcome, true
	}
	if st.fatal {
		r.abort(errAborted)
	}
}

// stepEnv is what a step's expressions see: the request, and the steps
// it waits for (the only ones it may name).
func (r *run) stepEnv(s *step) map[string]any {
	steps := make(map[string]any, len(s.deps))
	for _, d := range s.deps {
		steps[r.flow.steps[d].name] = r.states[d].view
	}
	return map[string]any{varRequest: r.request, varSteps: steps, meterKey: r.meter}
}

// answerView is steps.NAME of a step that succeeded.
func answerView(a *Answer) map[string]any {
	h := make(map[string]any, len(a.Header))
	for k, vs := range a.Header {
		if len(vs) > 0 {
			h[strings.ToLower(k)] = vs[0]
		}
	}
	return map[string]any{"status": a.Status, "ok": true, "skipped": false, "headers": h, "body": decodeBody(a.Body)}
}

// requestValue is the request variable.
func (in *Input) requestValue() map[string]any {
	params := make(map[string]any, len(in.Params))
	for k, v := range in.Params {
		params[k] = v
	}
	query := make(map[string]any, len(in.Query))
	for k, vs := range in.Query {
		if len(vs) > 0 {
			query[k] = vs[0]
		}
	}
	headers := make(map[string]any, len(in.Headers))
	for k, v := range in.Headers {
		headers[strings.ToLower(k)] = v
	}
	return map[string]any{
		"method":  in.Method,
		"path":    in.Path,
		"params":  params,
		"query":   query,
		"headers": headers,
		"body":    decodeBody(in.Body),
	}
}

func newSpanID() [8]byte {
	var id [8]byte
	for id == ([8]byte{}) {
		v := rand.Uint64()
		for k := range id {
			id[k] = byte(v >> (8 * k))
		}
	}
	return id
}

// truncate keeps error messages (which may quote an answer) short.
func truncate(s string) string {
	if len(s) <= maxStepErrorMessage {
		return s
	}
	return strings.ToValidUTF8(s[:maxStepErrorMessage], "") + "…"
}
