package nethttp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// bufferedBody is a request body a filter read whole (plugin.BodyBuffer):
// the proxy's reqBody reads data from it, and a second BufferBody finds
// it here.
type bufferedBody struct {
	bytes.Reader
	data []byte
}

func (*bufferedBody) Close() error { return nil }

// BufferBody reads the client's body whole, at most max bytes, through the
// reqBody the proxy sends (limits, read timeout), then makes that reqBody
// replay the bytes. The client's own r.Body is left as it is (read to its
// end), so net/http's checks after the handler still see its real type;
// the framing sent upstream (length or chunked) does not change.
func (st *state) BufferBody(max int64) ([]byte, error) {
	if st.body != nil {
		if bb, ok := st.body.rc.(*bufferedBody); ok {
			return bb.data, nil
		}
	}
	r := st.r
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil, nil
	}
	if r.ContentLength > max {
		return nil, plugin.ErrBodyTooLarge
	}
	b := st.wrapBody()
	data, err := io.ReadAll(io.LimitReader(b, max+1))
	switch {
	case errors.Is(err, errBodyOverGatewayLimit):
		return nil, fmt.Errorf("%w: %w", plugin.ErrBodyTooLarge, err)
	case err != nil:
		return nil, err
	case int64(len(data)) > max:
		return nil, plugin.ErrBodyTooLarge
	}
	bb := &bufferedBody{data: data}
	bb.Reset(data)
	// The limits held for what was read; a filter that limits the body
	// later (request-size-limit) limits the replay afresh.
	b.rc, b.limited, b.left = bb, false, 0
	return data, nil
}
