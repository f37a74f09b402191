// Package mock is the mock plugin: the route answers a fixed status,
// headers and body itself, without calling an upstream (the "Mock"
// backend, for APIs designed before their backend exists).
package mock

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Config is the plugin configuration.
type Config struct {
	// Status of the answer (default 200).
	Status int `json:"status,omitempty" default:"200"`
	// Headers of the answer. Content-Type defaults to application/json
	// when Body is JSON, text/plain otherwise.
	Headers map[string]string `json:"headers,omitempty"`
	// Body, sent as is; JSON bodies may be given as a JSON value instead
	// of a string (e.g. {"body": {"id": 1}}).
	Body json.RawMessage `json:"body,omitempty"`
}

// Filter is the compiled plugin.
type Filter struct {
	status  int
	headers [][2]string
	body    []byte
}

// maxBody bounds a mock answer: it lives in every gateway's memory.
const maxBody = 1 << 20

// New validates cfg and prepares the answer once.
func New(cfg Config) (*Filter, error) {
	f := &Filter{status: cfg.Status}
	if f.status == 0 {
		f.status = http.StatusOK
	}
	if f.status < 200 || f.status > 599 {
		return nil, fmt.Errorf("status %d must be between 200 and 599", cfg.Status)
	}
	body, isJSON, err := decodeBody(cfg.Body)
	if err != nil {
		return nil, err
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("body is %d bytes; at most %d", len(body), maxBody)
	}
	if len(body) > 0 && (f.status == http.StatusNoContent || f.status == http.StatusNotModified) {
		return nil, fmt.Errorf("status %d has no body; remove body", f.status)
	}
	f.body = body
	hasType := false
	for _, name := range slices.Sorted(maps.Keys(cfg.Headers)) {
		v := cfg.Headers[name]
		if !plugin.ValidHeaderName(name) {
			return nil, fmt.Errorf("headers: %q is not a header name", name)
		}
		if !plugin.ValidHeaderValue(v) {
			return nil, fmt.Errorf("headers.%s: the value holds a control character", name)
		}
		switch c := http.CanonicalHeaderKey(name); c {
		case "Content-Length", "Transfer-Encoding", "Connection", "X-Request-Id":
			return nil, fmt.Errorf("headers.%s: the gateway sets it", name)
		case "Content-Type":
			hasType = true
			f.headers = append(f.headers, [2]string{c, v})
		default:
			f.headers = append(f.headers, [2]string{c, v})
		}
	}
	if !hasType && len(body) > 0 {
		ct := "text/plain; charset=utf-8"
		if isJSON {
			ct = "application/json"
		}
		f.headers = append(f.headers, [2]string{"Content-Type", ct})
	}
	return f, nil
}

// decodeBody takes a JSON string as the text to send, and any other JSON
// value as a JSON body.
func decodeBody(raw json.RawMessage) (body []byte, isJSON bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, false, fmt.Errorf("body: %w", err)
		}
		return []byte(s), json.Valid([]byte(s)), nil
	}
	if !json.Valid(raw) {
		return nil, false, errors.New("body is not a string or a JSON value")
	}
	return slices.Clone(raw), true, nil
}

// OnRequest answers the request; nothing goes upstream.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	for _, h := range f.headers {
		ex.SetResponseHeader(h[0], h[1])
	}
	ex.Respond(f.status, f.body)
	return true
}
