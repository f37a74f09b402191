package gateway

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// h2cPreface is how an HTTP/2 client without TLS (h2c, "prior
// knowledge", as gRPC clients do) opens a connection.
const h2cPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// h2cFront splits the plain listener (with --gateway-h2c): a connection
// that opens with the HTTP/2 preface goes to the net/http engine, which
// speaks h2c; any other to the gateway's engine. It reads only until the
// first byte that differs from the preface (an HTTP/1.1 request differs at
// its first or second byte), on the connection's own goroutine, bounded by
// the head timeout.
type h2cFront struct {
	ln       net.Listener
	h1, h2   *connQueue
	deadline time.Duration
	log      *slog.Logger
}

func newH2CFront(ln net.Listener, deadline time.Duration, log *slog.Logger) *h2cFront {
	return &h2cFront{ln: ln, h1: newConnQueue(ln.Addr()), h2: newConnQueue(ln.Addr()), deadline: deadline, log: log}
}

// run accepts until the listener is closed (the queues are closed by
// their servers, as with tlsFront); ctx ends the sorting under way.
func (f *h2cFront) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	acceptLoop(f.ln, f.log, func(c net.Conn) { wg.Go(func() { f.sort(ctx, c) }) })
}

func (f *h2cFront) sort(ctx context.Context, c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(f.deadline))
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Now()) })
	defer stop()
	var buf [len(h2cPreface)]byte
	n := 0
	for n < len(buf) && bytes.Equal(buf[:n], []byte(h2cPreface[:n])) {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil {
			if n == 0 {
				_ = c.Close()
				return
			}
			break
		}
	}
	if !stop() { // shutting down
		_ = c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	q := f.h1
	if n == len(buf) && string(buf[:]) == h2cPreface {
		q = f.h2
	}
	if !q.push(&prefixConn{Conn: c, prefix: buf[:n]}) {
		_ = c.Close()
	}
}

// prefixConn gives back the bytes read to sort a connection before the
// rest of it.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite half-closes the socket, as engines do after refusing a body
// or at the end of an upgraded connection.
func (c *prefixConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// SyscallConn is the socket's, so the fast engine can still check that a
// client is there.
func (c *prefixConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.ErrUnsupported
}
