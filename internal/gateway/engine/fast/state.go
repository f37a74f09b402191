package fast

import (
	"context"
	"crypto/x509"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/reqpolicy"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/gateway/upstream"
)

// state is one request's engine state, reused. It is the plugin.Backing of
// its Exchange. A state lives from the handler's start until the answer's
// body was written (for a streamed body, after the handler returned).
type state struct {
	s     *Server
	ctx   *fasthttp.RequestCtx
	start time.Time
	route *routing.Route
	// pool is the side of the route's canary Pick chose (the route's
	// upstream without one); nil until the request goes upstream.
	pool   *upstream.Pool
	canary bool
	// node is the node the request went to, counted in flight on pool
	// (least_conn) until finish.
	node *upstream.Node

	params match.Params
	ex     plugin.Exchange
	call   engine.Call // access log and trace of the request
	tee    engine.Tee  // the answer a filter asked for (capture.go)
	status int         // what the client was answered; 0 before

	path    string // normalised request path, for routing and plugins
	pathBuf []byte
	// fwdPath is the escaped form of path, sent upstream unless a rewrite
	// changes it: the client's bytes when pathClean, else fwdBuf.
	fwdPath   []byte
	fwdBuf    []byte
	pathClean bool
	scan      reqpolicy.HeadScan
	// idNames are the client's identity headers (X-Consumer-*, …),
	// removed before the plugins run.
	idNames   [8][]byte
	idHeaders int
	prefetch  []byte // the start of a chunked body (prefetchChunked)
	idBuf     []byte
	uriBuf    []byte
	xffBuf    []byte
	valsBuf   []string // HeaderValues' answer, reused
	numBuf    []byte   // SetResponseHeaderInt's digits, for preAnswer

	client    netip.Addr
	clientSet bool
	// bodyLimit is the smallest body limit in force, when limited.
	bodyLimit int64
	limited   bool
	// hop names the headers of the Connection header (hop-by-hop).
	hopTokens [8][]byte
	hops      int

	// preAnswer are the header edits plugins made before the backend
	// answered, made on the answer when it is written (applyPreAnswer):
	// reading the backend's header would reset them.
	preAnswer []headerEdit

	up      upstreamCall
	reqBody requestBody
	resp    responseBody

	// waitingSince is when the upstream wait began (engine.Monotonic), 0 when
	// not waiting; the watcher reads it. mu orders the watcher's check of
	// the client against the end of the wait.
	mu           sync.Mutex
	waitingSince atomic.Int64
	clientGone   atomic.Bool
	upConn       net.Conn // the upstream connection in use, for the watcher
	// reqCtx is the request's context once a filter asked for it
	// (Context); the watcher cancels it when the client leaves, reset
	// when the request ends. Nil for every request that never asks.
	reqCtx    context.Context
	cancelCtx context.CancelFunc
	ctxMade   atomic.Bool // reqCtx is set: endContext has work
}

// freeList keeps every state ever made, so the watcher can scan them and
// a state is never lost to a GC'd pool: their number is the peak number
// of concurrent requests.
type freeList struct {
	s    *Server
	mu   sync.Mutex
	free []*state
	all  atomic.Pointer[[]*state]
}

func (f *freeList) get() *state {
	f.mu.Lock()
	if n := len(f.free); n > 0 {
		st := f.free[n-1]
		f.free = f.free[:n-1]
		f.mu.Unlock()
		return st
	}
	st := &state{s: f.s}
	st.reqBody.st = st
	st.resp.st = st
	var all []*state
	if p := f.all.Load(); p != nil {
		all = append(all, *p...)
	}
	all = append(all, st)
	f.all.Store(&all)
	f.mu.Unlock()
	return st
}

func (f *freeList) put(st *state) {
	f.mu.Lock()
	f.free = append(f.free, st)
	f.mu.Unlock()
}

// snapshot lists every state, for the watcher.
func (f *freeList) snapshot() []*state {
	if p := f.all.Load(); p != nil {
		return *p
	}
	return nil
}

func (st *state) reset() {
	st.endContext()
	st.ex.Release()
	st.call.Reset()
	st.tee.Reset()
	st.params.Reset()
	st.ctx, st.route, st.status = nil, nil, 0
	st.pool, st.canary, st.node = nil, false, nil
	st.path, st.fwdPath, st.pathClean = "", nil, false
	for i := range st.idHeaders {
		st.idNames[i] = nil
	}
	st.idHeaders = 0
	clear(st.valsBuf) // drop the views of this request's bytes
	st.valsBuf = st.valsBuf[:0]
	st.client, st.clientSet = netip.Addr{}, false
	st.bodyLimit, st.limited = 0, false
	for i := range st.hops {
		st.hopTokens[i] = nil
	}
	st.hops = 0
	clear(st.preAnswer)
	st.preAnswer = st.preAnswer[:0]
	st.numBuf = st.numBuf[:0]
	st.up = upstreamCall{}
	st.reqBody.reset()
	st.resp.reset()
	st.clientGone.Store(false)
}

// b2s views b as a string without copying. The string is valid as long as
// b is: for request data, until the request ends (plugin.Exchange's rule).
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (st *state) Method() string { return b2s(st.ctx.Method()) }
func (st *state) Path() string   { return st.path }
func (st *state) Host() string   { return match.HostOnly(b2s(st.ctx.Request.Header.Host())) }

func (st *state) Header(name string) string {
	return b2s(st.ctx.Request.Header.Peek(name))
}

// HeaderValues views every line of a header in the state's own slice.
func (st *state) HeaderValues(name string) []string {
	st.valsBuf = st.valsBuf[:0]
	for _, v := range st.ctx.Request.Header.PeekAll(name) {
		st.valsBuf = append(st.valsBuf, b2s(v))
	}
	return st.valsBuf
}

func (st *state) Query(name string) string {
	return b2s(st.ctx.QueryArgs().Peek(name))
}

func (st *state) RawQuery() string {
	return b2s(rawQuery(st.ctx.Request.Header.RequestURI()))
}

func (st *state) BackendPath() string {
	if st.route == nil {
		return st.path
	}
	return st.route.UpstreamPath(st.path, &st.params)
}

func (st *state) PeerCertificates() []*x509.Certificate {
	if cs := st.ctx.TLSConnectionState(); cs != nil {
		return cs.PeerCertificates
	}
	return nil
}

func (st *state) Arrived() time.Time { return st.start }

func (st *state) ClientAddr() netip.Addr {
	if !st.clientSet {
		st.clientSet = true
		if pc := parkingOf(st.ctx.Conn()); pc != nil {
			st.client = pc.client
		} else {
			st.client = peerAddrOf(st.ctx.RemoteAddr())
		}
	}
	return st.client
}

// peerAddr is the address of c's peer, IPv4 unmapped.
func peerAddr(c net.Conn) netip.Addr { return peerAddrOf(c.RemoteAddr()) }

func peerAddrOf(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// ContentLength is -1 for a chunked body and 0 for none.
func (st *state) ContentLength() int64 {
	switch n := st.ctx.Request.Header.ContentLength(); {
	case n == -1:
		return -1
	case n < 0:
		return 0
	default:
		return int64(n)
	}
}

// LimitBody keeps the smallest limit: the engine's and every plugin's.
func (st *state) LimitBody(n int64) {
	n = max(n, 0)
	if !st.limited || n < st.bodyLimit {
		st.bodyLimit, st.limited = n, true
	}
}

func (st *state) SetUpstreamHeader(name, value string) { st.ctx.Request.Header.Set(name, value) }
func (st *state) DelUpstreamHeader(name string)        { st.ctx.Request.Header.Del(name) }

func (st *state) ResponseStatus() int {
	if st.up.answered {
		return st.ctx.Response.StatusCode()
	}
	return st.status
}

// ResponseHeader reads the backend's answer once it arrived; before, the
// edits plugins made (kept until the answer is written) and then what the
// engine set.
func (st *state) ResponseHeader(name string) string {
	if !st.up.answered {
		for i := len(st.preAnswer) - 1; i >= 0; i-- {
			if e := &st.preAnswer[i]; strings.EqualFold(e.name, name) {
				return e.value // "" for a removal
			}
		}
	}
	return b2s(st.ctx.Response.Header.Peek(name))
}

func (st *state) SetResponseHeader(name, value string) {
	if st.up.answered {
		st.ctx.Response.Header.Set(name, value)
		return
	}
	st.preAnswer = append(st.preAnswer, headerEdit{name: name, value: value})
}

// SetResponseHeaderInt appends the digits to numBuf, which only grows
// during a request: a value kept in preAnswer stays as written (a
// reallocation leaves the old array to the values that point into it).
func (st *state) SetResponseHeaderInt(name string, v int64) {
	start := len(st.numBuf)
	st.numBuf = strconv.AppendInt(st.numBuf, v, 10)
	st.SetResponseHeader(name, b2s(st.numBuf[start:]))
}

func (st *state) DelResponseHeader(name string) {
	if st.up.answered {
		st.ctx.Response.Header.Del(name)
		return
	}
	st.preAnswer = append(st.preAnswer, headerEdit{name: name, del: true})
}

// headerEdit is a change to the answer's headers.
type headerEdit struct {
	name, value string
	del         bool
}

// applyPreAnswer makes, on the answer about to be written, the header
// edits plugins made before it existed (X-RateLimit-*, CORS, …): the
// backend's, which replaced the headers when it was read, or the
// gateway's own. They are kept until then, not set at once, so each is
// set once a request.
func (st *state) applyPreAnswer() {
	h := &st.ctx.Response.Header
	for _, e := range st.preAnswer {
		if e.del {
			h.Del(e.name)
		} else {
			h.Set(e.name, e.value)
		}
	}
}

// WriteError sends a gateway error. Headers a plugin set before (Allow,
// Retry-After) stay.
func (st *state) WriteError(status int, body []byte) {
	r := &st.ctx.Response
	if !st.up.answered {
		st.applyPreAnswer()
	}
	r.SetStatusCode(status)
	r.Header.SetContentType("application/json")
	r.Header.Set("Cache-Control", "no-store")
	r.Header.SetBytesV("X-Request-Id", st.idBuf)
	r.SetBody(body)
	st.status = status
}

// WriteResponse sends a plugin's own answer (mock, CORS preflight) with the
// headers it set.
func (st *state) WriteResponse(status int, body []byte) {
	r := &st.ctx.Response
	if !st.up.answered {
		st.applyPreAnswer()
	}
	r.SetStatusCode(status)
	r.Header.SetNoDefaultContentType(true) // the plugin's, or none (a 204)
	r.Header.SetBytesV("X-Request-Id", st.idBuf)
	r.SetBody(body)
	st.status = status
}
