package plugin

import "errors"

// BodyReplacer is implemented by engines that can send the backend
// another body than the client's (route parameters mapped into or out of
// a JSON body). Optional, as BodyBuffer is; Exchange.SetUpstreamBody
// reports ErrNoBodyReplacer without it.
type BodyReplacer interface {
	// SetUpstreamBody makes b the body sent upstream, with its length as
	// Content-Length (never chunked). The engine keeps b until the request
	// ends; the caller must not change it. A client body not read yet is
	// the caller's to read first (Exchange.Body).
	SetUpstreamBody(b []byte)
}

// ErrNoBodyReplacer is returned by Exchange.SetUpstreamBody on an engine
// without BodyReplacer.
var ErrNoBodyReplacer = errors.New("this engine cannot replace the request body")

// SetUpstreamBody replaces the body the backend gets (see BodyReplacer).
func (ex *Exchange) SetUpstreamBody(b []byte) error {
	br, ok := ex.b.(BodyReplacer)
	if !ok {
		return ErrNoBodyReplacer
	}
	br.SetUpstreamBody(b)
	return nil
}
