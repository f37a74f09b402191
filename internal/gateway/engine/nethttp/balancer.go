package nethttp

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/gateway/upstream"
)

// balancer is the proxy's RoundTripper: it picks the node, sends through
// that node's transport and, when a node refuses the connection, retries an
// idempotent request without a body once on another node.
type balancer struct {
	clients *clients
	obs     Observer
	st      *state // the request state this balancer's proxy serves
}

func (b *balancer) RoundTrip(req *http.Request) (*http.Response, error) {
	st := b.st
	pool := st.route.Upstream
	node := pool.Next()
	if node == nil {
		return nil, errNoNode
	}
	var triedBuf [4]*upstream.Node
	tried := triedBuf[:0]
	for attempt := 0; ; attempt++ {
		req.URL.Host = node.Addr
		resp, err := b.clients.get(node, pool).RoundTrip(req)
		if err == nil || attempt >= pool.Retries || !retryable(req, err) {
			return resp, err
		}
		b.obs.UpstreamError(st.route, "connect")
		tried = append(tried, node)
		next := pool.NextExcept(tried...)
		if next == nil {
			return nil, err
		}
		node = next
	}
}

// retryable: only a request that never reached a backend, and that a
// second delivery could not harm.
func retryable(req *http.Request, err error) bool {
	if req.Body != nil && req.Body != http.NoBody {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return isDialError(err)
	}
	return false
}

// clients holds one transport per (scheme, node, timeouts), shared by every
// table that uses the node, so keep-alive connections survive publishes.
type clients struct {
	m sync.Map // Node.Key → *http.Transport
}

func (c *clients) get(n *upstream.Node, pool *upstream.Pool) *http.Transport {
	if v := n.Client.Load(); v != nil {
		return v.(*http.Transport)
	}
	v, ok := c.m.Load(n.Key)
	if !ok {
		v, _ = c.m.LoadOrStore(n.Key, newTransport(pool.Timeouts))
	}
	n.Client.Store(v)
	return v.(*http.Transport)
}

func (c *clients) closeIdle() {
	c.m.Range(func(_, v any) bool {
		v.(*http.Transport).CloseIdleConnections()
		return true
	})
}

// newTransport is tuned for a gateway: many idle keep-alive connections per
// node, no proxy, no compression (bodies pass as they are), HTTP/1.1 to
// backends, and the call timeouts of the upstream.
func newTransport(t upstream.Timeouts) *http.Transport {
	dialer := &net.Dialer{Timeout: t.Connect, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &deadlineConn{Conn: c, send: t.Send, read: t.Read}, nil
		},
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   t.Connect,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		WriteBufferSize:       16 << 10,
		ReadBufferSize:        16 << 10,
	}
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
	if now-c.readSet.Load() > int64(c.read)/8 {
		c.readSet.Store(now)
		_ = c.Conn.SetReadDeadline(time.Unix(0, now).Add(c.read))
	}
}
