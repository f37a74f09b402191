package fast

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/gateway/upstream"
)

// smallBody is the largest answer read whole before it is sent on; larger
// and chunked ones stream.
const smallBody = 64 << 10

// upstreamCall is the state of one request's upstream round trip.
type upstreamCall struct {
	nc       *nodeClient
	cc       any
	conn     net.Conn
	br       *bufio.Reader
	answered bool // the backend's status and headers are in ctx.Response
	sentBody bool // some of the request body went out
}

// proxy sends the request upstream and prepares the answer. It reports
// whether the answer streams, in which case responseBody.Close finishes
// the request.
func (st *state) proxy(h head) (streaming bool) {
	rt := st.route
	pool, canary := rt.Pick(&st.ex)
	st.pool, st.canary = pool, canary
	if pool.GRPC() {
		// This engine speaks HTTP/1.1; gRPC arrives over HTTP/2, which
		// the net/http engine serves.
		st.ex.Reject(http.StatusHTTPVersionNotSupported, "http2_required", "this route's upstream speaks gRPC, which needs HTTP/2")
		return false
	}
	node := pool.Pick(&st.ex)
	if node == nil {
		st.noNode(pool)
		return false
	}
	if !pool.Begin(node) {
		st.overloaded()
		return false
	}
	st.node = node
	st.shapeRequest(h)
	if h.upgrade {
		st.upgrade(node)
		return false
	}
	req := &st.ctx.Request
	if h.chunked {
		if err := st.prefetchChunked(); err != nil {
			if st.reqBody.clientErr != nil {
				st.clientFailed()
			} else {
				st.failed(err)
			}
			return false
		}
	}
	hasBody := req.Header.ContentLength() != -2 && req.Header.ContentLength() != 0
	if hasBody {
		st.reqBody.begin(req.BodyStream(), st.limited, st.bodyLimit)
		req.SetBodyStream(&st.reqBody, req.Header.ContentLength())
	}
	// A request may go again when sending it twice cannot hurt: its
	// method is idempotent or its route says the backend copes. One with
	// a body can only go again when none of it was sent (the connection
	// failed); one without, after any failure the policy retries.
	resendable := idempotent(req.Header.Method()) || rt.RetryNonIdempotent()
	replayable := !hasBody && resendable
	retry := &pool.Retry

	var triedBuf [4]*upstream.Node
	tried := triedBuf[:0]
	staleRetried := false
	for attempt := 0; ; {
		deadline, ok := retry.AttemptDeadline(st.start)
		if !ok {
			st.failed(errTotalTimeout)
			return false
		}
		st.call.UpstreamStart(node.Addr)
		err := st.exchange(node, pool, deadline)
		if err == nil {
			status := st.ctx.Response.Header.StatusCode()
			st.call.UpstreamEnd(status, "")
			pool.Observe(node, status)
			if retry.RetriesStatus(status) && replayable && attempt < pool.RetryBudget() {
				var next *upstream.Node
				if next, tried = st.nextNode(pool, tried, node); next != nil {
					st.obs().UpstreamError(rt, "status")
					st.releaseUpstream(true)
					st.up = upstreamCall{}
					st.ctx.Response.Header.Reset()
					node = next
					attempt++
					continue
				}
			}
			break
		}
		if st.clientGone.Load() || st.reqBody.clientErr != nil {
			st.clientFailed()
			return false
		}
		// A pooled connection the backend had closed: once more on a
		// fresh one, when sending twice cannot hurt or nothing was sent.
		if (errors.Is(err, errStaleUnsent) && !st.reqBody.sent || errors.Is(err, errStale) && replayable) && !staleRetried {
			staleRetried = true
			continue
		}
		outcome := outcomeOf(err)
		st.call.UpstreamEnd(0, retryReason(outcome))
		pool.Observe(node, outcome)
		again := outcome == upstream.ConnectFailed && retry.OnConnect && resendable && !st.reqBody.sent ||
			outcome == upstream.Broken && retry.OnConnect && replayable ||
			outcome == upstream.TimedOut && retry.OnTimeout && replayable && !errors.Is(err, errTotalTimeout)
		if again && attempt < pool.RetryBudget() {
			var next *upstream.Node
			if next, tried = st.nextNode(pool, tried, node); next != nil {
				st.obs().UpstreamError(rt, retryReason(outcome))
				node = next
				attempt++
				continue
			}
		}
		st.failed(err)
		return false
	}
	return st.answer(h)
}

// nextNode moves the request from node, which failed, to another node of
// pool (nil: none is left); tried gains node.
func (st *state) nextNode(pool *upstream.Pool, tried []*upstream.Node, node *upstream.Node) (*upstream.Node, []*upstream.Node) {
	tried = append(tried, node)
	next := pool.PickExcept(&st.ex, tried)
	if next != nil {
		pool.Failed(node)
		st.node = nil
		if !pool.Begin(next) {
			return nil, tried // the failure of node stands
		}
		st.node = next
	}
	return next, tried
}

func (st *state) obs() engine.Observer { return st.s.cfg.Observer }

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

// errTotalTimeout is a request whose retry policy's timeout passed.
var errTotalTimeout = &timeoutError{"the upstream's retry timeout passed"}

type timeoutError struct{ msg string }

func (e *timeoutError) Error() string   { return e.msg }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

func idempotent(m []byte) bool {
	switch string(m) {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// errStale is a pooled connection that failed before any answer came;
// errStaleUnsent one that failed while the request was written, before
// any of the client's body was read: the backend cannot have acted on it,
// so it is sent again whatever its method.
var (
	errStale       = errors.New("pooled upstream connection was closed")
	errStaleUnsent = fmt.Errorf("%w before the request was sent", errStale)
)

// checkIdleAfter: a pooled connection idle longer is checked before an
// idempotent request is sent on it (a request that cannot be sent twice
// always checks). Under load connections come back within milliseconds;
// a backend that closes idle ones does so after seconds.
const checkIdleAfter = int64(time.Second)

// acquire takes a connection to nc's node: a pooled one that the backend
// has not closed meanwhile (idleUsable), or a new one.
func (st *state) acquire(nc *nodeClient) (cc any, conn net.Conn, uc *upConn, err error) {
	mustCheck := !idempotent(st.ctx.Request.Header.Method())
	for tries := 0; ; tries++ {
		cc, conn, err = nc.pool.acquire()
		if err != nil {
			if !isDialError(err) && !isTimeout(err) {
				err = &dialError{err}
			}
			return nil, nil, nil, err
		}
		uc = asUpConn(conn)
		if uc == nil || !uc.used || tries == 8 ||
			!mustCheck && st.start.UnixNano()-uc.lastUsed < checkIdleAfter || idleUsable(uc.Conn) {
			return cc, conn, uc, nil
		}
		nc.pool.discard(cc)
	}
}

// exchange writes the request to node and reads the answer's header into
// ctx.Response, by deadline when it is not zero (a retry policy's per-try
// or total timeout).
func (st *state) exchange(node *upstream.Node, pool *upstream.Pool, deadline time.Time) error {
	nc := st.s.clients.get(node, pool)
	hdr := &st.ctx.Request.Header
	st.ctx.Request.UseHostHeader = true // Write must not take Host from a parsed URI
	setHost(hdr, node, pool)
	if h := st.ex.UpstreamHost(); h != "" {
		hdr.SetHost(h) // a plugin's (proxy-rewrite) beats pass_host
	}
	cc, conn, uc, err := st.acquire(nc)
	if err != nil {
		return err
	}
	reused := uc != nil && uc.used
	st.up = upstreamCall{nc: nc, cc: cc, conn: conn}
	st.beginWait(conn)
	defer st.endWait()

	bw := nc.hc.AcquireWriter(conn)
	err = st.ctx.Request.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	nc.hc.ReleaseWriter(bw)
	if err != nil {
		nc.pool.discard(cc)
		st.up = upstreamCall{}
		if reused && !st.reqBody.sent && !isTimeout(err) {
			return errStaleUnsent
		}
		return err
	}
	if uc != nil && !deadline.IsZero() {
		uc.holdRead(deadline)
		defer uc.releaseRead()
	}
	br := nc.hc.AcquireReader(conn)
	resp := &st.ctx.Response
	for {
		err = resp.Header.Read(br)
		if err != nil {
			break
		}
		// Interim answers (100 Continue, 103 Early Hints) are the
		// gateway's to absorb; 101 ends the exchange.
		if c := resp.Header.StatusCode(); c < 100 || c >= 200 || c == http.StatusSwitchingProtocols {
			break
		}
	}
	if err != nil {
		if tlsErr := tlsAlert(conn); tlsErr != nil {
			err = tlsErr
		}
		nc.hc.ReleaseReader(br)
		nc.pool.discard(cc)
		st.up = upstreamCall{}
		resp.Header.Reset()
		if reused && !st.reqBody.sent && (errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed) || isReset(err)) {
			return errStale
		}
		return err
	}
	if uc != nil {
		uc.used, uc.lastUsed = true, st.start.UnixNano()
	}
	st.up.br = br
	st.up.answered = true
	return nil
}

// tlsAlert is the TLS alert an upstream sent, when one is why its answer
// could not be read: with TLS 1.3 a server refuses a client certificate
// after the handshake, on the first read, and fasthttp reports that as a
// closed connection. crypto/tls keeps such an error and answers it again
// at once; a deadline in the past keeps the read from waiting otherwise.
func tlsAlert(conn net.Conn) error {
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return nil
	}
	_ = tc.SetReadDeadline(time.Now())
	var b [1]byte
	if _, err := tc.Read(b[:]); upstream.IsTLSError(err) {
		return err
	}
	return nil
}

// setHost sets the Host the backend sees, per pass_host.
func setHost(hdr *fasthttp.RequestHeader, node *upstream.Node, pool *upstream.Pool) {
	switch pool.PassHost {
	case "node":
		hdr.SetHost(node.HostHeader)
	case "rewrite":
		hdr.SetHost(pool.UpstreamHost)
	default:
		if len(hdr.Host()) == 0 {
			hdr.SetHost(node.HostHeader)
		}
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// clientFailed ends a request whose client went away or stalled: a
// client too slow with its body gets 408, a departed one no answer at all.
func (st *state) clientFailed() {
	st.s.cfg.Observer.UpstreamError(st.route, "client_closed")
	st.call.Failed("client_closed")
	st.ctx.Response.Header.Reset()
	st.up.answered = false
	if err := st.reqBody.clientErr; err != nil && isTimeout(err) && !st.clientGone.Load() {
		st.ctx.SetConnectionClose()
		st.ex.Reject(http.StatusRequestTimeout, "request_timeout", "the request body was not received in time")
		return
	}
	if isFramingError(st.reqBody.clientErr) && !st.clientGone.Load() {
		// The client is there but its chunked body broke its framing.
		st.ctx.SetConnectionClose()
		st.ex.Reject(http.StatusBadRequest, "bad_request", "the request body is malformed")
		return
	}
	st.clientGone.Store(true)
	st.dropConnection()
}

// dropConnection closes the client connection without an answer.
func (st *state) dropConnection() {
	st.ctx.HijackSetNoResponse(true)
	hijack(st.ctx, func(net.Conn) {}) // fasthttp closes it when this returns
}

// lingerTime is how long a connection refused mid-body keeps reading (and
// dropping) what the client still sends, so the client gets to read the
// answer before the close resets the connection (as net/http does).
const lingerTime = time.Second

// unreadDrained is how much of an unread body fasthttp reads and drops
// after an answer to keep the connection (its maxUnreadStreamBodySize);
// past it, or for a chunked body it may not reach the end of, it closes at
// once, and a client still sending gets a reset instead of the answer.
const unreadDrained = 256 << 10

// lingerIfBodyLeft makes an answer the gateway gave before reading the
// body (a refused credential, no route, a declared body over a limit) end
// with a lingering close when fasthttp would otherwise reset a client
// still sending: a body larger than fasthttp drains, or chunked.
func (st *state) lingerIfBodyLeft() {
	req := &st.ctx.Request
	if st.ctx.Hijacked() || req.BodyStream() == nil {
		return
	}
	if _, whole := req.BodyStream().(*bufferedBody); whole {
		return
	}
	if cl := req.Header.ContentLength(); cl == -1 || cl > unreadDrained {
		st.lingerClose()
	}
}

// lingerClose ends the connection after the answer: write side closed,
// then the unread body drained for up to lingerTime.
func (st *state) lingerClose() {
	raw := st.ctx.Conn()
	// The answer is written here, not by fasthttp, which would close the
	// connection at once after a Connection: close answer.
	st.ctx.Response.Header.SetConnectionClose()
	answer := []byte(st.ctx.Response.String())
	st.ctx.HijackSetNoResponse(true)
	hijack(st.ctx, func(c net.Conn) {
		if _, err := c.Write(answer); err != nil {
			return
		}
		closeWrite(raw)
		_ = raw.SetReadDeadline(time.Now().Add(lingerTime))
		_, _ = io.Copy(io.Discard, c) // through fasthttp's read buffer
	})
}

// failed answers a request whose upstream call failed, in the gateway's
// JSON shape.
func (st *state) failed(err error) {
	rt, obs := st.route, st.s.cfg.Observer
	st.ctx.Response.Header.Reset()
	switch {
	case errors.Is(err, plugin.ErrBodyTooLarge) || errors.Is(st.reqBody.err, plugin.ErrBodyTooLarge):
		st.ex.Reject(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than this route allows")
		st.lingerClose()
	case errors.Is(err, errNoNode):
		obs.UpstreamError(rt, "no_node")
		st.call.Failed("no_node")
		st.ex.Reject(http.StatusServiceUnavailable, "no_upstream", "the upstream has no available node")
	case isTimeout(err):
		obs.UpstreamError(rt, "timeout")
		st.call.Failed("timeout")
		st.ex.Reject(http.StatusGatewayTimeout, "upstream_timeout", "the upstream did not answer in time")
	case upstream.IsTLSError(err):
		obs.UpstreamError(rt, "tls")
		st.call.Failed("tls")
		st.s.cfg.Logger.Debug("upstream TLS handshake failed", "err", err, "request_id", st.ex.RequestID())
		st.ex.Reject(http.StatusBadGateway, "upstream_tls", upstream.TLSFailure)
	default:
		kind := "broken"
		if isDialError(err) {
			kind = "connect"
		}
		obs.UpstreamError(rt, kind)
		st.call.Failed(kind)
		st.s.cfg.Logger.Debug("upstream call failed", "err", err, "request_id", st.ex.RequestID())
		st.ex.Reject(http.StatusBadGateway, "upstream_unavailable", "the upstream could not be reached")
	}
	// An unread rest of the body is discarded by fasthttp (up to 256 KiB)
	// or the connection closed, so the next request is never misread.
}

// answer turns the backend's answer into the client's: hop-by-hop headers
// out, X-Request-Id in, response filters, then the body read whole or
// streamed.
func (st *state) answer(h head) (streaming bool) {
	resp := &st.ctx.Response
	up := &st.up
	if resp.Header.StatusCode() == http.StatusSwitchingProtocols {
		// Only an upgrade request may be switched; anything else is a
		// backend speaking out of turn.
		up.nc.hc.ReleaseReader(up.br)
		up.nc.pool.discard(up.cc)
		*up = upstreamCall{}
		st.failed(errors.New("unexpected 101 Switching Protocols"))
		return false
	}
	closeUp := resp.Header.ConnectionClose()
	resp.Header.ResetConnectionClose()
	st.stripResponseHops()
	resp.Header.SetCanonical(keyRequestID, st.idBuf)
	st.applyPreAnswer()
	for _, f := range st.route.ResponseFilters() {
		f.OnResponse(&st.ex)
	}

	code := resp.Header.StatusCode()
	cl := resp.Header.ContentLength()
	switch {
	case st.ctx.IsHead() || code < 200 || code == http.StatusNoContent || code == http.StatusNotModified:
		resp.SkipBody = true
		st.releaseUpstream(closeUp)
		return false
	case cl >= 0 && cl <= smallBody:
		err := resp.ReadBody(up.br, 0)
		if err != nil {
			st.releaseUpstream(true)
			up.answered = false
			resp.ResetBody()
			st.failed(err)
			return false
		}
		st.releaseUpstream(closeUp)
		return false
	}
	// Stream: the backend's body is read by fasthttp's writer through
	// responseBody, which gives the connection back when it is done.
	st.resp.begin(up, closeUp || cl == -2)
	st.up = upstreamCall{answered: true}
	if cl == -2 {
		cl = -1 // read to the backend's close; the client gets it chunked
	}
	resp.SetBodyStream(&st.resp, cl)
	return true
}

// releaseUpstream gives the connection back to its pool, or closes it.
func (st *state) releaseUpstream(closeConn bool) {
	up := &st.up
	if up.nc == nil {
		return
	}
	up.nc.hc.ReleaseReader(up.br)
	if closeConn {
		up.nc.pool.discard(up.cc)
	} else {
		up.nc.pool.release(up.cc)
	}
	up.nc, up.cc, up.conn, up.br = nil, nil, nil, nil
}

// stripResponseHops removes hop-by-hop headers of the backend's answer.
func (st *state) stripResponseHops() {
	hdr := &st.ctx.Response.Header
	found := false
	for k := range hdr.All() { // one pass; most answers have none
		if isHopByHop(k) {
			found = true
			break
		}
	}
	if !found {
		return
	}
	conn := hdr.Peek("Connection")
	st.hops = 0
	st.noteConnection(conn)
	// Copy the names: deleting headers moves the bytes they point into.
	var names [8][32]byte
	var lens [8]int
	n := 0
	for i := range st.hops {
		if len(st.hopTokens[i]) <= len(names[0]) {
			lens[n] = copy(names[n][:], st.hopTokens[i])
			n++
		}
	}
	for i := range n {
		hdr.DelBytes(names[i][:lens[i]])
	}
	for _, name := range hopHeaders {
		if name != "Trailer" { // fasthttp frames announced trailers itself
			hdr.Del(name)
		}
	}
	st.hops = 0
}

// beginWait marks the start of the wait for the upstream, which the
// watcher may cut short when the client leaves.
func (st *state) beginWait(conn net.Conn) {
	st.mu.Lock()
	st.upConn = conn
	st.waitingSince.Store(engine.Monotonic())
	st.mu.Unlock()
}

func (st *state) endWait() {
	st.mu.Lock()
	st.upConn = nil
	st.waitingSince.Store(0)
	st.mu.Unlock()
}

// isFramingError reports whether a read of the client's body failed on
// the body's own framing (a bad chunk size, a chunk longer than it said),
// not on the connection: fasthttp's chunk parser answers plain errors for
// those, network errors and EOFs for a client that went away.
func isFramingError(err error) bool {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, fasthttp.ErrConnectionClosed) {
		return false
	}
	var ne net.Error
	return !errors.As(err, &ne)
}
