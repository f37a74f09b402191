package routing

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sync/atomic"

	"github.com/portico-gw/portico/internal/gateway/compose"
	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/upstream"
	"github.com/portico-gw/portico/internal/spec"
)

// compositeName names the composite backend's filter in trace spans.
const compositeName = "composite"

// Calls are what composite backends send their steps through. The gateway
// gives one (Deps.Calls); a validation build has none, and its composite
// routes answer every call with an error (they never serve).
type Calls struct {
	// Table is the table the gateway serves, read at every call: a call
	// goes where a client's request would go now.
	Table *atomic.Pointer[Table]
	// Handler serves an API step's request in-process, over Table: the
	// called route's whole pipeline runs (its plugins, canary, version
	// routing, access log, metrics), as for a client's request.
	Handler http.Handler
	// upstreams sends upstream steps (composite_upstream.go).
	upstreams *upstreamClients
}

// NewCalls is the Calls of a gateway serving table with handler; Close
// ends its upstream connections.
func NewCalls(table *atomic.Pointer[Table], handler http.Handler) *Calls {
	return &Calls{Table: table, Handler: handler, upstreams: newUpstreamClients()}
}

// Close closes the idle connections of upstream steps.
func (c *Calls) Close() {
	if c != nil && c.upstreams != nil {
		c.upstreams.closeIdle()
	}
}

// MaxCallDepth bounds how deeply composite calls nest (a composite
// calling a composite…): a composite that calls itself, directly or
// through others, stops there with an error instead of looping.
const MaxCallDepth = 4

type callDepthKey struct{}

// callDepth is how many in-process calls ctx's request is nested in.
func callDepth(ctx context.Context) int {
	d, _ := ctx.Value(callDepthKey{}).(int)
	return d
}

// errNoCalls is what a composite route compiled without Calls answers.
var errNoCalls = errors.New("this routing table was compiled for validation: it sends no calls")

// addCompositeBackend compiles a composite backend into the route's last
// request filter: it answers from what its steps return, so nothing after
// it goes upstream (the engine proxies only when no filter answered). A
// validation build compiles the flow too, so a bad one is refused before
// it is committed.
func addCompositeBackend(fe *spec.FieldErrors, field string, deps Deps, rt *Route, be *spec.Backend) bool {
	if be == nil || be.Type != spec.BackendComposite {
		return true
	}
	field += ".backend.composite"
	if be.Composite == nil {
		fe.Add(field, "is required with type composite: the steps and the response")
		return false
	}
	flow, err := compose.Compile(be.Composite)
	if err != nil {
		addFlowErrors(fe, field, err)
		return false
	}
	for i, s := range be.Composite.Steps {
		if s.Service != "" && s.Service == rt.Info.ServiceName && s.Route == rt.Info.RouteName {
			fe.Add(fmt.Sprintf("%s.steps[%d].route", field, i), "calls the composite route itself")
			return false
		}
	}
	plain, _ := rt.Over(false)
	c := &compositeCaller{group: rt.Info.Group, project: rt.Info.ProjectID, calls: deps.Calls, pool: rt.Upstream, plain: plain}
	rt.addRequestFilter(compositeName, compose.NewFilter(flow, c))
	return true
}

// CheckComposite compiles a route's composite backend, if it has one, as
// the gateway will, and returns what it would refuse, named under
// "backend.composite": the admin API's check when a route is saved, so a
// bad flow is refused then rather than at its first publish.
func CheckComposite(r *spec.Route) error {
	if !r.IsComposite() {
		return nil
	}
	if _, err := compose.Compile(r.Backend.Composite); err != nil {
		var fe spec.FieldErrors
		addFlowErrors(&fe, "backend.composite", err)
		return fe.Err()
	}
	return nil
}

// addFlowErrors reports the compiler's errors, each under field plus its
// own field (relative to the composite object).
func addFlowErrors(fe *spec.FieldErrors, field string, err error) {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var f *compose.FieldError
		switch {
		case errors.As(e, &f) && f.Field != "":
			fe.Add(field+"."+f.Field, "%s", f.Message)
		case errors.As(e, &f):
			fe.Add(field, "%s", f.Message)
		default:
			fe.Add(field, "%v", e)
		}
	}
}

// compositeCaller sends the calls of one composite route: API steps to
// routes of its group and project, upstream steps to its service's
// upstream.
type compositeCaller struct {
	group, project string
	calls          *Calls
	pool           *upstream.Pool
	// plain: the composite answers on the plain listener, so it may not
	// call an HTTPS-only API (whose answers would leave over plain HTTP).
	plain bool
}

func (cc *compositeCaller) Call(ctx context.Context, c *compose.Call) (*compose.Answer, error) {
	if cc.calls == nil {
		return nil, errNoCalls
	}
	if c.Service == "" {
		return cc.callUpstream(ctx, c)
	}
	return cc.callAPI(ctx, c)
}

// callAPI sends an API step's request through the gateway's own handler.
func (cc *compositeCaller) callAPI(ctx context.Context, c *compose.Call) (*compose.Answer, error) {
	t := cc.calls.Table.Load()
	if t == nil || cc.calls.Handler == nil {
		return nil, fmt.Errorf("service %s: %w", c.Service, compose.ErrNotRunning)
	}
	target, err := t.ResolveCall(cc.group, cc.project, c.Service, c.Route, c.Method, c.Params)
	if err != nil {
		return nil, err
	}
	if c.Method == "" {
		c.Method = target.Method // the step's record shows the method used
	}
	depth := callDepth(ctx)
	if depth >= MaxCallDepth {
		return nil, fmt.Errorf("composite calls nest more than %d deep (does a composite call itself?): %w", MaxCallDepth, compose.ErrRefused)
	}
	// The path must reach the route named, not another one of a more
	// exact path (a parameter's value equal to a sibling's literal).
	var ps match.Params
	var tlsState *tls.ConnectionState
	final := false // the route called is a composite: its failures are final
	if rt, _, ok := t.Lookup(target.Host, target.Method, target.Path, &ps); ok {
		if rt.Info.ServiceInfo == nil || rt.Info.ServiceID != target.ServiceID || rt.Info.RouteName != target.Route {
			return nil, fmt.Errorf("route %s of service %s: its path %s reaches route %s of service %s instead: %w",
				c.Route, c.Service, target.Path, rt.Info.RouteName, rt.Info.ServiceName, compose.ErrRefused)
		}
		final = rt.filters != nil && slices.Contains(rt.filters.names, compositeName)
		if served, _ := rt.Over(false); !served {
			if cc.plain {
				return nil, fmt.Errorf("service %s answers over HTTPS only, and this composite API answers over plain HTTP too: %w", c.Service, compose.ErrRefused)
			}
			// An HTTPS-only service called by an HTTPS-only composite:
			// the call is made inside the gateway, and goes as over its
			// TLS listener.
			tlsState = &tls.ConnectionState{HandshakeComplete: true, ServerName: target.Host, Version: tls.VersionTLS13}
		}
	}
	u := &url.URL{Path: target.Path, RawPath: target.RawPath, RawQuery: c.Query}
	r := &http.Request{
		Method: target.Method, URL: u, RequestURI: u.RequestURI(), Host: target.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: callHeader(c), TLS: tlsState, RemoteAddr: remoteAddr(c.Client),
	}
	setBody(r, c.Body)
	r = r.WithContext(context.WithValue(ctx, callDepthKey{}, depth+1))
	w := newAnswerRecorder()
	if err := serveInProcess(cc.calls.Handler, w, r); err != nil {
		return nil, fmt.Errorf("route %s of service %s: %w", c.Route, c.Service, err)
	}
	if w.over {
		return nil, fmt.Errorf("route %s of service %s answered more than %d bytes", c.Route, c.Service, compose.MaxAnswer)
	}
	if w.status == 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("route %s of service %s gave no answer", c.Route, c.Service)
	}
	return &compose.Answer{Status: w.status, Header: w.header, Body: w.body, Path: target.Path, Final: final}, nil
}

// remoteAddr is the in-process request's RemoteAddr: the composite's
// client, so the called route's ip-restriction and limits see who really
// called.
func remoteAddr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return netip.AddrPortFrom(a, 0).String()
}

// callHeader is the header of a step's call: the flow's, the request id
// and trace context of the composite's request, and none of the headers
// that say where a request came from (the call comes from the
// composite's client itself, RemoteAddr).
func callHeader(c *compose.Call) http.Header {
	h := make(http.Header, len(c.Header)+2)
	for k, v := range c.Header {
		k = http.CanonicalHeaderKey(k)
		if isHopByHop(k) || k == "Host" || k == "Content-Length" {
			continue
		}
		switch k {
		case "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "Forwarded", "X-Request-Id", "Traceparent", "Tracestate":
			continue
		}
		h[k] = append([]string(nil), v...)
	}
	if c.RequestID != "" {
		h["X-Request-Id"] = []string{c.RequestID}
	}
	if c.TraceParent != "" {
		h["Traceparent"] = []string{c.TraceParent}
	}
	return h
}

// isHopByHop: headers of one connection (RFC 9110 §7.6.1), never sent
// on by a call.
func isHopByHop(k string) bool {
	switch k {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// serveInProcess runs the handler on r. An answer the handler aborts
// (http.ErrAbortHandler, as the proxy does when the writer fails) or a
// panic is an error of the call, never of the gateway.
func serveInProcess(h http.Handler, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				err = errors.New("the answer was cut off")
				return
			}
			err = fmt.Errorf("the call failed: %v", p)
		}
	}()
	h.ServeHTTP(w, r)
	return nil
}

// answerRecorder is the ResponseWriter of an in-process call: it keeps
// the answer, up to compose.MaxAnswer bytes of body.
type answerRecorder struct {
	live   http.Header // what the handler writes to
	header http.Header // as it was when the answer's head was written
	status int
	body   []byte
	over   bool
}

var errAnswerTooLarge = fmt.Errorf("the answer is larger than %d bytes", compose.MaxAnswer)

func newAnswerRecorder() *answerRecorder { return &answerRecorder{live: http.Header{}} }

func (a *answerRecorder) Header() http.Header { return a.live }

func (a *answerRecorder) WriteHeader(code int) {
	if a.status != 0 || (code >= 100 && code < 200) {
		return // informational answers are not the answer
	}
	a.status = code
	// The header as it was sent: later changes are not the answer's.
	a.header = a.live.Clone()
}

func (a *answerRecorder) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.WriteHeader(http.StatusOK)
	}
	if len(a.body)+len(p) > compose.MaxAnswer {
		a.over = true
		return 0, errAnswerTooLarge
	}
	a.body = append(a.body, p...)
	return len(p), nil
}

// Flush is a no-op: the answer is whole when the handler returns.
func (a *answerRecorder) Flush() {}
