package fast

import (
	"bytes"
	"io"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/portico-gw/portico/internal/gateway/engine"
	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// requestBody is the client's body on its way upstream: it enforces the
// body limit, moves the client's read deadline while the body keeps
// coming, and tells a client failure from an upstream one.
type requestBody struct {
	st        *state
	src       io.Reader
	limited   bool
	left      int64
	sent      bool  // a byte was read: the request can no longer be replayed
	err       error // ErrBodyTooLarge or the client's read error
	clientErr error
	readSet   int64
}

func (b *requestBody) begin(src io.Reader, limited bool, limit int64) {
	b.src, b.limited, b.left = src, limited, limit
}

func (b *requestBody) reset() {
	*b = requestBody{st: b.st}
}

func (b *requestBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.limited && int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	now := engine.Monotonic()
	if timeout := b.st.s.cfg.BodyTimeout; now-b.readSet > int64(timeout)/8 {
		b.readSet = now
		_ = b.st.ctx.Conn().SetReadDeadline(time.Now().Add(timeout))
	}
	n, err := b.src.Read(p)
	if n > 0 {
		b.sent = true
	}
	if b.limited {
		b.left -= int64(n)
		if b.left < 0 {
			b.err = plugin.ErrBodyTooLarge
			return 0, b.err
		}
	}
	if err != nil && err != io.EOF {
		b.err, b.clientErr = err, err
	}
	b.st.call.BytesIn += int64(n)
	b.st.call.Capture(false, p[:n])
	return n, err
}

// responseBody streams the backend's answer to the client. fasthttp reads
// it after the handler returned and closes it when the answer is written
// (or the client is gone); Close returns the upstream connection and
// finishes the request.
type responseBody struct {
	st        *state
	up        upstreamCall
	src       fasthttp.Response // owns the body stream over up.br
	closeConn bool
	done      bool
	writeSet  int64
}

func (b *responseBody) begin(up *upstreamCall, closeConn bool) {
	b.up, b.closeConn, b.done = *up, closeConn, false
	b.writeSet = engine.Monotonic()
	hdr := &b.st.ctx.Response.Header
	b.src.Header.SetContentLength(hdr.ContentLength())
	b.src.StreamBody = true
	_ = b.src.ReadBody(up.br, 0) // with StreamBody it only sets the stream up
}

func (b *responseBody) reset() {
	b.src.Reset()
	b.up, b.closeConn, b.done = upstreamCall{}, false, false
}

func (b *responseBody) Read(p []byte) (int, error) {
	// While it waits for the backend, a client that left cancels the call.
	b.st.beginWait(b.up.conn)
	n, err := b.src.BodyStream().Read(p)
	b.st.endWait()
	b.st.call.BytesOut += int64(n)
	b.st.call.Capture(true, p[:n])
	b.st.tee.Write(p[:n])
	if err == io.EOF {
		b.done = true
		b.st.tee.End()
		b.copyTrailers()
	} else if err != nil {
		b.st.s.cfg.Observer.UpstreamError(b.st.route, "broken")
		b.st.call.Failed("broken")
	}
	now := engine.Monotonic()
	if timeout := b.st.s.cfg.SendTimeout; now-b.writeSet > int64(timeout)/8 {
		b.writeSet = now
		_ = b.st.ctx.Conn().SetWriteDeadline(time.Now().Add(timeout))
	}
	return n, err
}

// copyTrailers hands the trailers the backend sent after a chunked body to
// the client's answer, which announced them (trailers are rare: this may
// allocate).
func (b *responseBody) copyTrailers() {
	out := &b.st.ctx.Response.Header
	for _, k := range b.src.Header.PeekTrailerKeys() {
		if v := b.src.Header.PeekBytes(k); len(v) > 0 {
			out.SetBytesKV(k, v)
		}
	}
}

func (b *responseBody) Close() error {
	st := b.st
	_ = b.src.CloseBodyStream()
	if b.up.nc != nil {
		b.up.nc.hc.ReleaseReader(b.up.br)
		if b.done && !b.closeConn {
			b.up.nc.pool.release(b.up.cc)
		} else {
			b.up.nc.pool.discard(b.up.cc)
		}
	}
	b.up = upstreamCall{}
	st.finish()
	return nil
}

// prefetchChunked reads up to prefetchBody bytes of a chunked body (through
// the body limit and timeout) before the backend is contacted, so a body
// that ends within them and breaks its framing is refused before anything
// reaches the backend. A longer body streams on from where it stopped.
func (st *state) prefetchChunked() error {
	req := &st.ctx.Request
	src := req.BodyStream()
	if src == nil {
		return nil
	}
	if _, ok := src.(*bufferedBody); ok {
		return nil // a filter read it whole already
	}
	if cap(st.prefetch) < prefetchBody {
		st.prefetch = make([]byte, prefetchBody)
	}
	head := st.prefetch[:prefetchBody]
	st.reqBody.begin(src, st.limited, st.bodyLimit)
	n := 0
	for n < len(head) {
		m, err := st.reqBody.Read(head[n:])
		n += m
		switch {
		case err == io.EOF:
			bb := &bufferedBody{data: head[:n]}
			bb.Reset(bb.data)
			st.reqBody.reset()
			req.SetBodyStream(bb, -1)
			return nil
		case err != nil:
			return err
		}
	}
	st.reqBody.reset()
	req.SetBodyStream(io.MultiReader(bytes.NewReader(head), src), -1)
	return nil
}
