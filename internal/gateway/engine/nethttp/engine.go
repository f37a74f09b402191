// Package nethttp is the net/http engine of the gateway: it serves HTTP/1.1
// (and, with TLS or h2c later, HTTP/2) and drives the compiled routing
// table's plugin chains through plugin.Exchange, then proxies with
// its own proxy (proxy.go): the engine's HTTP/1.1 client for plain requests
// and one tuned http.Transport per upstream node for the others.
package nethttp

import (
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/reqpolicy"
	"github.com/portico-gw/portico/internal/gateway/requestid"
	"github.com/portico-gw/portico/internal/gateway/routing"
)

// Observer receives what metrics need (engine.Observer).
type Observer = engine.Observer

// Handler is the gateway's http.Handler.
type Handler struct {
	table   *atomic.Pointer[routing.Table]
	obs     Observer
	log     *slog.Logger
	clients *clients
	errLog  *log.Logger
	states  sync.Pool

	// Limits set by NewServer; zero (New) means none.
	maxBody     int64
	bodyTimeout time.Duration
	tlsPort     int // for redirects to HTTPS (engine.AnswerListener)
	telemetry   engine.Telemetry
}

// New returns a handler serving whatever table holds at each request. It
// applies no body limits; NewServer builds a whole server with them.
func New(table *atomic.Pointer[routing.Table], obs Observer, logger *slog.Logger) *Handler {
	h := &Handler{table: table, obs: obs, log: logger, clients: &clients{},
		// Go's own log line for an aborted copy is noise: metrics count it.
		errLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	h.states.New = func() any { return h.newState() }
	return h
}

// newState gives each pooled request state its balancer and the outgoing
// request's header map, reused request after request.
func (h *Handler) newState() *state {
	st := &state{h: h, outHeader: make(http.Header, 16)}
	st.bal = balancer{clients: h.clients, obs: h.obs, st: st}
	return st
}

// CloseIdle closes idle upstream connections (on shutdown).
func (h *Handler) CloseIdle() { h.clients.closeIdle() }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st := h.states.Get().(*state)
	st.begin(w, r, start)
	defer h.finish(st, start)

	// One value slice serves the upstream request and the answer: headers
	// are replaced, never edited in place, and the proxy copies its own.
	ids := r.Header["X-Request-Id"]
	if len(ids) > 1 {
		ids = ids[:1:1] // the backend sees the one id the client is answered with
		r.Header["X-Request-Id"] = ids
	}
	if len(ids) == 0 || !requestid.Valid(ids[0]) {
		ids = []string{requestid.New()}
		r.Header["X-Request-Id"] = ids
	}
	id := ids[0]
	w.Header()["X-Request-Id"] = ids

	if reason := st.admit(); reason != "" {
		st.resetExchange(id, nil)
		w.Header().Set("Connection", "close")
		status, code := reqpolicy.Rejection(reason)
		st.ex.Reject(status, code, reason)
		return
	}
	t := h.table.Load()
	if t == nil {
		st.resetExchange(id, nil)
		st.ex.Reject(http.StatusServiceUnavailable, "not_ready", "the gateway has not received its configuration yet")
		return
	}
	rt, allow, ok := t.LookupRequest(st, st.Host(), r.Method, r.URL.Path, &st.params)
	if !ok {
		st.resetExchange(id, nil)
		if allow != "" {
			w.Header().Set("Allow", allow)
			st.ex.Reject(http.StatusMethodNotAllowed, "method_not_allowed", "method "+r.Method+" is not allowed here")
			return
		}
		st.ex.Reject(http.StatusNotFound, "route_not_found", "no route matches this request")
		return
	}
	st.route = rt
	st.resetExchange(id, rt)
	tlsState := requestTLS(r)
	if served, status := rt.Over(tlsState != nil); !served {
		engine.AnswerListener(&st.ex, status, h.tlsPort, t.HasCertificateFor)
		return
	}
	if tlsState != nil && !t.SameClientCAs(tlsState.ServerName, st.Host()) {
		engine.Misdirected(&st.ex)
		return
	}
	st.dropClientHeaders()
	if h.maxBody > 0 && r.ContentLength > h.maxBody {
		// Refused before the body is read: a 100-continue client is never
		// told to send it, and net/http closes the connection after.
		st.ex.Reject(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than the gateway allows")
		return
	}
	if h.bodyTimeout > 0 || (h.maxBody > 0 && r.ContentLength < 0) {
		if b := st.wrapBody(); b != nil && h.maxBody > 0 && r.ContentLength < 0 {
			b.limit(h.maxBody, errBodyOverGatewayLimit)
		}
	}
	for i, f := range rt.RequestFilters() {
		span := st.call.PhaseStart(rt.RequestFilterName(i))
		answered := f.OnRequest(&st.ex)
		st.call.PhaseEnd(span)
		if answered {
			return
		}
	}
	st.proxy()
}

// resetExchange readies the Exchange for the request, and its trace: rt
// is the matched route, nil when none did.
func (st *state) resetExchange(id string, rt *routing.Route) {
	var incoming string
	if v := st.r.Header["Traceparent"]; len(v) == 1 {
		incoming = v[0]
	}
	tid := st.call.Begin(&st.h.telemetry, incoming, rt, st.start)
	if rt == nil {
		st.ex.Reset(st, id, nil, &st.params)
	} else {
		st.ex.Reset(st, id, &rt.Info, &st.params)
	}
	st.ex.SetTraceID(tid)
}

// record writes the request's access-log line and trace.
func (st *state) record(status int, elapsed time.Duration) {
	tel := &st.h.telemetry
	if tel.Log == nil && tel.Calls == nil && tel.Traces == nil {
		return
	}
	if st.call.BytesIn == 0 && st.r.ContentLength > 0 {
		st.call.BytesIn = st.r.ContentLength
	}
	if b := st.body; b != nil && b.keepMax > 0 {
		b.mu.Lock()
		st.call.Capture(false, b.kept)
		b.mu.Unlock()
	}
	var respType string
	if v := st.w.Header()["Content-Type"]; len(v) > 0 {
		respType = v[0]
	}
	f := engine.Finished{
		Route: st.route, Exchange: &st.ex, Start: st.start, Elapsed: elapsed, Status: status,
		Method: st.r.Method, Host: st.Host(), Path: st.r.URL.Path, RawQuery: st.r.URL.RawQuery, Canary: st.canary,
		ReqType: st.r.Header.Get("Content-Type"), RespType: respType,
	}
	st.call.Finish(tel, &f)
}

// finish records the request and recycles its state. A panic in a plugin
// answers 500 in the gateway's error shape; http.ErrAbortHandler (the
// proxy aborting a response it had started) goes on to net/http.
func (h *Handler) finish(st *state, start time.Time) {
	p := recover()
	if p != nil && p != http.ErrAbortHandler {
		h.log.Error("panic serving request", "panic", fmt.Sprint(p), "request_id", st.ex.RequestID(), "path", st.r.URL.Path)
		if st.resp != nil {
			// A response filter panicked: the proxy never got to the body.
			_ = st.resp.Body.Close()
		}
		if st.status == 0 {
			st.ex.Reject(http.StatusInternalServerError, "internal_error", "the gateway failed to handle this request")
		}
	}
	status := st.status
	if status == 0 {
		status = 499 // the client went away before any answer (nginx's code)
	}
	if st.tee.On() {
		st.deliverCapture(status)
	}
	elapsed := time.Since(start)
	h.obs.Observe(st.route, status, start.Add(elapsed), elapsed, st.call.UpstreamLatency())
	st.record(status, elapsed)
	if st.pool != nil {
		st.route.Answered(st.canary, status, int64(elapsed))
		st.pool.Done(st.node, elapsed)
	}
	aborted := p == http.ErrAbortHandler
	st.end()
	h.states.Put(st)
	if aborted {
		panic(p)
	}
}

// copyBuffers are the 32 KiB buffers answers are copied with.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
