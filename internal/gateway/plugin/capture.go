package plugin

// HeaderField is one header of an answer, as an engine hands it over.
type HeaderField struct{ Name, Value string }

// ResponseSink receives an answer a response filter asked the engine to
// capture (proxy-cache stores it).
type ResponseSink interface {
	// ResponseCaptured is called once, after the backend's answer was
	// passed on whole: its status, the headers the client was sent
	// (hop-by-hop ones left out; a name may repeat) and the whole body.
	// The strings and bytes are the engine's and valid only during the
	// call: a sink that keeps them copies them.
	ResponseCaptured(status int, header []HeaderField, body []byte)
}

// ResponseCapturer is implemented by engines that can tee the backend's
// answer to a filter as it streams to the client. Optional, so test
// backings and other engines keep compiling; Exchange.CaptureResponse
// reports false without it.
type ResponseCapturer interface {
	// CaptureResponse asks for this request's answer: the engine keeps up
	// to max bytes of the body as it passes (copying it aside, the client
	// is not held up) and calls sink when the answer ended. It never calls
	// sink when the body was larger than max, broke off, or the answer
	// was not the backend's (a gateway error). A later call replaces an
	// earlier one.
	CaptureResponse(max int, sink ResponseSink)
}

// CaptureResponse asks the engine to hand sink this request's answer,
// body included up to max bytes, once it has been sent (see
// ResponseCapturer). Response filters call it; it reports false when the
// engine cannot. Nothing is kept of answers no filter asked for.
func (ex *Exchange) CaptureResponse(max int, sink ResponseSink) bool {
	c, ok := ex.b.(ResponseCapturer)
	if !ok || sink == nil || max < 0 {
		return false
	}
	c.CaptureResponse(max, sink)
	return true
}
