package compose

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// MaxRequestBody bounds the client's body a composite route reads.
const MaxRequestBody = 1 << 20

// Filter is a composite route's backend: the last request filter, which
// answers the request by running the flow.
type Filter struct {
	flow   *Flow
	caller Caller
}

// NewFilter binds a compiled flow to the Caller that sends its calls.
func NewFilter(f *Flow, c Caller) plugin.RequestFilter {
	return &Filter{flow: f, caller: c}
}

var _ plugin.RequestFilter = (*Filter)(nil)

// OnRequest copies the request out of the Exchange (its strings may
// alias the engine's buffers, and steps run on other goroutines), runs
// the flow and answers.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	in, ok := readInput(ex, f.flow)
	if !ok {
		return true
	}
	res := f.flow.Run(ex.Context(), in, f.caller)
	ex.SetSteps(res.Steps)
	if res.Code != "" {
		ex.Reject(res.Status, res.Code, res.Message)
		return true
	}
	for _, h := range res.Header {
		ex.SetResponseHeader(h.Name, h.Value)
	}
	ex.Respond(res.Status, res.Body)
	return true
}

// readInput copies what the flow may read; on a body it cannot read it
// answers the request and returns false.
func readInput(ex *plugin.Exchange, flow *Flow) (*Input, bool) {
	in := &Input{
		Method:    strings.Clone(ex.Method()),
		Path:      strings.Clone(ex.Path()),
		Client:    ex.ClientAddr(),
		RequestID: strings.Clone(ex.RequestID()),
		TraceID:   strings.Clone(ex.TraceID()),
	}
	ex.EachPathParam(func(name, value string) {
		if in.Params == nil {
			in.Params = make(map[string]string, 4)
		}
		in.Params[strings.Clone(name)] = strings.Clone(value)
	})
	if raw := ex.RawQuery(); raw != "" {
		// ParseQuery's values may be substrings of its input: parse a copy.
		in.Query, _ = url.ParseQuery(strings.Clone(raw))
	}
	if names := flow.RequestHeaders(); len(names) > 0 {
		in.Headers = make(map[string]string, len(names))
		for _, name := range names {
			if v := ex.Header(name); v != "" {
				in.Headers[name] = strings.Clone(v)
			}
		}
	}
	in.ContentType = strings.Clone(ex.Header("Content-Type"))
	if ex.ContentLength() != 0 {
		b, err := ex.ReadBody(MaxRequestBody)
		switch {
		case errors.Is(err, plugin.ErrBodyTooLarge):
			ex.Reject(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than this API allows")
			return nil, false
		case err != nil:
			ex.Reject(http.StatusBadRequest, "bad_request", "the request body could not be read")
			return nil, false
		}
		// ReadBody's bytes are a fresh buffer; cloned anyway so an
		// engine that lends its own stays safe.
		in.Body = bytes.Clone(b)
	}
	return in, true
}
