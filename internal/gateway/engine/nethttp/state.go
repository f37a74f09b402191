package nethttp

import (
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/match"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/routing"
)

// state is one request's engine state, pooled. It is the plugin.Backing of
// its Exchange.
type state struct {
	h     *Handler
	proxy httputil.ReverseProxy // hooks bound to this state (newState)
	bal   balancer

	w      http.ResponseWriter
	r      *http.Request
	route  *routing.Route
	params match.Params
	ex     plugin.Exchange
	resp   *http.Response // the backend's response once it arrived
	status int            // what the client was answered; 0 before

	host       string
	hostParsed bool
	client     netip.Addr
	clientSet  bool
	query      url.Values
	limit      limitedBody
}

func (st *state) begin(w http.ResponseWriter, r *http.Request) {
	st.w, st.r = w, r
}

func (st *state) end() {
	st.ex.Release()
	st.params.Reset()
	*st = state{h: st.h, proxy: st.proxy, bal: st.bal, ex: st.ex, params: st.params}
}

func (st *state) Method() string { return st.r.Method }
func (st *state) Path() string   { return st.r.URL.Path }

func (st *state) Host() string {
	if !st.hostParsed {
		st.host, st.hostParsed = hostOnly(st.r.Host), true
	}
	return st.host
}

// hostOnly drops the port (and IPv6 brackets); it allocates nothing.
func hostOnly(h string) string {
	i := strings.LastIndexByte(h, ':')
	switch {
	case len(h) > 0 && h[0] == '[':
		if j := strings.IndexByte(h, ']'); j > 0 {
			return h[1:j]
		}
		return h
	case i < 0 || strings.IndexByte(h, ':') != i: // no port, or a bare IPv6
		return h
	}
	return h[:i]
}

func (st *state) Header(name string) string { return st.r.Header.Get(name) }

func (st *state) Query(name string) string {
	if st.query == nil {
		st.query = st.r.URL.Query()
	}
	return st.query.Get(name)
}

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

// LimitBody makes the proxy's read of the body fail with
// plugin.ErrBodyTooLarge past max bytes; the proxy then answers 413.
func (st *state) LimitBody(max int64) {
	if st.r.Body == nil || st.r.Body == http.NoBody {
		return
	}
	st.limit = limitedBody{rc: st.r.Body, left: max}
	st.r.Body = &st.limit
}

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
func (st *state) DelResponseHeader(name string) { st.responseHeader().Del(name) }

// WriteError sends a gateway error. Headers a plugin set before (Allow,
// Retry-After) stay.
func (st *state) WriteError(status int, body []byte) {
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

// limitedBody fails a read once more than left bytes came.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, plugin.ErrBodyTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.rc.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, plugin.ErrBodyTooLarge
	}
	return n, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }
