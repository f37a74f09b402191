package nethttp

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// errBodyOverGatewayLimit is a request body passing Config.MaxBodyBytes.
var errBodyOverGatewayLimit = errors.New("request body larger than the gateway allows")

// errBodyAfterHandler is a read of the request body after the handler
// returned (the upstream transport may outlive it).
var errBodyAfterHandler = errors.New("request body read after the request ended")

// readDeadliner is the part of net/http's ResponseWriter that moves the
// client connection's read deadline.
type readDeadliner interface {
	SetReadDeadline(time.Time) error
}

// reqBody is the request body as the upstream transport reads it: bounded
// in size (Config.MaxBodyBytes, plugin LimitBody) and in the wait between
// two reads (Config.BodyTimeout).
//
// It is allocated per request that has a body, never pooled: the
// transport's write loop may still read it after the handler returned, so
// it must not be recycled under it. end (called when the handler returns)
// makes such late reads fail without touching the connection's deadline,
// which belongs to net/http again by then. The client's own body (r.Body)
// is never replaced, so net/http's checks of it after the handler (unread
// body, 100-continue never sent) still see its real type.
type reqBody struct {
	rc io.ReadCloser

	limited  bool
	left     int64 // bytes still allowed when limited; only Read touches it
	tooLarge error

	mu       sync.Mutex
	dl       readDeadliner // nil: no body timeout, or it no longer applies
	timeout  int64         // nanoseconds
	set      int64         // when the read deadline was last moved
	ended    bool          // the transport closed it or the handler returned
	timedOut atomic.Bool
	// malformed: the client's body broke its own framing (a bad chunk);
	// the client is answered 400, not 502.
	malformed atomic.Bool
	// kept is the start of the body, up to keepMax bytes (and one over,
	// to tell a cut body), for an access log that keeps bodies; the
	// transport may read on its own goroutine, so it is under mu.
	keepMax int
	kept    []byte
}

func newReqBody(rc io.ReadCloser, w http.ResponseWriter, timeout time.Duration) *reqBody {
	b := &reqBody{rc: rc}
	if timeout > 0 {
		if dl, ok := w.(readDeadliner); ok {
			b.dl, b.timeout = dl, int64(timeout)
		}
	}
	return b
}

// limit bounds the body to max bytes; the smaller of two limits wins and
// names the error.
func (b *reqBody) limit(max int64, err error) {
	if !b.limited || max < b.left {
		b.limited, b.left, b.tooLarge = true, max, err
	}
}

func (b *reqBody) Read(p []byte) (int, error) {
	if b.limited {
		if b.left < 0 {
			return 0, b.tooLarge
		}
		if int64(len(p)) > b.left+1 {
			p = p[:b.left+1]
		}
	}
	b.mu.Lock()
	if b.ended {
		b.mu.Unlock()
		return 0, errBodyAfterHandler
	}
	if b.dl != nil {
		// As clientConn: move the deadline only after an eighth of it.
		if now := time.Now().UnixNano(); now-b.set > b.timeout/8 {
			b.set = now
			_ = b.dl.SetReadDeadline(time.Unix(0, now+b.timeout))
		}
	}
	b.mu.Unlock()

	n, err := b.rc.Read(p)
	if b.keepMax > 0 && n > 0 {
		b.mu.Lock()
		if room := b.keepMax + 1 - len(b.kept); room > 0 {
			b.kept = append(b.kept, p[:min(room, n)]...)
		}
		b.mu.Unlock()
	}
	if err != nil {
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			b.timedOut.Store(true)
		case err != io.EOF && !errors.Is(err, errBodyAfterHandler):
			b.malformed.Store(true)
		}
		b.stopTimeout()
	}
	if b.limited {
		b.left -= int64(n)
		if b.left < 0 {
			return 0, b.tooLarge
		}
	}
	return n, err
}

// stopTimeout clears the read deadline once the body is over: net/http's
// background read of the connection (which notices a client leaving
// during the answer) must not time out.
func (b *reqBody) stopTimeout() {
	b.mu.Lock()
	if b.dl != nil && !b.ended && b.set != 0 {
		_ = b.dl.SetReadDeadline(time.Time{})
	}
	b.dl = nil
	b.mu.Unlock()
}

// Close does not close the client's body: net/http does after the handler,
// and closing it early would make it consume a body the client has not
// sent yet (100-continue), as httputil.ReverseProxy's own wrapper notes.
func (b *reqBody) Close() error {
	b.end()
	return nil
}

func (b *reqBody) end() {
	b.mu.Lock()
	b.ended = true
	b.mu.Unlock()
}

// wrapBody returns the body the upstream transport will read, creating it
// on first use; nil when the request has none.
func (st *state) wrapBody() *reqBody {
	if st.body == nil && st.r.Body != nil && st.r.Body != http.NoBody {
		st.body = newReqBody(st.r.Body, st.w, st.h.bodyTimeout)
		if b := st.call.Bodies; b != nil && b.Request {
			st.body.keepMax = b.MaxBytes
		}
	}
	return st.body
}

// LimitBody makes the proxy's read of the body fail with
// plugin.ErrBodyTooLarge past max bytes; the proxy then answers 413.
func (st *state) LimitBody(max int64) {
	if b := st.wrapBody(); b != nil {
		b.limit(max, plugin.ErrBodyTooLarge)
	}
}

// prefetchBody is how much of a chunked request body is read before the
// backend is contacted: a body that ends within it and breaks its framing
// is refused (400) before anything reaches the backend, as the fast
// engine does. A longer one streams, and a framing error later aborts the
// upstream request (which then never ends) and is answered 400.
const prefetchBody = 16 << 10

// prefetch reads up to prefetchBody bytes of a chunked body through the
// proxy's reqBody (limits, timeouts) and makes it replay them.
func (st *state) prefetch() error {
	r := st.r
	if r.ContentLength != -1 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b := st.wrapBody()
	if _, ok := b.rc.(*bufferedBody); ok {
		return nil // a filter read it whole already
	}
	head := make([]byte, prefetchBody)
	// What is prefetched is read again from the replay, under the same
	// limit: count it once.
	left := b.left
	defer func() { b.left = left }()
	n := 0
	for n < len(head) {
		m, err := b.Read(head[n:])
		n += m
		switch {
		case err == io.EOF: // the whole body, well framed
			bb := &bufferedBody{data: head[:n]}
			bb.Reset(bb.data)
			b.rc = bb
			return nil
		case err != nil:
			return err // io.ErrUnexpectedEOF included: a body cut short
		}
	}
	b.rc = prefixedBody{Reader: io.MultiReader(bytes.NewReader(head), b.rc), c: b.rc}
	return nil
}

// prefixedBody replays the prefetched start of a body, then the rest.
type prefixedBody struct {
	io.Reader
	c io.Closer
}

func (p prefixedBody) Close() error { return p.c.Close() }
