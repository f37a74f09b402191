// Package oauth2 is OAuth 2.0 client credentials on the gateway: the token endpoint (Endpoint, served at TokenPath) issues
// opaque bearer tokens to an application's oauth2 credential, and the
// oauth2 plugin (Filter) admits requests that carry one.
//
// Tokens are 256 random bits, kept by their SHA-256 in a Store that
// outlives reloads; a token is accepted only while the credential that got
// it is still in the current snapshot's consumer index, unexpired and
// admitted to the route's service, so revoking or deleting the credential
// ends its tokens at the next snapshot.
package oauth2

import (
	"errors"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// Config of the oauth2 plugin. TokenTTL (seconds) bounds the lifetime of
// the tokens the gateway issues: the token endpoint uses the shortest
// token_ttl of all oauth2 plugins it serves (default 3600).
type Config struct {
	TokenTTL int `json:"token_ttl,omitempty"`
}

// MaxTokenTTL bounds token_ttl: a bearer token is a password while it lives.
const MaxTokenTTL = 7 * 24 * 3600

// WWW-Authenticate values of a 401 (RFC 6750 §3).
const (
	challenge        = `Bearer realm="portico"`
	challengeInvalid = `Bearer realm="portico", error="invalid_token"`
)

// Filter is a compiled oauth2 plugin.
type Filter struct {
	ix    *consumer.Index
	store *Store
}

// New validates cfg and registers the plugin with the build's token
// endpoint (nil, or a nil ix, admits nobody: validation).
func New(cfg Config, ix *consumer.Index, ep *Endpoint) (*Filter, error) {
	ttl := DefaultTokenTTL
	switch {
	case cfg.TokenTTL < 0 || cfg.TokenTTL > MaxTokenTTL:
		return nil, errors.New("token_ttl: must be between 1 and 604800 seconds")
	case cfg.TokenTTL > 0:
		ttl = time.Duration(cfg.TokenTTL) * time.Second
	}
	f := &Filter{ix: ix}
	if ep != nil {
		ep.use(ttl)
		f.store = ep.store
	}
	return f, nil
}

// OnRequest admits a request with "Authorization: Bearer <token>" whose
// token is live and whose credential is still known, unexpired and
// admitted here. The token is not forwarded upstream.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	tok, ok := bearer(ex.Header("Authorization"))
	if !ok {
		ex.SetResponseHeader("WWW-Authenticate", challenge)
		return consumer.Unauthorized(ex)
	}
	cr := f.credential(tok)
	if cr == nil {
		ex.SetResponseHeader("WWW-Authenticate", challengeInvalid)
		return consumer.Unauthorized(ex)
	}
	if consumer.Admit(ex, cr) {
		return true
	}
	ex.DelUpstreamHeader("Authorization")
	return false
}

// credential is the current credential a token was issued to, or nil.
func (f *Filter) credential(tok string) *consumer.Credential {
	g, ok := f.store.Lookup(tok)
	if !ok {
		return nil
	}
	for _, cr := range f.ix.Find(spec.CredOAuth2, g.clientID) {
		if cr.ID == g.credentialID && !cr.Expired() {
			return cr
		}
	}
	return nil
}

// bearer takes the token of an "Authorization: Bearer <token>" header
// (scheme case-insensitive, RFC 6750 §2.1).
func bearer(h string) (string, bool) {
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	tok := strings.TrimSpace(h[len(prefix):])
	return tok, tok != ""
}
