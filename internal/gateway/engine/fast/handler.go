package fast

import (
	"fmt"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/reqpolicy"
	"github.com/portico-gw/portico/internal/gateway/requestid"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/gateway/upstream"
)

// serve is fasthttp's handler: one request from its header to the moment
// its answer is ready. A streamed answer ends later, when fasthttp closes
// the body (responseBody.Close).
func (s *Server) serve(ctx *fasthttp.RequestCtx) {
	st := s.states.get()
	st.ctx = ctx
	st.start = time.Now()
	streaming, proxied := false, false
	defer func() {
		if p := recover(); p != nil {
			// A plugin panicked (the stream is set up last, so it never
			// is): answer 500 in the gateway's shape.
			s.cfg.Logger.Error("panic serving request", "panic", fmt.Sprint(p), "request_id", st.ex.RequestID(), "path", st.path)
			st.releaseUpstream(true)
			st.up.answered, st.status, streaming = false, 0, false
			ctx.Response.Reset()
			st.ex.Reject(http.StatusInternalServerError, "internal_error", "the gateway failed to handle this request")
		}
		if !streaming {
			if !proxied {
				st.lingerIfBodyLeft()
			}
			st.finish()
		}
	}()

	head, bad := st.readHead()
	id := st.requestID()
	if bad != "" {
		st.resetExchange(id, nil)
		ctx.SetConnectionClose()
		status, code := reqpolicy.Rejection(bad)
		st.ex.Reject(status, code, bad)
		return
	}
	t := s.cfg.Table.Load()
	if t == nil {
		st.resetExchange(id, nil)
		st.ex.Reject(http.StatusServiceUnavailable, "not_ready", "the gateway has not received its configuration yet")
		return
	}
	method := b2s(ctx.Method())
	rt, allow, ok := t.LookupRequest(st, st.Host(), method, st.path, &st.params)
	if !ok {
		st.resetExchange(id, nil)
		if allow != "" {
			ctx.Response.Header.Set("Allow", allow)
			st.ex.Reject(http.StatusMethodNotAllowed, "method_not_allowed", "method "+method+" is not allowed here")
			return
		}
		st.ex.Reject(http.StatusNotFound, "route_not_found", "no route matches this request")
		return
	}
	st.route = rt
	st.resetExchange(id, rt)
	if served, status := rt.Over(ctx.IsTLS()); !served {
		engine.AnswerListener(&st.ex, status, s.cfg.TLSPort, t.HasCertificateFor)
		return
	}
	if cs := ctx.TLSConnectionState(); cs != nil && !t.SameClientCAs(cs.ServerName, st.Host()) {
		engine.Misdirected(&st.ex)
		return
	}
	st.dropClientHeaders(head)
	if s.cfg.MaxBodyBytes > 0 {
		st.LimitBody(s.cfg.MaxBodyBytes)
	}
	for i, f := range rt.RequestFilters() {
		span := st.call.PhaseStart(rt.RequestFilterName(i))
		answered := f.OnRequest(&st.ex)
		st.call.PhaseEnd(span)
		if answered {
			return
		}
	}
	if st.limited && int64(ctx.Request.Header.ContentLength()) > st.bodyLimit {
		st.ex.Reject(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than this route allows")
		st.lingerClose()
		return
	}
	proxied = true
	streaming = st.proxy(head)
}

// requestID keeps a valid client X-Request-Id or makes one, in the
// state's buffer.
func (st *state) requestID() string {
	id := st.ctx.Request.Header.Peek("X-Request-Id")
	if requestid.Valid(b2s(id)) {
		st.idBuf = append(st.idBuf[:0], id...)
	} else {
		st.idBuf = requestid.Append(st.idBuf[:0])
	}
	return b2s(st.idBuf)
}

// resetExchange readies the Exchange for the request, and its trace: rt
// is the matched route, nil when none did.
func (st *state) resetExchange(id string, rt *routing.Route) {
	tid := st.call.Begin(&st.s.cfg.Telemetry, b2s(st.ctx.Request.Header.Peek("Traceparent")), rt, st.start)
	if rt == nil {
		st.ex.Reset(st, id, nil, &st.params)
	} else {
		st.ex.Reset(st, id, &rt.Info, &st.params)
	}
	st.ex.SetTraceID(tid)
}

// record writes the request's access-log line and trace.
func (st *state) record(status int, elapsed time.Duration) {
	tel := &st.s.cfg.Telemetry
	if tel.Log == nil && tel.Calls == nil && tel.Traces == nil {
		return
	}
	ctx := st.ctx
	if !ctx.Response.IsBodyStream() { // a streamed body is counted as it goes
		st.call.BytesOut = int64(len(ctx.Response.Body()))
	}
	if st.call.Bodies != nil && !ctx.Response.IsBodyStream() {
		st.call.Capture(true, ctx.Response.Body())
	}
	if st.call.BytesIn == 0 && ctx.Request.Header.ContentLength() > 0 && !st.up.sentBody {
		st.call.BytesIn = int64(ctx.Request.Header.ContentLength())
	}
	f := engine.Finished{
		Route: st.route, Exchange: &st.ex, Start: st.start, Elapsed: elapsed, Status: status,
		Method: b2s(ctx.Method()), Host: st.Host(), Path: st.path, RawQuery: st.RawQuery(), Canary: st.canary,
		ReqType: b2s(ctx.Request.Header.ContentType()), RespType: b2s(ctx.Response.Header.ContentType()),
	}
	st.call.Finish(tel, &f)
}

// finish records the request and recycles its state.
func (st *state) finish() {
	status := st.status
	if st.up.answered {
		status = st.ctx.Response.StatusCode()
	}
	if st.clientGone.Load() && !st.up.answered {
		status = 499 // the client went away before the answer (nginx's code)
	}
	if status == 0 {
		status = 499
	}
	if st.tee.On() {
		st.deliverCapture(status)
	}
	elapsed := time.Since(st.start)
	st.s.cfg.Observer.Observe(st.route, status, st.start.Add(elapsed), elapsed, st.call.UpstreamLatency())
	st.record(status, elapsed)
	if st.pool != nil {
		st.route.Answered(st.canary, status, int64(elapsed))
		st.pool.Done(st.node, elapsed)
	}
	st.reset()
	st.s.states.put(st)
}

// parseError answers what fasthttp could not parse, in the gateway's error
// shape. The connection is closed after it.
func (s *Server) parseError(ctx *fasthttp.RequestCtx, err error) {
	status, code, msg := http.StatusBadRequest, "bad_request", "the request is malformed"
	switch {
	case isSmallBuffer(err):
		status, code, msg = http.StatusRequestHeaderFieldsTooLarge, "header_too_large", "the request header is too large"
	case isTimeout(err):
		status, code, msg = http.StatusRequestTimeout, "request_timeout", "the request was not received in time"
	}
	var idBuf [48]byte
	id := requestid.Append(idBuf[:0])
	body := plugin.AppendError(make([]byte, 0, 160), code, msg, string(id), "")
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentType("application/json")
	ctx.Response.Header.SetBytesV("X-Request-Id", id)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBody(body)
	ctx.SetConnectionClose()
	s.cfg.Observer.Observe(nil, status, time.Now(), 0, 0)
}

// expect decides an `Expect: 100-continue` request before its body is
// sent: a request that no route answers or whose declared body is over the
// engine's limit gets its final status at once, without 100 Continue.
func (s *Server) expect(ctx *fasthttp.RequestCtx) int {
	t := s.cfg.Table.Load()
	st := s.states.get()
	st.ctx = ctx
	st.start = time.Now()
	defer st.finishExpect()
	_, bad := st.readHead()
	id := st.requestID()
	st.resetExchange(id, nil)
	switch {
	case bad != "":
		st.ex.Reject(http.StatusBadRequest, "bad_request", bad)
	case t == nil:
		st.ex.Reject(http.StatusServiceUnavailable, "not_ready", "the gateway has not received its configuration yet")
	case s.cfg.MaxBodyBytes > 0 && int64(ctx.Request.Header.ContentLength()) > s.cfg.MaxBodyBytes:
		st.ex.Reject(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than this gateway allows")
	default:
		rt, allow, ok := t.LookupRequest(st, st.Host(), b2s(ctx.Method()), st.path, &st.params)
		switch {
		case ok:
			st.route = rt
			return fasthttp.StatusContinue
		case allow != "":
			ctx.Response.Header.Set("Allow", allow)
			st.ex.Reject(http.StatusMethodNotAllowed, "method_not_allowed", "this method is not allowed here")
		default:
			st.ex.Reject(http.StatusNotFound, "route_not_found", "no route matches this request")
		}
	}
	return st.status
}

// finishExpect records a refused 100-continue request; an accepted one is
// recorded by serve.
func (st *state) finishExpect() {
	if st.status != 0 {
		elapsed := time.Since(st.start)
		st.s.cfg.Observer.Observe(st.route, st.status, st.start.Add(elapsed), elapsed, 0)
		st.record(st.status, elapsed)
	}
	st.reset()
	st.s.states.put(st)
}

// noNode answers a request whose upstream has no node to send it to: 503
// at once, telling apart an upstream with no node from one whose nodes
// are all down.
func (st *state) noNode(pool *upstream.Pool) {
	if len(pool.Nodes()) > 0 {
		st.obs().UpstreamError(st.route, "no_healthy_node")
		st.call.Failed("no_healthy_node")
		st.ex.Reject(http.StatusServiceUnavailable, "no_healthy_upstream", "no node of the upstream is healthy")
		return
	}
	st.obs().UpstreamError(st.route, "no_node")
	st.call.Failed("no_node")
	st.ex.Reject(http.StatusServiceUnavailable, "no_upstream", "the upstream has no available node")
}

// overloaded answers a request whose node already has the upstream's most
// requests in flight: 503 at once.
func (st *state) overloaded() {
	st.obs().UpstreamError(st.route, "overloaded")
	st.call.Failed("overloaded")
	st.ex.Reject(http.StatusServiceUnavailable, "upstream_overloaded", upstream.OverloadedMessage)
}
