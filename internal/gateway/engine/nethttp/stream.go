package nethttp

import (
	"io"
	"net/http"
)

// RequestBody gives a backend that answers itself (sql) the client's body,
// with the limits and read timeout the proxy would apply.
func (st *state) RequestBody() io.Reader {
	if b := st.wrapBody(); b != nil {
		return b
	}
	if st.r.Body == nil {
		return http.NoBody
	}
	return st.r.Body
}

// WriteStream sends a body produced while it is sent (sql rows): chunked,
// flushed per buffer so a large answer never sits in memory.
func (st *state) WriteStream(status int, body io.ReadCloser) {
	defer body.Close()
	st.w.WriteHeader(status)
	st.status = status
	if st.r.Method == http.MethodHead {
		return
	}
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	buf := *bp
	rc := http.NewResponseController(st.w)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := st.w.Write(buf[:n]); werr != nil {
				return // the client went away; Close ends the query
			}
			_ = rc.Flush()
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			// Headers are out: the only way left to say "incomplete" is
			// to abort the response.
			panic(http.ErrAbortHandler)
		}
	}
}
