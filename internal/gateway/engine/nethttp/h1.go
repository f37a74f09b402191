package nethttp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"sync"
	"syscall"
	"time"
)

// The engine's own HTTP/1.1 client carries the common request: no body, no
// protocol switch, plain http. It writes the request and reads the answer
// on the handler's goroutine, on a keep-alive connection it owns for the
// exchange, where http.Transport hands every request to a writer and a
// reader goroutine per connection and back, with contexts, channels and a
// request clone on the way. Everything else (bodies, upgrades, https) goes
// through http.Transport (balancer.go).

// errStale is a reused keep-alive connection the backend had closed
// before it got the request: the request is sent again on another one.
var errStale = errors.New("keep-alive connection closed by the backend")

var (
	errUnasked101 = errors.New("backend switched protocols unasked")
	errTooMany1xx = errors.New("too many 1xx informational answers")
)

// h1Conn is one keep-alive connection to a node.
type h1Conn struct {
	nc    net.Conn
	raw   syscall.RawConn // for the liveness check; nil when unavailable
	br    *bufio.Reader
	bw    *bufio.Writer
	idle  int64  // unix nanos when it went idle
	abort func() // closes nc; bound once, used as the client-departure hook
}

func newH1Conn(nc net.Conn) *h1Conn {
	c := &h1Conn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10), bw: bufio.NewWriterSize(nc, 4<<10)}
	c.abort = c.close
	inner := nc
	if dc, ok := nc.(*deadlineConn); ok {
		inner = dc.Conn
	}
	if sc, ok := inner.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	return c
}

// checkIdleAfter: a connection idle longer is checked before it is used.
// Under load connections come back within milliseconds; a backend that
// closes idle ones does so after seconds.
const checkIdleAfter = int64(time.Second)

func (c *h1Conn) close() { _ = c.nc.Close() }

// h1Pool is the keep-alive connections of one node.
type h1Pool struct {
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle     int
	idleTimeout time.Duration

	mu    sync.Mutex
	idle  []*h1Conn   // most recently used last
	sweep *time.Timer // closes connections idle too long; nil while none are
}

// get returns an idle connection, or nil. One idle for a while (or any,
// for a request that must not be sent twice) is checked first: a backend
// may have closed it, and the retry of errStale is only for idempotent
// requests.
func (p *h1Pool) get(idem bool) *h1Conn {
	for {
		now := time.Now().UnixNano()
		p.mu.Lock()
		n := len(p.idle)
		if n == 0 {
			p.mu.Unlock()
			return nil
		}
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		idle := now - c.idle
		if idle < int64(p.idleTimeout) && (idem && idle < checkIdleAfter || c.alive()) {
			return c
		}
		c.close()
	}
}

func (p *h1Pool) put(c *h1Conn) {
	c.idle = time.Now().UnixNano()
	p.mu.Lock()
	if len(p.idle) < p.maxIdle {
		p.idle = append(p.idle, c)
		c = nil
		if p.sweep == nil {
			p.sweep = time.AfterFunc(p.idleTimeout, p.sweepIdle)
		}
	}
	p.mu.Unlock()
	if c != nil {
		c.close()
	}
}

// sweepIdle closes the connections idle longer than idleTimeout, as
// http.Transport does, and runs again while some are left.
func (p *h1Pool) sweepIdle() {
	cut := time.Now().UnixNano() - int64(p.idleTimeout)
	p.mu.Lock()
	i := 0
	for i < len(p.idle) && p.idle[i].idle <= cut {
		i++
	}
	old := slices.Clone(p.idle[:i])
	n := copy(p.idle, p.idle[i:])
	clear(p.idle[n:])
	p.idle = p.idle[:n]
	if n > 0 {
		p.sweep.Reset(time.Duration(p.idle[0].idle - cut))
	} else {
		p.sweep = nil
	}
	p.mu.Unlock()
	for _, c := range old {
		c.close()
	}
}

func (p *h1Pool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	if p.sweep != nil {
		p.sweep.Stop()
		p.sweep = nil
	}
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// alive reports whether an idle connection is still open with nothing
// unread on it, without blocking.
func (c *h1Conn) alive() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	if c.raw == nil {
		return true
	}
	ok := true
	err := c.raw.Read(func(fd uintptr) bool {
		ok = peekOpen(fd)
		return true
	})
	return ok && err == nil
}

// roundTrip sends out (bodiless) to addr and returns the answer's head;
// its body gives the connection back once read to the end.
func (p *h1Pool) roundTrip(st *state, out *http.Request, addr string) (*http.Response, error) {
	ctx := st.r.Context()
	for {
		if st.clientGone() {
			return nil, context.Canceled
		}
		c := p.get(idempotent(out))
		reused := c != nil
		if c == nil {
			nc, err := p.dial(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			c = newH1Conn(nc)
		}
		resp, err := st.exchange(p, c, out, reused)
		if err == nil {
			return resp, nil
		}
		c.close()
		if err == errStale && !st.clientGone() {
			continue
		}
		return nil, err
	}
}

// exchange writes the request on c and reads the answer's head. 1xx
// answers other than 101 are passed on to the client.
func (st *state) exchange(p *h1Pool, c *h1Conn, out *http.Request, reused bool) (*http.Response, error) {
	// A client that leaves aborts the exchange: closing the connection
	// also tells the backend. Served by NewServer, the client connection
	// does it when its read fails (conn.go), without a context hook.
	b := &st.h1b
	*b = h1Body{c: c, p: p}
	if cc := st.clientConn(); cc != nil {
		b.cc = cc
		cc.up.Store(c)
		if cc.gone.Load() {
			b.release()
			return nil, context.Canceled
		}
	} else {
		b.stop = context.AfterFunc(st.r.Context(), c.abort)
	}
	resp, err := st.exchangeHead(c, out, reused)
	if err != nil {
		b.release()
		*b = h1Body{}
		return nil, err
	}
	b.rc, b.keep = resp.Body, !resp.Close
	resp.Body = b
	return resp, nil
}

func (st *state) exchangeHead(c *h1Conn, out *http.Request, reused bool) (*http.Response, error) {
	if dc, ok := c.nc.(*deadlineConn); ok && !st.headDeadline.IsZero() {
		// A retry policy's timeout: the answer's head comes by then.
		dc.holdRead(st.headDeadline)
		defer dc.releaseRead()
	}
	if err := writeHead(c.bw, out); err != nil {
		c.bw.Reset(c.nc)
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		c.bw.Reset(c.nc)
		if reused && !isTimeout(err) {
			return nil, errStale // nothing of a request without a body got processed
		}
		return nil, err
	}
	if _, err := c.br.Peek(1); err != nil {
		if reused && idempotent(out) && !isTimeout(err) && !st.clientGone() &&
			(err == io.EOF || errors.Is(err, net.ErrClosed) || isConnReset(err)) {
			return nil, errStale
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	for n := 0; ; n++ {
		resp, err := http.ReadResponse(c.br, out)
		if err != nil {
			return nil, err
		}
		code := resp.StatusCode
		if code == http.StatusSwitchingProtocols {
			return nil, errUnasked101
		}
		if code >= 200 {
			return resp, nil
		}
		if n >= 5 {
			return nil, errTooMany1xx
		}
		st.forward1xx(code, resp.Header)
	}
}

// forward1xx passes an informational answer (103 Early Hints) on.
func (st *state) forward1xx(code int, h http.Header) {
	dst := st.w.Header()
	var added [8]string
	keys := added[:0]
	for k, vv := range h {
		if _, ok := dst[k]; ok || k == "X-Request-Id" {
			continue
		}
		dst[k] = vv
		keys = append(keys, k)
	}
	st.w.WriteHeader(code)
	for _, k := range keys {
		delete(dst, k)
	}
}

func idempotent(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, a := r.Header["Idempotency-Key"]
	_, b := r.Header["X-Idempotency-Key"]
	return a || b
}

func isConnReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "read"
}

// h1Body is the body of an answer read by the engine's client: at its end
// the connection goes back to the pool when the answer allows it.
type h1Body struct {
	rc   io.ReadCloser
	c    *h1Conn
	p    *h1Pool
	cc   *clientConn // whose departure closes c, or
	stop func() bool // the context hook that does
	keep bool
	done bool
}

// release takes c back from the departure hook; false when the hook has
// it (the client left: c is being closed).
func (b *h1Body) release() bool {
	if b.cc != nil {
		return b.cc.up.CompareAndSwap(b.c, nil)
	}
	return b.stop()
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.finish(true)
	}
	return n, err
}

// Close before the end drops the connection: draining an unread answer
// could take as long as the answer.
func (b *h1Body) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

func (b *h1Body) finish(eof bool) {
	b.done = true
	if b.release() && eof && b.keep && b.c.br.Buffered() == 0 {
		b.p.put(b.c)
	} else {
		b.c.close()
	}
	b.c, b.p, b.cc, b.stop = nil, nil, nil, nil
}

// writeHead writes a bodiless request's head as Request.Write does, without
// its formatting and sorting.
func writeHead(w *bufio.Writer, r *http.Request) error {
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	if r.URL.Opaque != "" || !plainHost(host) {
		return r.Write(w) // the rare case, the long way
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	if hasCTL(path) || hasCTL(r.URL.RawQuery) {
		return errors.New("net/http: can't write control character in Request.URL")
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(path)
	if r.URL.ForceQuery || r.URL.RawQuery != "" {
		w.WriteByte('?')
		w.WriteString(r.URL.RawQuery)
	}
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	if ua, ok := r.Header["User-Agent"]; !ok {
		w.WriteString("User-Agent: Go-http-client/1.1\r\n")
	} else if len(ua) > 0 && ua[0] != "" {
		if err := writeField(w, "User-Agent", ua[0]); err != nil {
			return err
		}
	}
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		w.WriteString("Content-Length: 0\r\n") // as Request.Write does
	}
	for k, vv := range r.Header {
		switch k {
		case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		if !validFieldName(k) {
			return errors.New("net/http: invalid header field name " + k)
		}
		for _, v := range vv {
			if err := writeField(w, k, v); err != nil {
				return err
			}
		}
	}
	_, err := w.WriteString("\r\n")
	return err
}

func writeField(w *bufio.Writer, k, v string) error {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < ' ' && b != '\t' || b == 0x7f {
			return errors.New("net/http: invalid header field value for " + k)
		}
	}
	w.WriteString(k)
	w.WriteString(": ")
	w.WriteString(textproto.TrimString(v))
	_, err := w.WriteString("\r\n")
	return err
}

// plainHost: printable ASCII without spaces or a zone: what Request.Write
// would send unchanged.
func plainHost(h string) bool {
	for i := 0; i < len(h); i++ {
		if b := h[i]; b <= ' ' || b >= 0x7f || b == '%' || b == '/' {
			return false
		}
	}
	return true
}

func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < ' ' || b == 0x7f {
			return true
		}
	}
	return false
}

// validFieldName: an RFC 9110 token.
func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		b := k[i]
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case b == '-' || b == '_' || b == '.' || b == '!' || b == '#' || b == '$' || b == '%' || b == '&' ||
			b == '\'' || b == '*' || b == '+' || b == '^' || b == '`' || b == '|' || b == '~':
		default:
			return false
		}
	}
	return true
}
