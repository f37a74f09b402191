package plugin

import (
	"errors"
	"io"
)

// BodySource is implemented by engines whose backends may read the request
// body themselves (the sql backend binds body fields). Optional, so test
// backings and older engines keep compiling.
type BodySource interface {
	// RequestBody is the client's body with the body limits in force; an
	// empty reader when there is none.
	RequestBody() io.Reader
}

// StreamWriter is implemented by engines that can send an answer whose
// body is produced while it is sent (the sql backend's rows).
type StreamWriter interface {
	// WriteStream sends status, the response headers set so far and body,
	// read until io.EOF; the engine closes body when it is done with it,
	// also when the client went away. The length is unknown (chunked).
	WriteStream(status int, body io.ReadCloser)
}

// ErrNoBodySource is returned by ReadBody on an engine without BodySource.
var ErrNoBodySource = errors.New("this engine does not give the request body to backends")

// ReadBody reads the whole request body, at most max bytes (more is
// ErrBodyTooLarge). Only backends call it: the body is then consumed.
func (ex *Exchange) ReadBody(max int64) ([]byte, error) {
	bs, ok := ex.b.(BodySource)
	if !ok {
		return nil, ErrNoBodySource
	}
	b, err := io.ReadAll(io.LimitReader(bs.RequestBody(), max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, ErrBodyTooLarge
	}
	return b, nil
}

// RespondStream answers the request with a body produced while it is
// sent. Only the first Respond, RespondStream or Reject writes; body is
// closed in every case. On an engine that cannot stream, the body is read
// whole first.
func (ex *Exchange) RespondStream(status int, body io.ReadCloser) {
	if ex.answered {
		_ = body.Close()
		return
	}
	if sw, ok := ex.b.(StreamWriter); ok {
		ex.answered = true
		sw.WriteStream(status, body)
		return
	}
	b, err := io.ReadAll(body)
	_ = body.Close()
	if err != nil {
		ex.Reject(502, "backend_failed", "the backend failed while answering")
		return
	}
	ex.Respond(status, b)
}
