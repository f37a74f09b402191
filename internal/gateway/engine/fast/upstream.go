package fast

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/upstream"
)

// connPool is a node's keep-alive pool as the round trip uses it: a
// fasthttp.HostClient's own pool, behind an interface because fasthttp
// does not export its connection type.
type connPool interface {
	acquire() (cc any, conn net.Conn, err error)
	release(cc any) // back to the pool
	discard(cc any) // closed
}

type hostPool[C interface{ Conn() net.Conn }] struct {
	acq      func(time.Duration, bool) (C, error)
	rel, cls func(C)
}

// newHostPool infers fasthttp's connection type from AcquireConn.
func newHostPool[C interface{ Conn() net.Conn }](acq func(time.Duration, bool) (C, error), rel, cls func(C)) *hostPool[C] {
	return &hostPool[C]{acq: acq, rel: rel, cls: cls}
}

func (p *hostPool[C]) acquire() (any, net.Conn, error) {
	cc, err := p.acq(0, false)
	if err != nil {
		return nil, nil, err
	}
	return cc, cc.Conn(), nil
}

func (p *hostPool[C]) release(cc any) { p.rel(cc.(C)) }
func (p *hostPool[C]) discard(cc any) { p.cls(cc.(C)) }

// nodeClient is the keep-alive client of one upstream node.
type nodeClient struct {
	hc   *fasthttp.HostClient
	pool connPool
}

// clients holds one client per (scheme, node, timeouts), shared by every
// table that uses the node, so keep-alive connections survive publishes.
type clients struct {
	m sync.Map // Node.Key → *nodeClient
}

func (c *clients) get(n *upstream.Node, pool *upstream.Pool) *nodeClient {
	if v, ok := n.Clients[upstream.ClientFast].Load().(*nodeClient); ok {
		return v
	}
	v, ok := c.m.Load(n.Key)
	if !ok {
		v, _ = c.m.LoadOrStore(n.Key, newNodeClient(n, pool))
	}
	n.Clients[upstream.ClientFast].Store(v)
	return v.(*nodeClient)
}

func (c *clients) closeIdle() {
	c.m.Range(func(_, v any) bool {
		v.(*nodeClient).hc.CloseIdleConnections()
		return true
	})
}

// newNodeClient is tuned for a gateway: many keep-alive connections, no
// header rewriting, bodies passed as they are, the upstream's timeouts.
func newNodeClient(n *upstream.Node, pool *upstream.Pool) *nodeClient {
	t := pool.Timeouts
	dialer := &net.Dialer{Timeout: t.Connect, KeepAlive: 30 * time.Second}
	hc := &fasthttp.HostClient{
		Addr: n.Addr,
		DialTimeout: func(addr string, _ time.Duration) (net.Conn, error) {
			c, err := dialer.Dial("tcp", addr)
			if err != nil {
				return nil, &dialError{err}
			}
			return &upConn{Conn: c, send: t.Send, read: t.Read}, nil
		},
		MaxConns:                      1 << 20,
		MaxIdleConnDuration:           t.Idle,
		ReadBufferSize:                16 << 10,
		WriteBufferSize:               16 << 10,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: false,
		DisablePathNormalizing:        true,
	}
	if pool.URLScheme() == "https" {
		hc.IsTLS = true
		hc.TLSConfig = pool.ClientTLS(n)
	}
	return &nodeClient{hc: hc, pool: newHostPool(hc.AcquireConn, hc.ReleaseConn, hc.CloseConn)}
}

// dialError marks a failure to connect: safe to retry on another node.
type dialError struct{ err error }

func (e *dialError) Error() string { return "connect to upstream: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// upConn bounds the time between two successive reads or writes on an
// upstream connection (nginx's proxy_read_timeout and proxy_send_timeout),
// not a whole stream. A write also moves the read deadline, so the wait for
// an answer starts when the request went out.
//
// Moving a deadline costs; it is only moved once an eighth of its timeout
// has passed since it was set, so every operation still gets at least 7/8
// of the timeout.
type upConn struct {
	net.Conn
	send, read time.Duration
	readSet    atomic.Int64 // engine.Monotonic when the read deadline was last moved
	writeSet   int64
	used       bool  // a round trip completed on it: it came from the pool
	lastUsed   int64 // unix nanos of the start of the last request on it
	// held keeps a fixed read deadline (holdRead) from being moved.
	held atomic.Bool
}

// holdRead fixes the read deadline at d until releaseRead: an answer's
// header must come by then, however the reads go.
func (c *upConn) holdRead(d time.Time) {
	c.held.Store(true)
	_ = c.Conn.SetReadDeadline(d)
}

// releaseRead lets reads move the deadline again, from the next one on.
func (c *upConn) releaseRead() {
	c.held.Store(false)
	c.readSet.Store(0)
}

func (c *upConn) Read(p []byte) (int, error) {
	c.moveRead(engine.Monotonic())
	return c.Conn.Read(p)
}

func (c *upConn) Write(p []byte) (int, error) {
	now := engine.Monotonic()
	if now-c.writeSet > int64(c.send)/8 {
		c.writeSet = now
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.send))
	}
	c.moveRead(now)
	return c.Conn.Write(p)
}

func (c *upConn) moveRead(now int64) {
	if now-c.readSet.Load() > int64(c.read)/8 && !c.held.Load() {
		c.readSet.Store(now)
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.read))
	}
}

// asUpConn finds the upConn under a (possibly TLS) connection.
func asUpConn(c net.Conn) *upConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	uc, _ := c.(*upConn)
	return uc
}

// errNoNode is a pool with no node to send to: 503, not 502, because
// nothing failed.
var errNoNode = errors.New("upstream has no available node")

func isDialError(err error) bool {
	var de *dialError
	return errors.As(err, &de)
}

func isTimeout(err error) bool {
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isSmallBuffer(err error) bool {
	var sb *fasthttp.ErrSmallBuffer
	return errors.As(err, &sb)
}
