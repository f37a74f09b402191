package fast

import (
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Idle connection parking.
//
// fasthttp serves a connection on one goroutine for its whole life, and a
// goroutine that has served a request keeps the stack it grew (tens of KB
// with the plugin chain and the upstream round trip on it) while it waits
// for the next request. Held by thousands of idle keep-alive clients that
// was ~21 KB of memory per connection, where nginx needs under 1 KB.
//
// So a keep-alive connection that stays idle for a second is parked: its
// serving goroutine ends, along with fasthttp's per-connection state (which
// goes back to fasthttp's pools), and a new goroutine, which never grows
// past the minimum stack, waits in the runtime's netpoller for the
// connection to become readable, for the rest of the idle timeout. When
// the next request arrives, that goroutine hands the connection back to
// fasthttp (Server.ServeConn), which serves it as it serves a new one.
//
// Parking must never lose bytes fasthttp has read, so a connection is
// parked only at the one point where fasthttp holds none: its wait for
// the first byte of the next request. That point is recognised from the
// calls fasthttp makes on the connection, in order: the idle read
// deadline is set, the read that follows ends on that deadline having read
// nothing, and the connection is closed without anything written. fasthttp
// answers every other read error (a header or a body cut short) before it
// closes, which rules them out; connections handed to a hijack handler
// (upgrades, tunnels, lingering closes) are marked and never parked.
//
// TLS connections park the same way: fasthttp reads and writes them
// through their TLS face (parkingTLSConn), and a parked one keeps its
// session (the *tls.Conn: keys, sequence numbers, and at most a record
// cut short) while the parked set watches the socket under it. A read
// that ends on its deadline leaves a TLS session usable (a timeout is
// not a fatal error there), and a session has no whole record waiting
// when that read found nothing, so no bytes are lost either.

// defaultParkAfter is how long a keep-alive connection waits for its next
// request on its serving goroutine before it is parked.
const defaultParkAfter = time.Second

// connState is where a parkingConn is in the sequence that leads to a park.
type connState = int32

const (
	connActive      connState = iota // no park-relevant call since the last read or write
	connArmed                        // a read deadline was just set
	connIdleExpired                  // the read after it ended on the deadline with nothing read
	connParked                       // waiting for readability off fasthttp
	connHijacked                     // a hijack handler owns it: never parked
	connClosed
)

// parkingConn is a client TCP connection that can be parked.
type parkingConn struct {
	*net.TCPConn // the socket: what is parked, and its deadlines
	// stream is what requests are read from and answers written to: the
	// socket itself, or the TLS session over it.
	stream net.Conn
	// face is what fasthttp is handed: the connection itself, or its TLS
	// face, which fasthttp recognises as TLS.
	face  net.Conn
	s     *Server
	state atomic.Int32
	park  parkedLinks
	// readDeadline is a read deadline asked for and not yet given to the
	// socket, when pendingRead is set (see SetReadDeadline).
	readDeadline time.Time
	pendingRead  atomic.Bool
	// writeDeadline is the socket's write deadline (see SetWriteDeadline).
	writeDeadline time.Time
	// client is the peer's address, read once at accept: every request
	// needs it, and reading it from the socket's address each time touches
	// memory that many connections no longer keep in the caches.
	client netip.Addr
}

func (c *parkingConn) Read(p []byte) (int, error) {
	if c.pendingRead.Load() {
		c.pendingRead.Store(false)
		if err := c.TCPConn.SetReadDeadline(c.readDeadline); err != nil {
			return 0, err
		}
	}
	n, err := c.stream.Read(p)
	switch st := c.state.Load(); st {
	case connArmed:
		if n == 0 && errors.Is(err, os.ErrDeadlineExceeded) {
			c.state.CompareAndSwap(st, connIdleExpired)
		} else {
			c.state.CompareAndSwap(st, connActive)
		}
	case connIdleExpired:
		c.state.CompareAndSwap(st, connActive)
	}
	return n, err
}

func (c *parkingConn) Write(p []byte) (int, error) {
	c.wrote()
	return c.stream.Write(p)
}

// wrote clears an armed or expired state: an answer means the connection
// is not at a request boundary.
func (c *parkingConn) wrote() {
	if st := c.state.Load(); st == connArmed || st == connIdleExpired {
		c.state.CompareAndSwap(st, connActive)
	}
}

// SetReadDeadline keeps the deadline for the next Read:
// fasthttp moves the read deadline twice a request, to the idle timeout
// before it waits for a request and to the header timeout once one
// starts, and the second is never waited on when the request came whole.
// Moving a socket's deadline costs a runtime timer update; this way a
// request pays for one. A hijacked connection's deadline applies at once:
// it may be meant to end a Read waiting in another goroutine.
func (c *parkingConn) SetReadDeadline(t time.Time) error {
	switch st := c.state.Load(); st {
	case connActive, connIdleExpired:
		c.state.CompareAndSwap(st, connArmed)
	case connHijacked, connClosed:
		c.pendingRead.Store(false)
		return c.TCPConn.SetReadDeadline(t)
	}
	c.readDeadline = t
	c.pendingRead.Store(true)
	return nil
}

// SetWriteDeadline leaves the socket's deadline where it is when the new
// one is later by less than an eighth of the send timeout: fasthttp moves
// it before every answer, and each write still gets at least 7/8 of the
// timeout, as on upstream connections. A hijacked connection's applies
// as asked.
func (c *parkingConn) SetWriteDeadline(t time.Time) error {
	if st := c.state.Load(); st == connHijacked || st == connClosed {
		return c.TCPConn.SetWriteDeadline(t)
	}
	if slack := c.s.cfg.SendTimeout / 8; slack > 0 && !t.IsZero() && !c.writeDeadline.IsZero() &&
		!t.Before(c.writeDeadline) && t.Sub(c.writeDeadline) < slack {
		return nil
	}
	c.writeDeadline = t
	return c.TCPConn.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines at once, replacing a pending read one.
func (c *parkingConn) SetDeadline(t time.Time) error {
	c.pendingRead.Store(false)
	if st := c.state.Load(); st != connHijacked && st != connClosed {
		c.writeDeadline = t
	}
	return c.TCPConn.SetDeadline(t)
}

// Close parks the connection when fasthttp closes it at the end of its
// idle wait; otherwise it closes it.
func (c *parkingConn) Close() error {
	if c.state.CompareAndSwap(connIdleExpired, connParked) {
		if rest := c.s.cfg.IdleTimeout - c.s.parkAfter; rest > 0 && !c.s.closing.Load() {
			c.s.release.ends.Add(1)
			if c.s.parked.add(c, rest) != nil {
				go c.s.waitParked(c, rest)
			}
			return nil
		}
	}
	return c.closeNow()
}

func (c *parkingConn) closeNow() error {
	if c.state.Swap(connClosed) != connClosed {
		c.s.release.ends.Add(1)
	}
	c.s.parked.remove(c)
	c.s.conns.remove(c)
	return c.stream.Close()
}

// markHijacked keeps a connection a hijack handler is about to own from
// ever being parked.
func markHijacked(c net.Conn) {
	if pc := parkingOf(c); pc != nil {
		pc.state.Store(connHijacked)
	}
}

// parkingOf is the parkingConn behind what fasthttp was handed, nil for a
// connection that cannot park.
func parkingOf(c net.Conn) *parkingConn {
	switch c := c.(type) {
	case *parkingConn:
		return c
	case *parkingTLSConn:
		return c.pc
	}
	return nil
}

// parkingTLSConn is the face fasthttp sees of a TLS connection that can
// park: the *tls.Conn's methods (ConnectionState tells fasthttp it is
// TLS), with reads, writes, deadlines and Close going through the
// parkingConn, which reads and writes the session.
type parkingTLSConn struct {
	*tls.Conn
	pc *parkingConn
}

func (t *parkingTLSConn) Read(p []byte) (int, error)         { return t.pc.Read(p) }
func (t *parkingTLSConn) Write(p []byte) (int, error)        { return t.pc.Write(p) }
func (t *parkingTLSConn) SetReadDeadline(d time.Time) error  { return t.pc.SetReadDeadline(d) }
func (t *parkingTLSConn) SetWriteDeadline(d time.Time) error { return t.pc.SetWriteDeadline(d) }
func (t *parkingTLSConn) SetDeadline(d time.Time) error      { return t.pc.SetDeadline(d) }
func (t *parkingTLSConn) Close() error                       { return t.pc.Close() }

// newParkingConn wraps an accepted connection so it can park: a TCP
// connection, or a TLS session over one whose handshake is done (the TLS
// front completes it before handing the connection on). Anything else
// cannot (nil).
func newParkingConn(c net.Conn, s *Server) *parkingConn {
	switch c := c.(type) {
	case *net.TCPConn:
		pc := &parkingConn{TCPConn: c, stream: c, s: s, client: peerAddr(c)}
		pc.face = pc
		return pc
	case *tls.Conn:
		raw, ok := c.NetConn().(*net.TCPConn)
		if !ok {
			return nil
		}
		pc := &parkingConn{TCPConn: raw, stream: c, s: s, client: peerAddr(raw)}
		pc.face = &parkingTLSConn{Conn: c, pc: pc}
		return pc
	}
	return nil
}

// hijack hands the client connection to h once the handler returns (see
// fasthttp's RequestCtx.Hijack), marked so it is never parked.
func hijack(ctx *fasthttp.RequestCtx, h fasthttp.HijackHandler) {
	markHijacked(ctx.Conn())
	ctx.Hijack(h)
}

// waitParked is the parking of a platform without the parked set: a
// goroutine of its own, with the minimum stack, waits for c to become
// readable within rest, then serves it again.
func (s *Server) waitParked(c *parkingConn, rest time.Duration) {
	if c.TCPConn.SetReadDeadline(time.Now().Add(rest)) != nil || waitReadable(c.TCPConn) != nil {
		_ = c.closeNow()
		return
	}
	s.resume(c)
}

// resume serves a parked connection that has become readable; one that
// was closed meanwhile, or outlives a shutdown, is closed.
func (s *Server) resume(c *parkingConn) {
	if s.closing.Load() || !c.state.CompareAndSwap(connParked, connActive) {
		_ = c.closeNow() // closed meanwhile
		return
	}
	c.pendingRead.Store(false) // the parked wait set the socket's own
	if s.srv.ReadTimeout <= 0 {
		// fasthttp sets no deadline of its own for a first request then.
		_ = c.TCPConn.SetReadDeadline(noDeadline)
	}
	// ServeConn closes c, which parks it again after the next idle wait.
	_ = s.srv.ServeConn(c.face)
}

// memoryRelease gives back what a wave of parked or closed connections
// left behind. Their serving goroutines' stacks, fasthttp's per-connection
// buffers and contexts are garbage once they park or close, but a process
// that has gone quiet allocates nothing, so no garbage collection runs to
// reclaim them (the runtime forces one only every two minutes) and the
// resident memory stays at its peak. Once a wave of at least releaseAfter
// parks and closes is followed by a quiet period, two collections run
// (fasthttp's pools keep an object through one) and the free memory goes
// back to the kernel.
type memoryRelease struct {
	ends    atomic.Int64 // connections parked or closed since the last tick
	pending int64
	last    time.Time // of the last release
}

const (
	releaseAfter = 256
	// releaseTick is how often parks and closes are counted; a tick
	// without any after a wave releases.
	releaseTick = 2 * time.Second
	// releaseEvery bounds how often memory is released: each release
	// collects twice and returns every free page, so waves of
	// connections in quick succession share one.
	releaseEvery = 10 * time.Second
	// idleWorkerLife is how long fasthttp keeps an idle serving goroutine
	// (with the stack it grew) for the next connection; shorter than
	// releaseTick, so a wave's goroutines are gone by its release.
	idleWorkerLife = time.Second
)

func (r *memoryRelease) tick(now time.Time) {
	n := r.ends.Swap(0)
	if n > 0 {
		r.pending += n
		return
	}
	if r.pending < releaseAfter {
		r.pending = 0
		return
	}
	if now.Sub(r.last) < releaseEvery {
		return // kept pending for a later quiet tick
	}
	runtime.GC()
	debug.FreeOSMemory()
	r.pending, r.last = 0, now
}

// parkingListener wraps the connections it accepts, TCP or TLS over TCP,
// so they can be parked (when this platform can wait for readability),
// and tracks them.
type parkingListener struct {
	net.Listener
	s *Server
}

func (l parkingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if !canPark {
		return c, nil
	}
	if pc := newParkingConn(c, l.s); pc != nil {
		l.s.conns.add(pc)
		return pc.face, nil
	}
	return c, nil // tracked through fasthttp's ConnState
}

// openConns tracks client connections, parked ones included, so Close
// can end them (fasthttp's shutdown only waits for active ones).
type openConns struct {
	mu sync.Mutex
	m  map[net.Conn]struct{}
}

func (o *openConns) add(c net.Conn) {
	o.mu.Lock()
	if o.m == nil {
		o.m = map[net.Conn]struct{}{}
	}
	o.m[c] = struct{}{}
	o.mu.Unlock()
}

func (o *openConns) remove(c net.Conn) {
	o.mu.Lock()
	delete(o.m, c)
	o.mu.Unlock()
}

// track is fasthttp's ConnState hook: parkingConns track themselves (a
// parked connection is closed as far as fasthttp knows); every hijacked
// connection leaves, the tunnels track those.
func (o *openConns) track(c net.Conn, state fasthttp.ConnState) {
	pc := parkingOf(c)
	parkable := pc != nil
	switch state {
	case fasthttp.StateNew:
		if !parkable {
			o.add(c)
		}
	case fasthttp.StateClosed:
		if !parkable {
			o.remove(c)
		}
	case fasthttp.StateHijacked:
		if parkable {
			pc.state.Store(connHijacked)
			o.remove(pc) // tracked as itself, not as its TLS face
			return
		}
		o.remove(c)
	}
}

// closeParked closes the parked connections: idle ones, at a shutdown.
func (o *openConns) closeParked() {
	for _, c := range o.list() {
		if pc, ok := c.(*parkingConn); ok && pc.state.Load() == connParked {
			_ = pc.closeNow()
		}
	}
}

func (o *openConns) list() []net.Conn {
	o.mu.Lock()
	defer o.mu.Unlock()
	list := make([]net.Conn, 0, len(o.m))
	for c := range o.m {
		list = append(list, c)
	}
	return list
}

// closeAll closes every tracked connection, parked ones too.
func (o *openConns) closeAll() {
	for _, c := range o.list() {
		if pc, ok := c.(*parkingConn); ok {
			_ = pc.closeNow()
			continue
		}
		_ = c.Close()
	}
}
