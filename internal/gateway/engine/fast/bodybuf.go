package fast

import (
	"bytes"
	"io"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// bufferedBody is a request body a filter read whole (plugin.BodyBuffer):
// the proxy sends data from it, and a second BufferBody finds it here.
type bufferedBody struct {
	bytes.Reader
	data []byte
}

// BufferBody reads the client's body whole, at most max bytes, through the
// same limits and read deadlines the proxy applies, and puts it back as
// the request's body stream with the same framing (a chunked body stays
// chunked), so the backend gets exactly these bytes. Only filters that
// asked for the body pay for it; plain requests never come here.
func (st *state) BufferBody(max int64) ([]byte, error) {
	req := &st.ctx.Request
	if bb, ok := req.BodyStream().(*bufferedBody); ok {
		return bb.data, nil
	}
	cl := req.Header.ContentLength()
	if cl == 0 || cl == -2 {
		return nil, nil
	}
	if int64(cl) > max || (st.limited && int64(cl) > st.bodyLimit) {
		return nil, plugin.ErrBodyTooLarge
	}
	src := req.BodyStream()
	if src == nil {
		src = bytes.NewReader(req.Body())
	}
	st.reqBody.begin(src, st.limited, st.bodyLimit)
	data, err := io.ReadAll(io.LimitReader(&st.reqBody, max+1))
	st.reqBody.reset()
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, plugin.ErrBodyTooLarge
	}
	bb := &bufferedBody{data: data}
	bb.Reset(data)
	req.SetBodyStream(bb, cl)
	return data, nil
}
