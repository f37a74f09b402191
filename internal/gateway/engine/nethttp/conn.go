package nethttp

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// sendListener gives every accepted client connection a send timeout.
type sendListener struct {
	net.Listener
	send    time.Duration
	maxHead int // the longest head net/http reads
}

// tlsListener wraps the HTTP/1.1 connections of the TLS listener as
// sendListener does the plain ones, keeping their TLS state; HTTP/2 ones
// pass as they are.
type tlsListener struct{ sendListener }

func (l tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*tls.Conn)
	if !ok {
		return l.wrap(c), nil
	}
	state := tc.ConnectionState()
	if state.NegotiatedProtocol == "h2" {
		return tc, nil
	}
	cc := l.wrap(tc)
	cc.tls = &state
	return cc, nil
}

func (l sendListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.wrap(c), nil
}

func (l sendListener) wrap(c net.Conn) *clientConn {
	cc := &clientConn{Conn: c, send: int64(l.send)}
	cc.sniff.maxHead = l.maxHead
	return cc
}

// requestTLS is the TLS state of r's connection, nil on the plain
// listener: net/http's own for HTTP/2, the wrapper's for HTTP/1.1.
func requestTLS(r *http.Request) *tls.ConnectionState {
	if r.TLS != nil {
		return r.TLS
	}
	if cc, ok := r.Context().Value(clientConnKey{}).(*clientConn); ok {
		return cc.tls
	}
	return nil
}

// clientConn bounds the time between two successive writes to a client
// (nginx send_timeout), not a whole response, so a download that keeps
// moving never times out while one the client stopped reading does.
//
// As for upstream connections (deadlineConn), the deadline is only moved
// once an eighth of the timeout has passed since it was set: every write
// still gets at least 7/8 of the timeout, and a keep-alive connection pays
// about one deadline update per request. net/http clears the write
// deadline after every request; that clear becomes a fresh send deadline,
// so the next response starts under one too.
type clientConn struct {
	net.Conn
	tls  *tls.ConnectionState // of a connection of the TLS listener
	send int64                // nanoseconds
	// writeSet is when the send deadline was last moved (unix nanos), or
	// -1 while a caller's own deadline holds and writes must not move it.
	writeSet atomic.Int64

	// up is the upstream connection of the exchange in flight (h1.go),
	// closed when a read shows the client gone: net/http's background
	// read during a request is what notices a client leaving. gone stays
	// set: a request that starts after it never waits on its backend.
	up   atomic.Pointer[h1Conn]
	gone atomic.Bool

	// sniff checks every request head as it is read (sniff.go); served
	// counts the requests handed to the handler, which are served one
	// after another on the connection's goroutine. Sniffing ends when the
	// connection is hijacked for a protocol switch.
	sniff    headSniffer
	served   int
	hijacked atomic.Bool
}

func (c *clientConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.hijacked.Load() {
		c.sniff.feed(p[:n])
	}
	if err != nil && !isTimeout(err) {
		// Not a timeout: those end net/http's background read when a
		// handler returns, or end a connection no request runs on.
		c.gone.Store(true)
		if u := c.up.Swap(nil); u != nil {
			u.close()
		}
	}
	return n, err
}

type clientConnKey struct{}

// connContext lets a request find its client connection.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if cc, ok := c.(*clientConn); ok {
		return context.WithValue(ctx, clientConnKey{}, cc)
	}
	return ctx
}

// InProcess makes ctx, the context of a request served in-process (a
// composite backend's call, handed to the Handler inside another
// request), hide the client connection of the request it was derived
// from: the call has no connection of its own, and must not take that
// one's (its upstream wait would follow that client, not its own
// context).
func InProcess(ctx context.Context) context.Context {
	return context.WithValue(ctx, clientConnKey{}, nil)
}

// clientConn is the request's client connection when NewServer serves it.
func (st *state) clientConn() *clientConn {
	if !st.ccSet {
		st.cc, _ = st.r.Context().Value(clientConnKey{}).(*clientConn)
		st.ccSet = true
	}
	return st.cc
}

// clientGone reports whether the client has left.
func (st *state) clientGone() bool {
	if st.r.Context().Err() != nil {
		return true
	}
	cc := st.clientConn()
	return cc != nil && cc.gone.Load()
}

func (c *clientConn) Write(p []byte) (int, error) {
	if set := c.writeSet.Load(); set >= 0 {
		if now := time.Now().UnixNano(); now-set > c.send/8 {
			c.writeSet.Store(now)
			_ = c.Conn.SetWriteDeadline(time.Unix(0, now+c.send))
		}
	}
	return c.Conn.Write(p)
}

// SetWriteDeadline keeps an explicit deadline; clearing the deadline
// restores the send timeout.
func (c *clientConn) SetWriteDeadline(t time.Time) error {
	if !t.IsZero() {
		c.writeSet.Store(-1)
		return c.Conn.SetWriteDeadline(t)
	}
	now := time.Now().UnixNano()
	c.writeSet.Store(now)
	return c.Conn.SetWriteDeadline(time.Unix(0, now+c.send))
}

func (c *clientConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// CloseWrite half-closes a TCP connection: net/http sends its last answer
// before closing that way, and an upgraded connection passes on the
// backend's half-close.
func (c *clientConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// refusal says why the request being served must be refused under the
// request policy, or "" (sniff.go).
func (c *clientConn) refusal() string {
	c.served++
	if bad := int(c.sniff.badAt.Load()); bad != 0 && c.served >= bad {
		return c.sniff.reason
	}
	return ""
}
