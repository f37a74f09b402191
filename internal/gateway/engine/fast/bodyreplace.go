package fast

// SetUpstreamBody makes b the body the backend gets (plugin.BodyReplacer):
// it becomes the request's body stream with its length as Content-Length,
// as a body a filter read whole (bufferedBody) is sent, so a chunked
// client body is sent with a length instead.
func (st *state) SetUpstreamBody(b []byte) {
	bb := &bufferedBody{data: b}
	bb.Reset(b)
	st.ctx.Request.SetBodyStream(bb, len(b))
}
