package nethttp

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/routing"
	"github.com/portico-gw/portico/internal/gateway/upstream"
)

// state is one request's engine state, pooled. It is the plugin.Backing of
// its Exchange.
type state struct {
	h   *Handler
	bal balancer

	// The outgoing request (proxy.go), rebuilt in place for every request;
	// only the engine's own client, which is done with it when the handler
	// returns, gets it as it is (http.Transport gets a copy).
	out       http.Request
	outURL    url.URL
	outHeader http.Header
	xvals     [3]string // X-Forwarded-For, X-Forwarded-Host, Upgrade
	h1b       h1Body
	cc        *clientConn // the client connection, once looked up
	ccSet     bool

	w     http.ResponseWriter
	r     *http.Request
	route *routing.Route
	// pool is the side of the route's canary Pick chose (the route's
	// upstream without one); nil until the request goes upstream.
	pool   *upstream.Pool
	canary bool
	// node is the node the request went to, counted in flight on pool
	// (least_conn) until the handler ends.
	node *upstream.Node
	// start is when the request came; headDeadline when the current
	// attempt's answer head must have come (a retry policy's timeouts;
	// zero: no bound).
	start        time.Time
	headDeadline time.Time
	params       match.Params
	ex           plugin.Exchange
	call         engine.Call    // access log and trace of the request
	tee          engine.Tee     // the answer a filter asked for (capture.go)
	resp         *http.Response // the backend's response once it arrived
	status       int            // what the client was answered; 0 before

	host       string
	hostParsed bool
	client     netip.Addr
	clientSet  bool
	query      url.Values
	body       *reqBody // the body the proxy sends, when wrapped (body.go)
	newBody    []byte   // the body a filter sends instead (bodyreplace.go)
	rawBuf     []byte   // the request target's bytes, for the path policy
	pathBuf    []byte   // the normalised path
}

func (st *state) begin(w http.ResponseWriter, r *http.Request, start time.Time) {
	st.w, st.r, st.start = w, r, start
}

func (st *state) end() {
	if st.body != nil {
		st.body.end()
	}
	st.ex.Release()
	st.params.Reset()
	clear(st.outHeader)
	st.call.Reset()
	st.tee.Reset()
	*st = state{h: st.h, bal: st.bal, ex: st.ex, call: st.call, tee: st.tee, params: st.params, outHeader: st.outHeader,
		rawBuf: st.rawBuf[:0], pathBuf: st.pathBuf[:0]}
}

// Context is the request's context (plugin.ContextSource): net/http
// cancels it when the client goes away or the handler returns.
func (st *state) Context() context.Context { return st.r.Context() }

func (st *state) Method() string { return st.r.Method }
func (st *state) Path() string   { return st.r.URL.Path }

func (st *state) Host() string {
	if !st.hostParsed {
		st.host, st.hostParsed = match.HostOnly(st.r.Host), true
	}
	return st.host
}

// Header is the request's header name; net/http keeps Host apart from
// the others, so it is read from there, as the fast engine reads it.
func (st *state) Header(name string) string {
	if len(name) == 4 && strings.EqualFold(name, "Host") {
		return st.r.Host
	}
	return st.r.Header.Get(name)
}

func (st *state) HeaderValues(name string) []string { return st.r.Header.Values(name) }

func (st *state) Query(name string) string {
	if st.query == nil {
		st.query = st.r.URL.Query()
	}
	return st.query.Get(name)
}

func (st *state) RawQuery() string { return st.r.URL.RawQuery }

func (st *state) BackendPath() string {
	if st.route == nil {
		return st.r.URL.Path
	}
	return st.route.UpstreamPath(st.r.URL.Path, &st.params)
}

func (st *state) PeerCertificates() []*x509.Certificate {
	if cs := requestTLS(st.r); cs != nil {
		return cs.PeerCertificates
	}
	return nil
}

func (st *state) Arrived() time.Time { return st.start }

func (st *state) ClientAddr() netip.Addr {
	if !st.clientSet {
		st.clientSet = true
		if ap, err := netip.ParseAddrPort(st.r.RemoteAddr); err == nil {
			st.client = ap.Addr().Unmap()
		} else if host, _, err := net.SplitHostPort(st.r.RemoteAddr); err == nil {
			st.client, _ = netip.ParseAddr(host)
		}
	}
	return st.client
}

func (st *state) ContentLength() int64 { return st.r.ContentLength }

func (st *state) SetUpstreamHeader(name, value string) { st.r.Header.Set(name, value) }
func (st *state) DelUpstreamHeader(name string)        { st.r.Header.Del(name) }

func (st *state) ResponseStatus() int {
	if st.resp != nil {
		return st.resp.StatusCode
	}
	return st.status
}

func (st *state) responseHeader() http.Header {
	if st.resp != nil {
		return st.resp.Header
	}
	return st.w.Header()
}

func (st *state) ResponseHeader(name string) string { return st.responseHeader().Get(name) }
func (st *state) SetResponseHeader(name, value string) {
	st.responseHeader().Set(name, value)
}
func (st *state) SetResponseHeaderInt(name string, v int64) {
	st.responseHeader().Set(name, strconv.FormatInt(v, 10))
}
func (st *state) DelResponseHeader(name string) { st.responseHeader().Del(name) }

// WriteError sends a gateway error. Headers a plugin set before (Allow,
// Retry-After) stay.
func (st *state) WriteError(status int, body []byte) {
	if isGRPC(st.r) {
		st.writeGRPCError(status, body)
		return
	}
	h := st.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	st.w.WriteHeader(status)
	if st.r.Method != http.MethodHead {
		_, _ = st.w.Write(body)
	}
	st.status = status
}

// WriteResponse sends a plugin's own answer (mock, CORS preflight) with the
// headers it set.
func (st *state) WriteResponse(status int, body []byte) {
	h := st.w.Header()
	noBody := status == http.StatusNoContent || status == http.StatusNotModified || status < 200
	if !noBody {
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	st.w.WriteHeader(status)
	if !noBody && st.r.Method != http.MethodHead {
		_, _ = st.w.Write(body)
	}
	st.status = status
}
