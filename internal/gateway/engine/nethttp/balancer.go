package nethttp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/gateway/upstream"
)

// balancer picks the node, sends through that node's client and, when a
// node refuses the connection, retries an idempotent request without a
// body on another node. A plain request goes through the engine's own
// HTTP/1.1 client (h1.go), anything else through the node's
// http.Transport.
type balancer struct {
	clients *clients
	obs     Observer
	st      *state // the request state this balancer serves
}

func (b *balancer) roundTrip(out *http.Request) (*http.Response, error) {
	st := b.st
	pool := st.pool
	node := pool.Pick(&st.ex)
	if node == nil {
		if len(pool.Nodes()) > 0 {
			return nil, errNoHealthyNode
		}
		return nil, errNoNode
	}
	pool.Done(st.node, 0) // a round trip before this one (none: nil, nothing counted)
	st.node = nil
	if !pool.Begin(node) {
		return nil, upstream.ErrOverloaded
	}
	st.node = node
	direct := out.Body == nil && pool.Scheme == "http" && out.Header["Upgrade"] == nil
	var req *http.Request
	var tr *trace1xx
	var body *resendBody
	if !direct {
		req, tr = st.transportRequest(out)
		defer tr.end()
		if req.Body != nil && req.Body != http.NoBody {
			// The transport closes a body whose round trip failed; a
			// body none of which was read can still go to another node.
			body = &resendBody{rc: req.Body}
			req.Body = body
		}
	}
	// A request may go again when sending it twice cannot hurt: its
	// method is idempotent or its route says the backend copes; one with
	// a body only when none of it was sent (the connection failed).
	resendable := idempotentMethod(out.Method) || st.route.RetryNonIdempotent()
	replayable := resendable && (out.Body == nil || out.Body == http.NoBody)
	retry := &pool.Retry
	// The node's name goes as Host with pass_host "node", and when the
	// client sent none.
	nodeHost := out.Host == ""
	var triedBuf [4]*upstream.Node
	tried := triedBuf[:0]
	for attempt := 0; ; attempt++ {
		deadline, ok := retry.AttemptDeadline(st.start)
		if !ok {
			return nil, errTotalTimeout
		}
		nc := b.clients.get(node, pool)
		var resp *http.Response
		var err error
		st.call.UpstreamStart(node.Addr)
		if direct {
			out.URL.Host = node.Addr
			if nodeHost {
				out.Host = node.HostHeader
			}
			st.headDeadline = deadline
			resp, err = nc.h1.roundTrip(st, out, node.Addr)
		} else {
			req.URL.Host = node.Addr
			if nodeHost {
				req.Host = node.HostHeader
			}
			resp, err = roundTripBy(nc.tr, req, deadline)
		}
		var again bool
		if err == nil {
			st.call.UpstreamEnd(resp.StatusCode, "")
			pool.Observe(node, resp.StatusCode)
			again = retry.RetriesStatus(resp.StatusCode) && replayable
		} else {
			outcome := outcomeOf(err)
			st.call.UpstreamEnd(0, retryReason(outcome))
			if st.clientGone() {
				return nil, err
			}
			pool.Observe(node, outcome)
			again = outcome == upstream.ConnectFailed && retry.OnConnect && resendable && isDialError(err) && !body.wasRead() ||
				outcome == upstream.Broken && retry.OnConnect && replayable ||
				outcome == upstream.TimedOut && retry.OnTimeout && replayable && !errors.Is(err, errTotalTimeout)
		}
		if !again || attempt >= pool.RetryBudget() {
			return resp, err
		}
		tried = append(tried, node)
		next := pool.PickExcept(&st.ex, tried)
		if next == nil {
			return resp, err
		}
		if err == nil {
			b.obs.UpstreamError(st.route, "status")
			_ = resp.Body.Close()
		} else {
			b.obs.UpstreamError(st.route, retryReason(outcomeOf(err)))
		}
		pool.Failed(node)
		st.node = nil
		if !pool.Begin(next) {
			return nil, upstream.ErrOverloaded
		}
		node, st.node = next, next
	}
}

// resendBody is a request body the transport may close without closing
// it (the server closes the client's body when the handler returns), and
// that tells whether any of it was read.
type resendBody struct {
	rc   io.ReadCloser
	read atomic.Bool
}

func (b *resendBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.rc.Read(p)
}

func (b *resendBody) Close() error { return nil }

// wasRead reports whether the transport read any of the body (nil: there
// is none).
func (b *resendBody) wasRead() bool { return b != nil && b.read.Load() }

// roundTripBy sends req through tr, failing with a timeout when its
// answer's header has not come by deadline (zero: no bound). The body
// that follows is not bounded by it.
func roundTripBy(tr *http.Transport, req *http.Request, deadline time.Time) (*http.Response, error) {
	if deadline.IsZero() {
		return tr.RoundTrip(req)
	}
	ctx, cancel := context.WithCancel(req.Context())
	timer := time.AfterFunc(time.Until(deadline), cancel)
	resp, err := tr.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		// The deadline passed first: whatever came is cut off.
		if err == nil {
			_ = resp.Body.Close()
		}
		return nil, errAttemptTimeout
	}
	if err != nil {
		cancel()
	}
	return resp, err
}

// errNoHealthyNode is an upstream whose nodes are all down (health
// checks): 503 at once.
var errNoHealthyNode = errors.New("no node of the upstream is healthy")

// errTotalTimeout and errAttemptTimeout are a retry policy's timeouts.
var (
	errTotalTimeout   = &timeoutError{"the upstream's retry timeout passed"}
	errAttemptTimeout = &timeoutError{"the upstream did not answer within the retry policy's per-try timeout"}
)

type timeoutError struct{ msg string }

func (e *timeoutError) Error() string   { return e.msg }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// outcomeOf is how a failed attempt counts for the node's passive check.
func outcomeOf(err error) int {
	switch {
	case isDialError(err) || upstream.IsTLSError(err):
		return upstream.ConnectFailed
	case isTimeout(err):
		return upstream.TimedOut
	}
	return upstream.Broken
}

func retryReason(outcome int) string {
	if outcome == upstream.TimedOut {
		return "timeout"
	}
	return "connect"
}

func idempotentMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// transportRequest is out as http.Transport gets it: its own copy, which
// the transport's goroutines may still read after the handler returned,
// carrying the client's context (its departure cancels the call) and a
// trace that passes 1xx answers on.
func (st *state) transportRequest(out *http.Request) (*http.Request, *trace1xx) {
	tr := &trace1xx{w: st.w}
	tr.ct.Got1xxResponse = tr.got1xx
	req := out.WithContext(httptrace.WithClientTrace(st.r.Context(), &tr.ct))
	u := *out.URL
	req.URL = &u
	req.Header = out.Header.Clone()
	return req, tr
}

// trace1xx passes informational answers on until the round trip returned.
type trace1xx struct {
	mu   sync.Mutex
	done bool
	w    http.ResponseWriter
	ct   httptrace.ClientTrace
}

func (t *trace1xx) got1xx(code int, header textproto.MIMEHeader) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil
	}
	h := t.w.Header()
	var added [8]string
	keys := added[:0]
	for k, vv := range header {
		if _, ok := h[k]; ok || k == "X-Request-Id" {
			continue
		}
		h[k] = vv
		keys = append(keys, k)
	}
	t.w.WriteHeader(code)
	for _, k := range keys {
		delete(h, k)
	}
	return nil
}

func (t *trace1xx) end() {
	t.mu.Lock()
	t.done = true
	t.mu.Unlock()
}

// nodeClient is the clients of one node: the engine's HTTP/1.1 client for
// plain requests, http.Transport for the others.
type nodeClient struct {
	h1 *h1Pool
	tr *http.Transport
}

// clients holds one client per (scheme, node, timeouts), shared by every
// table that uses the node, so keep-alive connections survive publishes.
type clients struct {
	m sync.Map // Node.Key → *nodeClient
}

func (c *clients) get(n *upstream.Node, pool *upstream.Pool) *nodeClient {
	if v, ok := n.Clients[upstream.ClientNetHTTP].Load().(*nodeClient); ok {
		return v
	}
	v, ok := c.m.Load(n.Key)
	if !ok {
		v, _ = c.m.LoadOrStore(n.Key, newNodeClient(pool, n))
	}
	n.Clients[upstream.ClientNetHTTP].Store(v)
	return v.(*nodeClient)
}

func (c *clients) closeIdle() {
	c.m.Range(func(_, v any) bool {
		nc := v.(*nodeClient)
		nc.h1.closeIdle()
		nc.tr.CloseIdleConnections()
		return true
	})
}

// maxIdlePerNode bounds the idle connections kept per node; how long they
// are kept is the upstream's connections.idle_timeout.
const maxIdlePerNode = 1024

// newNodeClient is tuned for a gateway: many idle keep-alive connections
// per node, no proxy, no compression (bodies pass as they are), HTTP/1.1 to
// backends, and the call timeouts of the upstream.
func newNodeClient(pool *upstream.Pool, n *upstream.Node) *nodeClient {
	t := pool.Timeouts
	dialer := &net.Dialer{Timeout: t.Connect, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &deadlineConn{Conn: c, send: t.Send, read: t.Read}, nil
	}
	nc := &nodeClient{
		h1: &h1Pool{dial: dial, maxIdle: maxIdlePerNode, idleTimeout: t.Idle},
		tr: &http.Transport{
			Proxy:                 nil,
			DialContext:           dial,
			MaxIdleConnsPerHost:   maxIdlePerNode,
			IdleConnTimeout:       t.Idle,
			TLSHandshakeTimeout:   t.Connect,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true,
			WriteBufferSize:       16 << 10,
			ReadBufferSize:        16 << 10,
			TLSClientConfig:       pool.ClientTLS(n),
		},
	}
	if pool.GRPC() {
		// gRPC is HTTP/2 only: over TLS (ALPN h2) for grpcs, with prior
		// knowledge for grpc.
		var p http.Protocols
		if pool.Scheme == "grpcs" {
			p.SetHTTP2(true)
		} else {
			p.SetUnencryptedHTTP2(true)
		}
		nc.tr.Protocols = &p
	}
	return nc
}

// deadlineConn bounds the time between two successive reads or writes (as
// nginx's proxy_read_timeout and proxy_send_timeout), not a whole stream. A
// write also moves the read deadline, so the wait for an answer starts when
// the request went out, not when the idle connection began reading.
//
// Setting a deadline on every operation costs about 5% of a proxied
// request, so a deadline is only moved once an eighth of its timeout has
// passed since it was set: every operation still gets at least 7/8 of the
// timeout.
type deadlineConn struct {
	net.Conn
	send, read time.Duration
	readSet    atomic.Int64 // unix nanos when the read deadline was last moved
	writeSet   atomic.Int64 // only the transport's write loop writes
	// held keeps a fixed read deadline (holdRead) from being moved.
	held atomic.Bool
}

// holdRead fixes the read deadline at d until releaseRead: an answer's
// header must come by then, however the reads go.
func (c *deadlineConn) holdRead(d time.Time) {
	c.held.Store(true)
	_ = c.Conn.SetReadDeadline(d)
}

// releaseRead lets reads move the deadline again, from the next one on.
func (c *deadlineConn) releaseRead() {
	c.held.Store(false)
	c.readSet.Store(0)
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	c.moveRead(time.Now().UnixNano())
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	now := time.Now().UnixNano()
	if now-c.writeSet.Load() > int64(c.send)/8 {
		c.writeSet.Store(now)
		_ = c.Conn.SetWriteDeadline(time.Unix(0, now).Add(c.send))
	}
	c.moveRead(now)
	return c.Conn.Write(p)
}

// moveRead is called from the read and the write loop; a lost race only
// moves the deadline twice.
func (c *deadlineConn) moveRead(now int64) {
	if now-c.readSet.Load() > int64(c.read)/8 && !c.held.Load() {
		c.readSet.Store(now)
		_ = c.Conn.SetReadDeadline(time.Unix(0, now).Add(c.read))
	}
}
