package streamproxy

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// recordTypeHandshake starts every TLS connection's first record.
const recordTypeHandshake = 0x16

// errHelloRead stops crypto/tls once it has parsed the ClientHello.
var errHelloRead = errors.New("client hello read")

// readHello reads a connection's first bytes and, when they are a TLS
// ClientHello, the server name it asks for. crypto/tls parses the hello
// (a server handshake stopped as soon as the hello is known), so what is
// accepted is exactly what a TLS server accepts. head is every byte read,
// to be replayed to whoever takes the connection: a plain client's first
// byte, a TLS client's hello (and whatever followed it in the same read),
// or what arrived before the deadline of a client too slow to finish one.
func readHello(c net.Conn) (sni string, head []byte) {
	first := make([]byte, 1)
	if _, err := io.ReadFull(c, first); err != nil {
		return "", nil
	}
	if first[0] != recordTypeHandshake {
		return "", first
	}
	rec := &recorder{r: io.MultiReader(bytes.NewReader(first), c)}
	srv := tls.Server(readOnlyConn{Conn: c, r: rec}, &tls.Config{
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			sni = hello.ServerName
			return nil, errHelloRead
		},
	})
	_ = srv.Handshake()
	return sni, rec.buf.Bytes()
}

// recorder keeps every byte read through it.
type recorder struct {
	r   io.Reader
	buf bytes.Buffer
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.buf.Write(p[:n])
	return n, err
}

// readOnlyConn lets crypto/tls read a hello and never write: the alert it
// would send on stopping is dropped, the client hears nothing.
type readOnlyConn struct {
	net.Conn
	r io.Reader
}

func (c readOnlyConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c readOnlyConn) Write(p []byte) (int, error) { return len(p), nil }
func (c readOnlyConn) Close() error                { return nil }

// replayConn gives the bytes read to pick a route back before the rest.
type replayConn struct {
	net.Conn
	head []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.head) > 0 {
		n := copy(p, c.head)
		c.head = c.head[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite passes a half-close on to the connection underneath.
func (c *replayConn) CloseWrite() error { return closeWrite(c.Conn) }

func closeWrite(c net.Conn) error {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Close()
}

// bufSize is the relay's buffer per direction.
const bufSize = 32 << 10

var buffers = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// linger is how long a client may go on sending once the upstream has
// finished: its answer is out (and the client told so), the client is
// expected to close; after that it is closed regardless.
const linger = 2 * time.Second

// session is what the two directions of a relayed connection share.
type session struct {
	idle       time.Duration
	client, up net.Conn
	last       atomic.Int64 // when a byte last moved either way (Unix ns)
	mu         sync.Mutex
	watchdog   *time.Timer
}

// relay copies both ways until both are done, either side fails, or
// nothing moved either way for idle. A client that finishes sending (EOF)
// is passed on as a half-close and its answer still comes back, so
// request-then-close protocols work; an upstream that finishes ends the
// connection, as nginx's stream proxy does, once the client has heard
// the end and closed (or linger passed).
//
// Idleness is watched by one timer per connection, not by a deadline
// moved at every read and write: a busy connection then costs no timer
// work per message, and the timer fires a few times per idle period.
func relay(client, up net.Conn, idle time.Duration) (fromClient, toClient int64) {
	s := &session{idle: idle, client: client, up: up}
	s.last.Store(time.Now().UnixNano())
	s.mu.Lock()
	s.watchdog = time.AfterFunc(idle, s.watch)
	s.mu.Unlock()
	done := make(chan int64, 1)
	go func() { done <- s.pipe(up, client, false) }()
	toClient = s.pipe(client, up, true)
	fromClient = <-done
	s.mu.Lock()
	s.watchdog.Stop()
	s.mu.Unlock()
	return fromClient, toClient
}

// watch ends a connection idle for the whole period, or looks again when
// the period since the last byte is over.
func (s *session) watch() {
	quiet := time.Since(time.Unix(0, s.last.Load()))
	if quiet >= s.idle {
		abort(s.client, s.up)
		return
	}
	s.mu.Lock()
	s.watchdog.Reset(s.idle - quiet)
	s.mu.Unlock()
}

// pipe copies src to dst; anything but EOF ends both directions.
func (s *session) pipe(dst, src net.Conn, fromUpstream bool) int64 {
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	buf := *bp
	var total int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			s.last.Store(time.Now().UnixNano())
			if _, werr := dst.Write(buf[:n]); werr != nil {
				abort(dst, src)
				return total
			}
			total += int64(n)
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			_ = closeWrite(dst)
			if fromUpstream {
				_ = dst.SetReadDeadline(time.Now().Add(linger)) // the client's read, under way
			}
			return total
		default: // failed, closed by the other side or the watchdog, or linger passed
			abort(dst, src)
			return total
		}
	}
}

// abort ends both directions: the other pipe's read or write fails at once.
func abort(a, b net.Conn) {
	_ = a.Close()
	_ = b.Close()
}
