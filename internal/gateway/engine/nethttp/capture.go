package nethttp

import "github.com/portico-gw/portico/internal/gateway/plugin"

// CaptureResponse implements plugin.ResponseCapturer: copyBody copies the
// backend's body aside as it passes, and the request's end hands it over.
func (st *state) CaptureResponse(max int, sink plugin.ResponseSink) { st.tee.Start(max, sink) }

// deliverCapture hands a filter the answer it asked for: only the
// backend's, copied whole to the client (copyBody ended the tee).
func (st *state) deliverCapture(status int) {
	if st.resp == nil {
		st.tee.Reset()
		return
	}
	if st.tee.Ready() {
		for k, vv := range st.w.Header() {
			if k == "Trailer" {
				continue
			}
			for _, v := range vv {
				st.tee.Header(k, v)
			}
		}
	}
	st.tee.Deliver(status)
}
