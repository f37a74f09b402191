package plugin

import (
	"errors"
	"fmt"
)

// BodyBuffer is implemented by engines that can hand a request filter the
// whole request body and still send it upstream afterwards (hmac-auth's
// body digest, the oauth2 token endpoint's form). Optional, so test
// backings and other engines keep compiling; Exchange.Body reports
// ErrNoBodyBuffer without it.
type BodyBuffer interface {
	// BufferBody reads the whole body, at most max bytes, with the body
	// limits and timeouts in force, and keeps it: the backend then gets
	// these bytes. A second call returns the same bytes. A body over max
	// (declared or read) is ErrBodyTooLarge; no body is nil, nil.
	BufferBody(max int64) ([]byte, error)
}

// ErrNoBodyBuffer is returned by Exchange.Body on an engine without
// BodyBuffer.
var ErrNoBodyBuffer = errors.New("this engine cannot give request filters the body")

// Body reads the whole request body, at most max bytes, and keeps it for
// the backend, which still receives it. A body larger than max is
// ErrBodyTooLarge (errors.Is); the filter must then answer (413). The
// bytes are the engine's: valid until the request ends, never modified.
// Only filters that need the body call it: reading it costs a copy and
// makes the request wait for the whole body.
func (ex *Exchange) Body(max int64) ([]byte, error) {
	bb, ok := ex.b.(BodyBuffer)
	if !ok {
		return nil, ErrNoBodyBuffer
	}
	if max < 0 {
		max = 0
	}
	b, err := bb.BufferBody(max)
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	return b, nil
}
