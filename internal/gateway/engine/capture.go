package engine

import "github.com/portico-gw/portico/internal/gateway/plugin"

// Tee is one request's response capture (plugin.ResponseCapturer), kept
// in both engines' reused request state. Until a filter starts it, every
// method is one nil check: answers nobody asked for are never copied.
// The engine writes the body through it as it passes to the client, ends
// it when the backend's body came whole, and delivers it when the request
// finishes.
type Tee struct {
	sink  plugin.ResponseSink
	max   int
	buf   []byte
	over  bool // more than max arrived: nothing will be delivered
	ended bool
	hdr   []plugin.HeaderField
}

// maxKeptTee is the largest capture buffer a pooled state keeps between
// requests; a larger one (a big cached answer) is left to the collector.
const maxKeptTee = 64 << 10

// Start begins capturing for sink, at most max bytes of body.
func (t *Tee) Start(max int, sink plugin.ResponseSink) {
	t.sink, t.max = sink, max
	t.buf, t.over, t.ended = t.buf[:0], false, false
}

// On reports whether a filter asked for the answer.
func (t *Tee) On() bool { return t.sink != nil }

// Write keeps a copy of body bytes on their way to the client.
func (t *Tee) Write(p []byte) {
	if t.sink == nil || t.over || len(p) == 0 {
		return
	}
	if len(t.buf)+len(p) > t.max {
		t.over, t.buf = true, t.buf[:0]
		return
	}
	t.buf = append(t.buf, p...)
}

// End notes that the backend's body arrived whole.
func (t *Tee) End() { t.ended = true }

// Ready reports whether the answer will be delivered: a filter asked for
// it and its body ended whole within the limit. The engine then adds the
// answer's headers (Header) and calls Deliver.
func (t *Tee) Ready() bool { return t.sink != nil && t.ended && !t.over }

// Header adds one header of the answer as the client was sent it.
func (t *Tee) Header(name, value string) {
	t.hdr = append(t.hdr, plugin.HeaderField{Name: name, Value: value})
}

// Deliver hands the answer to the sink when it is Ready, and resets the
// tee either way.
func (t *Tee) Deliver(status int) {
	if t.Ready() {
		t.sink.ResponseCaptured(status, t.hdr, t.buf)
	}
	t.Reset()
}

// Reset drops the capture, keeping small buffers for the next request.
func (t *Tee) Reset() {
	if t.sink == nil && len(t.hdr) == 0 {
		return
	}
	t.sink, t.max, t.over, t.ended = nil, 0, false, false
	if cap(t.buf) > maxKeptTee {
		t.buf = nil
	} else {
		t.buf = t.buf[:0]
	}
	clear(t.hdr)
	t.hdr = t.hdr[:0]
}
