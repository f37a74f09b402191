package fast

import (
	"bytes"
	"io"
	"net/http"
)

// RequestBody gives a backend that answers itself (sql) the client's body,
// with the body limit in force.
func (st *state) RequestBody() io.Reader {
	req := &st.ctx.Request
	if cl := req.Header.ContentLength(); cl == 0 || cl == -2 {
		return http.NoBody
	}
	src := req.BodyStream()
	if src == nil {
		src = bytes.NewReader(req.Body())
	}
	st.reqBody.begin(src, st.limited, st.bodyLimit)
	return &st.reqBody
}

// WriteStream sends a body produced while it is sent (sql rows). fasthttp
// reads body after the handler returned and closes it when done or when
// the client went away; body must not refer to this request state, which
// is recycled when the handler returns.
func (st *state) WriteStream(status int, body io.ReadCloser) {
	r := &st.ctx.Response
	if !st.up.answered {
		st.applyPreAnswer()
	}
	r.SetStatusCode(status)
	r.Header.SetNoDefaultContentType(true)
	r.Header.SetBytesV("X-Request-Id", st.idBuf)
	r.SetBodyStream(body, -1)
	st.status = status
}
