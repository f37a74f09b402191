// Package responsetransformer is the response-transformer plugin: it adds,
// sets or removes headers of the backend's answer before the client gets
// it.
package responsetransformer

import (
	"errors"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Config is the plugin configuration.
type Config struct {
	Headers plugin.HeaderOps `json:"headers"`
}

// Filter is the compiled plugin.
type Filter struct{ headers plugin.HeaderEdits }

// New validates cfg.
func New(cfg Config) (*Filter, error) {
	h, err := cfg.Headers.Compile("headers")
	if err != nil {
		return nil, err
	}
	if h.Empty() {
		return nil, errors.New("headers must add, set or remove at least one header")
	}
	return &Filter{headers: h}, nil
}

// OnResponse edits the answer's headers.
func (f *Filter) OnResponse(ex *plugin.Exchange) { f.headers.ApplyResponse(ex) }
