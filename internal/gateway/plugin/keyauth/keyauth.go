// Package keyauth admits requests that carry an application's API key in a
// header or a query parameter. The key is checked
// by its SHA-256 against the consumer index and never reaches the upstream.
package keyauth

import (
	"errors"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
)

// Config says where the key is read: the header first, then the query
// parameter. Both default to "apikey".
type Config struct {
	Header string `json:"header,omitempty" default:"apikey"`
	Query  string `json:"query,omitempty" default:"apikey"`
}

// Filter is a compiled key-auth.
type Filter struct {
	header string // canonical, so net/http's Header.Get does not allocate
	query  string
	ix     *consumer.Index
}

// New validates cfg; ix is the group's consumer index (nil: nobody is
// admitted, as when validating).
func New(cfg Config, ix *consumer.Index) (*Filter, error) {
	if cfg.Header == "" {
		cfg.Header = "apikey"
	}
	if cfg.Query == "" {
		cfg.Query = "apikey"
	}
	for _, c := range cfg.Header {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return nil, errors.New("header: must be a header name")
		}
	}
	if strings.ContainsAny(cfg.Query, "&=#? ") {
		return nil, errors.New("query: must be a query parameter name")
	}
	return &Filter{header: textproto.CanonicalMIMEHeaderKey(cfg.Header), query: cfg.Query, ix: ix}, nil
}

// OnRequest admits a request with a known, unexpired key of an admitted
// application.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	key := ex.Header(f.header)
	if key == "" {
		key = ex.Query(f.query)
	}
	if key == "" {
		return consumer.Unauthorized(ex)
	}
	cr := f.ix.Key(key)
	if cr == nil || cr.Expired() {
		return consumer.Unauthorized(ex)
	}
	if consumer.Admit(ex, cr) {
		return true
	}
	ex.DelUpstreamHeader(f.header)
	// Only a request with the parameter pays for rewriting the query.
	if raw := ex.QueryForUpstream(); strings.Contains(raw, f.query) {
		if q, changed := WithoutParam(raw, f.query); changed {
			ex.SetUpstreamQuery(q)
		}
	}
	return false
}

// WithoutParam removes every occurrence of parameter name from a raw query.
func WithoutParam(raw, name string) (string, bool) {
	var b strings.Builder
	changed := false
	for seg := range strings.SplitSeq(raw, "&") {
		k, _, _ := strings.Cut(seg, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if k == name {
			changed = true
			continue
		}
		if seg == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(seg)
	}
	if !changed {
		return raw, false
	}
	return b.String(), true
}
