// Package requestsizelimit refuses request bodies larger than a limit
// (request-size-limit plugin): by Content-Length before the backend is
// called, and while streaming a body of unknown length.
package requestsizelimit

import (
	"errors"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Config is the plugin configuration.
type Config struct {
	MaxBytes int64 `json:"max_bytes"`
}

// Filter is the compiled plugin.
type Filter struct{ max int64 }

// New validates cfg.
func New(cfg Config) (*Filter, error) {
	if cfg.MaxBytes <= 0 {
		return nil, errors.New("max_bytes must be a positive number of bytes")
	}
	return &Filter{max: cfg.MaxBytes}, nil
}

// OnRequest answers 413 when the declared length is over the limit, and
// otherwise bounds the body so a longer stream fails with 413 (or, once the
// backend answered, an aborted request).
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	if ex.ContentLength() > f.max {
		ex.Reject(413, "request_too_large", "request body is larger than the limit")
		return true
	}
	ex.LimitBody(f.max)
	return false
}
