package fast

import "github.com/portico-gw/portico/internal/gateway/plugin"

// CaptureResponse implements plugin.ResponseCapturer: the backend's body
// is copied aside as it passes (responseBody.Read for a streamed one, the
// read body for a small one) and handed over when the request finishes.
func (st *state) CaptureResponse(max int, sink plugin.ResponseSink) { st.tee.Start(max, sink) }

// deliverCapture hands a filter the answer it asked for: only the
// backend's answer, read whole (a gateway error after a failed read is
// not one).
func (st *state) deliverCapture(status int) {
	resp := &st.ctx.Response
	if !st.up.answered || st.clientGone.Load() {
		st.tee.Reset()
		return
	}
	if !resp.IsBodyStream() {
		st.tee.Write(resp.Body())
		st.tee.End()
	}
	if st.tee.Ready() {
		for k, v := range resp.Header.All() {
			st.tee.Header(b2s(k), b2s(v))
		}
	}
	st.tee.Deliver(status)
}
