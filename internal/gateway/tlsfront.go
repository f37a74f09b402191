package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// tlsFront is the gateway's TLS listener: it accepts, completes each
// handshake on its own goroutine (a slow client holds up no other), and
// hands the connection on by the protocol ALPN chose: "h2" to the net/http
// engine, which speaks HTTP/2, HTTP/1.1 to the gateway's engine. Both run
// the same table, routes and plugins.
type tlsFront struct {
	ln        net.Listener
	cfg       *tls.Config
	h1, h2    *connQueue
	handshake time.Duration // bound of one handshake
	log       *slog.Logger
}

func newTLSFront(ln net.Listener, cfg *tls.Config, handshake time.Duration, log *slog.Logger) *tlsFront {
	return &tlsFront{ln: ln, cfg: cfg, h1: newConnQueue(ln.Addr()), h2: newConnQueue(ln.Addr()), handshake: handshake, log: log}
}

// run accepts until the listener is closed; ctx ends the handshakes under
// way (at shutdown). The queues are closed by the servers reading them,
// when they shut down: one closed under a server still serving would end
// it with an error.
func (f *tlsFront) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	acceptLoop(f.ln, f.log, func(c net.Conn) { wg.Go(func() { f.hand(ctx, c) }) })
}

// acceptLoop accepts until ln is closed, handing each connection to take.
// Other errors (out of file descriptors) are retried after a pause that
// grows to a second, as net/http does, rather than leave the address
// unserved.
func acceptLoop(ln net.Listener, log *slog.Logger, take func(net.Conn)) {
	var pause time.Duration
	for {
		c, err := ln.Accept()
		if err == nil {
			pause = 0
			take(c)
			continue
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
		pause = min(max(2*pause, 5*time.Millisecond), time.Second)
		log.Warn("accepting a connection failed; retrying", "addr", ln.Addr().String(), "err", err, "pause", pause)
		time.Sleep(pause)
	}
}

func (f *tlsFront) hand(ctx context.Context, c net.Conn) {
	tc := tls.Server(c, f.cfg)
	ctx, cancel := context.WithTimeout(ctx, f.handshake)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		f.log.Debug("TLS handshake failed", "client", c.RemoteAddr().String(), "err", err)
		_ = c.Close()
		return
	}
	q := f.h1
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		q = f.h2
	}
	if !q.push(tc) {
		_ = tc.Close()
	}
}

// connQueue is a net.Listener whose connections are handed to it.
type connQueue struct {
	addr   net.Addr
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// push hands c to Accept; false once the queue is closed.
func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.conns <- c:
		return true
	case <-q.closed:
		return false
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.closed:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.closed) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }
