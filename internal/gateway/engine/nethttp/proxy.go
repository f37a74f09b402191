package nethttp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/upstream"
)

// errNoNode is a pool with no node to send to (all drained or none yet
// discovered): 503, not 502, because nothing failed.
var errNoNode = errors.New("upstream has no available node")

var (
	errBadUpgrade      = errors.New("client tried to switch to an invalid protocol")
	errBackendUpgrade  = errors.New("backend switched to a protocol the client did not ask for")
	errUpgradeNoWriter = errors.New("101 switching protocols response with a non-writable body")
)

// Shared header values; the proxy never edits a value slice in place.
var (
	protoHTTP   = []string{"http"}
	protoHTTPS  = []string{"https"}
	noUserAgent = []string{""} // keeps Go's default User-Agent off
	teTrailers  = []string{"trailers"}
	connUpgrade = []string{"Upgrade"}
)

// proxy sends the request upstream and the answer back. It does what
// httputil.ReverseProxy does, on the pooled request state: the outgoing
// request and its header map are the state's own, and a plain request goes
// through the engine's own HTTP/1.1 client (h1.go).
func (st *state) proxy() {
	st.pool, st.canary = st.route.Pick(&st.ex)
	if st.pool.GRPC() && st.r.ProtoMajor != 2 {
		st.ex.Reject(http.StatusHTTPVersionNotSupported, "http2_required", "this route's upstream speaks gRPC, which needs HTTP/2")
		return
	}
	if err := st.prefetch(); err != nil {
		st.proxyError(err)
		return
	}
	out, err := st.buildOut()
	if err != nil {
		st.proxyError(err)
		return
	}
	// The trace goes on upstream with the upstream call as its parent.
	if tp := st.call.Traceparent(&st.h.telemetry); tp != nil {
		out.Header["Traceparent"] = []string{string(tp)}
	}
	res, err := st.bal.roundTrip(out)
	if err != nil {
		st.proxyError(err)
		return
	}
	if res.StatusCode == http.StatusSwitchingProtocols {
		if !st.modifyResponse(res) {
			return
		}
		st.upgrade(res)
		return
	}
	removeHopByHop(res.Header)
	if !st.modifyResponse(res) {
		return
	}

	// Headers a request filter set on the answer before the backend
	// answered (X-RateLimit-*, CORS) replace the backend's, as on the fast
	// engine: the gateway's word is final.
	dst := st.w.Header()
	for k, vv := range res.Header {
		if _, ok := dst[k]; !ok {
			dst[k] = vv
		}
	}
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		dst.Add("Trailer", strings.Join(keys, ", "))
	}
	st.w.WriteHeader(res.StatusCode)

	if err := st.copyBody(res); err != nil {
		_ = res.Body.Close()
		// The answer has started: all that is left is to abort it.
		panic(http.ErrAbortHandler)
	}
	_ = res.Body.Close() // now, to populate res.Trailer

	if len(res.Trailer) > 0 {
		// Force chunking so the trailers can follow.
		_ = http.NewResponseController(st.w).Flush()
		if len(res.Trailer) == announced {
			for k, vv := range res.Trailer {
				dst[k] = append(dst[k], vv...)
			}
			return
		}
		for k, vv := range res.Trailer {
			k = http.TrailerPrefix + k
			for _, v := range vv {
				dst.Add(k, v)
			}
		}
	}
}

// copyBody streams the response body with a pooled buffer; a body of
// unknown length (and server-sent events) is flushed after every write.
func (st *state) copyBody(res *http.Response) error {
	flush := res.ContentLength == -1 || isEventStream(res.Header["Content-Type"])
	var fl http.Flusher
	if flush {
		fl, _ = st.w.(http.Flusher)
		// The headers go out even if the body is slow to come.
		if fl != nil {
			fl.Flush()
		}
	}
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	buf := *bp
	for {
		nr, rerr := res.Body.Read(buf)
		if nr > 0 {
			st.call.BytesOut += int64(nr)
			st.call.Capture(true, buf[:nr])
			st.tee.Write(buf[:nr])
			nw, werr := st.w.Write(buf[:nr])
			if werr != nil {
				return werr
			}
			if nw != nr {
				return io.ErrShortWrite
			}
			if fl != nil {
				fl.Flush()
			}
		}
		if rerr != nil {
			if rerr == io.EOF {
				st.tee.End()
				return nil
			}
			return rerr
		}
	}
}

// isEventStream: Content-Type text/event-stream, parameters ignored.
func isEventStream(ct []string) bool {
	if len(ct) == 0 {
		return false
	}
	v := strings.TrimLeft(ct[0], " \t")
	const es = "text/event-stream"
	if len(v) < len(es) || !strings.EqualFold(v[:len(es)], es) {
		return false
	}
	rest := strings.TrimLeft(v[len(es):], " \t")
	return rest == "" || rest[0] == ';'
}

// buildOut shapes the outgoing request in the state's own request, URL and
// header map: hop-by-hop headers (and those Connection names) dropped,
// X-Forwarded-* set, path (group prefix stripped or the route's backend
// path), method (backend.method), Host per pass_host. The node's address is
// filled by the balancer, which may retry on another one.
func (st *state) buildOut() (*http.Request, error) {
	in := st.r
	rt := st.route
	pool := st.pool
	h := st.outHeader
	clear(h)

	upType := upgradeType(in.Header)
	if upType != "" && !isPrint(upType) {
		return nil, errBadUpgrade
	}
	for k, vv := range in.Header {
		// Headers the client's Connection named went before the plugins
		// ran (dropClientHeaders): a plugin's own may share their names.
		if isHopByHop(k) {
			continue
		}
		switch k {
		case "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
			continue
		}
		h[k] = vv
	}
	if te := in.Header["Te"]; len(te) > 0 && hasToken(te, "trailers") {
		h["Te"] = teTrailers
	}
	if upType != "" {
		h["Connection"] = connUpgrade
		st.xvals[2] = upType
		h["Upgrade"] = st.xvals[2:3:3]
	}
	// Behind a load balancer the chain matters: keep it and add the peer.
	if clientIP, _, err := net.SplitHostPort(in.RemoteAddr); err == nil {
		if prior := in.Header["X-Forwarded-For"]; len(prior) > 0 {
			clientIP = strings.Join(prior, ", ") + ", " + clientIP
		}
		st.xvals[0] = clientIP
		h["X-Forwarded-For"] = st.xvals[0:1:1]
	}
	st.xvals[1] = in.Host
	h["X-Forwarded-Host"] = st.xvals[1:2:2]
	if requestTLS(in) == nil {
		h["X-Forwarded-Proto"] = protoHTTP
	} else {
		h["X-Forwarded-Proto"] = protoHTTPS
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = noUserAgent
	}

	u := &st.outURL
	*u = *in.URL
	u.Scheme = pool.URLScheme()
	u.Host = "upstream" // replaced by the balancer
	u.RawQuery = cleanQueryParams(in.URL.RawQuery)
	if q, ok := st.ex.UpstreamQuery(); ok {
		u.RawQuery = q
		u.ForceQuery = false
	}
	switch {
	case st.ex.UpstreamPath() != "":
		u.Path, u.RawPath = st.ex.UpstreamPath(), ""
	case rt.HasRewrite():
		u.Path, u.RawPath = rt.UpstreamPath(in.URL.Path, &st.params), ""
	case rt.StripPrefix() != "":
		u.Path = rt.UpstreamPath(in.URL.Path, &st.params)
		// Keep the client's escaping when it survives the strip.
		raw, ok := strings.CutPrefix(in.URL.RawPath, rt.StripPrefix())
		if !ok || raw == "" || raw[0] != '/' {
			raw = ""
		}
		u.RawPath = raw
	}
	if base := pool.BasePath; base != "" {
		// A registered API's base path goes in front.
		u.Path = base + u.Path
		if u.RawPath != "" {
			u.RawPath = base + u.RawPath
		}
	}

	out := &st.out
	*out = http.Request{
		Method:     in.Method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       in.Host,
		Trailer:    in.Trailer,
	}
	if rt.BackendMethod() != "" {
		out.Method = rt.BackendMethod()
	}
	if in.ContentLength != 0 && in.Body != nil && in.Body != http.NoBody {
		// The body the transport reads never closes the client's (body.go).
		out.Body = st.wrapBody()
		out.ContentLength = in.ContentLength
		out.TransferEncoding = in.TransferEncoding
	}
	if st.newBody != nil {
		st.upstreamBody(out)
	}
	switch pool.PassHost {
	case "node":
		out.Host = "" // the node's, set by the balancer
	case "rewrite":
		out.Host = pool.UpstreamHost
	}
	if host := st.ex.UpstreamHost(); host != "" {
		out.Host = host // a plugin's (proxy-rewrite) beats pass_host
	}
	return out, nil
}

// isHopByHop: the headers of one connection only (RFC 9110 §7.6.1), and
// those RFC 2616 listed, as httputil.ReverseProxy strips them.
func isHopByHop(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// listedIn reports whether the Connection header values name k.
func listedIn(conn []string, k string) bool {
	for _, v := range conn {
		for v != "" {
			var f string
			f, v, _ = strings.Cut(v, ",")
			if f = textproto.TrimString(f); f != "" && strings.EqualFold(f, k) {
				return true
			}
		}
	}
	return false
}

// hasToken reports whether a comma-separated header value lists token.
func hasToken(vv []string, token string) bool {
	for _, v := range vv {
		for v != "" {
			var f string
			f, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(textproto.TrimString(f), token) {
				return true
			}
		}
	}
	return false
}

// removeHopByHop removes hop-by-hop headers and those Connection names.
func removeHopByHop(h http.Header) {
	if conn := h["Connection"]; len(conn) > 0 {
		for _, f := range conn {
			for f != "" {
				var sf string
				sf, f, _ = strings.Cut(f, ",")
				if sf = textproto.TrimString(sf); sf != "" {
					h.Del(sf)
				}
			}
		}
	}
	for _, k := range [...]string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"} {
		if _, ok := h[k]; ok {
			delete(h, k)
		}
	}
}

func upgradeType(h http.Header) string {
	if c := h["Connection"]; len(c) == 0 || !hasToken(c, "upgrade") {
		return ""
	}
	return h.Get("Upgrade")
}

func isPrint(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// cleanQueryParams re-encodes a query net/url would not parse as it stands
// (a ';', a bad escape, too many parameters), as ReverseProxy does.
func cleanQueryParams(s string) string {
	reencode := func(s string) string {
		v, _ := url.ParseQuery(s)
		return v.Encode()
	}
	if s == "" {
		return s
	}
	if strings.Count(s, "&")+1 > 10000 {
		return reencode(s)
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case ';':
			return reencode(s)
		case '%':
			if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
				return reencode(s)
			}
			i += 3
		default:
			i++
		}
	}
	return s
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// modifyResponse runs the route's response filters on the backend's
// answer; false when it was not sent on (a filter panicked: the recover in
// finish answers 500).
func (st *state) modifyResponse(resp *http.Response) bool {
	st.resp = resp
	// The gateway's X-Request-Id is already set; a backend's copy would
	// repeat it.
	delete(resp.Header, "X-Request-Id")
	for _, f := range st.route.ResponseFilters() {
		f.OnResponse(&st.ex)
	}
	// Set only now: a filter that panicked has sent nothing, so the
	// recover still answers 500.
	st.status = resp.StatusCode
	return true
}

// upgrade hands a 101 answer's connection over both ways (WebSocket and
// other protocol switches), as ReverseProxy does.
func (st *state) upgrade(res *http.Response) {
	reqUp := upgradeType(st.out.Header)
	resUp := upgradeType(res.Header)
	if !isPrint(resUp) || !strings.EqualFold(reqUp, resUp) {
		_ = res.Body.Close()
		st.status = 0
		st.proxyError(errBackendUpgrade)
		return
	}
	backConn, ok := res.Body.(io.ReadWriteCloser)
	if !ok {
		_ = res.Body.Close()
		st.status = 0
		st.proxyError(errUpgradeNoWriter)
		return
	}
	if cc := st.clientConn(); cc != nil {
		cc.hijacked.Store(true) // what follows is not HTTP: stop checking heads
	}
	conn, brw, err := http.NewResponseController(st.w).Hijack()
	if err != nil {
		_ = backConn.Close()
		st.status = 0
		st.proxyError(err)
		return
	}
	defer conn.Close()
	// A cancelled request (the server shutting down) closes the backend.
	stop := context.AfterFunc(st.r.Context(), func() { _ = backConn.Close() })
	defer func() {
		stop()
		_ = backConn.Close()
	}()

	hdr := st.w.Header()
	for k, vv := range res.Header {
		hdr[k] = append(hdr[k], vv...)
	}
	res.Header = hdr
	res.Body = nil // res.Write writes only the head; the body is backConn
	if err := res.Write(brw); err != nil {
		return
	}
	if err := brw.Flush(); err != nil {
		return
	}
	errc := make(chan error, 2)
	go copyHalf(conn, backConn, errc)
	go copyHalf(backConn, conn, errc)
	// Both directions end (a half-close passes on), or one fails.
	if err := <-errc; err == nil {
		<-errc
	}
}

var errCopyDone = errors.New("hijacked connection copy complete")

// copyHalf copies src to dst and passes src's end on as a half-close.
func copyHalf(dst io.Writer, src io.Reader, errc chan<- error) {
	if _, err := io.Copy(dst, src); err != nil {
		errc <- err
		return
	}
	if wc, ok := dst.(interface{ CloseWrite() error }); ok {
		errc <- wc.CloseWrite()
		return
	}
	errc <- errCopyDone
}

// proxyError answers a failed upstream call in the gateway's JSON shape.
func (st *state) proxyError(err error) {
	h := st.h
	if st.body != nil && st.body.timedOut.Load() {
		// The client stalled mid-body (nginx answers 408 too); whatever it
		// sends next must not be read as a request.
		st.w.Header().Set("Connection", "close")
		st.ex.Reject(http.StatusRequestTimeout, "body_timeout", "the client stopped sending the request body")
		return
	}
	if st.clientGone() {
		// The client left; nobody reads an answer. Metrics count a 499.
		h.obs.UpstreamError(st.route, "client_closed")
		st.call.Failed("client_closed")
		return
	}
	if st.body != nil && st.body.malformed.Load() {
		// The client's chunked body broke its framing; the upstream
		// request (if any went out) was aborted unfinished.
		st.w.Header().Set("Connection", "close")
		st.ex.Reject(http.StatusBadRequest, "bad_request", "the request body is malformed")
		return
	}
	switch {
	case errors.Is(err, plugin.ErrBodyTooLarge):
		st.ex.Reject(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than this route allows")
	case errors.Is(err, errBodyOverGatewayLimit):
		st.ex.Reject(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than the gateway allows")
	case errors.Is(err, errNoNode):
		h.obs.UpstreamError(st.route, "no_node")
		st.call.Failed("no_node")
		st.ex.Reject(http.StatusServiceUnavailable, "no_upstream", "the upstream has no available node")
	case errors.Is(err, upstream.ErrOverloaded):
		h.obs.UpstreamError(st.route, "overloaded")
		st.call.Failed("overloaded")
		st.ex.Reject(http.StatusServiceUnavailable, "upstream_overloaded", upstream.OverloadedMessage)
	case errors.Is(err, errNoHealthyNode):
		h.obs.UpstreamError(st.route, "no_healthy_node")
		st.call.Failed("no_healthy_node")
		st.ex.Reject(http.StatusServiceUnavailable, "no_healthy_upstream", "no node of the upstream is healthy")
	case isTimeout(err):
		h.obs.UpstreamError(st.route, "timeout")
		st.call.Failed("timeout")
		st.ex.Reject(http.StatusGatewayTimeout, "upstream_timeout", "the upstream did not answer in time")
	case upstream.IsTLSError(err):
		h.obs.UpstreamError(st.route, "tls")
		st.call.Failed("tls")
		h.log.Debug("upstream TLS handshake failed", "err", err, "request_id", st.ex.RequestID())
		st.ex.Reject(http.StatusBadGateway, "upstream_tls", upstream.TLSFailure)
	default:
		kind := "connect"
		if !isDialError(err) {
			kind = "broken"
		}
		h.obs.UpstreamError(st.route, kind)
		st.call.Failed(kind)
		h.log.Debug("upstream call failed", "err", err, "request_id", st.ex.RequestID())
		st.ex.Reject(http.StatusBadGateway, "upstream_unavailable", "the upstream could not be reached")
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
