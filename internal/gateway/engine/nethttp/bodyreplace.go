package nethttp

import (
	"bytes"
	"io"
	"net/http"
)

// SetUpstreamBody makes b the body the backend gets (plugin.BodyReplacer);
// upstreamBody puts it on the outgoing request. The client's own body is
// left as it is (a filter that replaced it read it whole first).
func (st *state) SetUpstreamBody(b []byte) {
	if b == nil {
		b = []byte{}
	}
	st.newBody = b
}

// upstreamBody sends the body a filter set instead of the client's, with
// its length (never chunked).
func (st *state) upstreamBody(out *http.Request) {
	out.Body = io.NopCloser(bytes.NewReader(st.newBody))
	out.ContentLength = int64(len(st.newBody))
	out.TransferEncoding = nil
	if len(st.newBody) == 0 {
		out.Body = http.NoBody
	}
}
