package oauth2

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// TokenPath is where a gateway answers token requests: one endpoint per
// gateway, outside every group's path prefix.
const TokenPath = "/oauth2/token"

// DefaultTokenTTL is how long an access token lives unless an oauth2
// plugin's token_ttl says less.
const DefaultTokenTTL = time.Hour

// maxFormBytes bounds a token request's body.
const maxFormBytes = 8 << 10

// Endpoint is the token endpoint of one compiled configuration: it finds
// a client in the consumer index of every group the gateway serves (a
// gateway serves several groups; a client is an application's oauth2
// credential, known in each group whose services admit the application)
// and issues tokens into the long-lived Store. routing.Build makes one per
// build and serves it at TokenPath only when some route runs the oauth2
// plugin.
type Endpoint struct {
	store   *Store
	indexes []*consumer.Index
	ttl     time.Duration // 0 until a plugin registers
}

// NewEndpoint returns an endpoint issuing into store (nil: a private
// store, as when validating).
func NewEndpoint(store *Store) *Endpoint {
	if store == nil {
		store = NewStore(nil)
	}
	return &Endpoint{store: store}
}

// AddIndex adds the consumer index of one group.
func (e *Endpoint) AddIndex(ix *consumer.Index) {
	if ix != nil {
		e.indexes = append(e.indexes, ix)
	}
}

// use registers an oauth2 plugin with its token lifetime: tokens live as
// long as the shortest lifetime configured, so none outlives what any
// route it may be used on allows.
func (e *Endpoint) use(ttl time.Duration) {
	if e.ttl == 0 || ttl < e.ttl {
		e.ttl = ttl
	}
}

// Used reports whether any oauth2 plugin was compiled with this endpoint.
func (e *Endpoint) Used() bool { return e != nil && e.ttl > 0 }

// TTL is the lifetime of the tokens it issues.
func (e *Endpoint) TTL() time.Duration { return e.ttl }

// OnRequest answers a token request itself; it never lets the request go
// on (there is no backend behind the endpoint).
func (e *Endpoint) OnRequest(ex *plugin.Exchange) bool {
	ex.SetResponseHeader("Content-Type", "application/json;charset=UTF-8")
	ex.SetResponseHeader("Cache-Control", "no-store")
	ex.SetResponseHeader("Pragma", "no-cache")
	if !e.Used() {
		return answerError(ex, errNotConfigure)
	}
	var body []byte
	if ex.Method() == http.MethodPost {
		var err error
		body, err = ex.Body(maxFormBytes)
		switch {
		case errors.Is(err, plugin.ErrBodyTooLarge):
			return answerError(ex, errTooLarge)
		case err != nil:
			return answerError(ex, errUnreadable)
		}
	}
	authz := ex.Header("Authorization")
	req, perr := ParseTokenRequest(ex.Method(), ex.Header("Content-Type"), authz, ex.RawQuery(), body)
	if perr != nil {
		if perr == errClient && authz != "" {
			ex.SetResponseHeader("WWW-Authenticate", `Basic realm="portico"`)
		}
		return answerError(ex, perr)
	}
	cr := e.authenticate(req.ClientID, req.ClientSecret)
	if cr == nil {
		if req.Basic {
			ex.SetResponseHeader("WWW-Authenticate", `Basic realm="portico"`)
		}
		return answerError(ex, errClient)
	}
	tok, err := e.store.Issue(cr.ID, req.ClientID, e.ttl)
	if err != nil {
		return answerError(ex, errServer)
	}
	out := make([]byte, 0, 128)
	out = append(out, `{"access_token":"`...)
	out = append(out, tok...) // base64url: nothing to escape
	out = append(out, `","token_type":"Bearer","expires_in":`...)
	out = strconv.AppendInt(out, int64(e.ttl/time.Second), 10)
	out = append(out, "}\n"...)
	ex.Respond(http.StatusOK, out)
	return true
}

// authenticate finds the unexpired oauth2 credential with this client id
// and secret in any group. An unknown client id costs the same SHA-256 as
// a known one.
func (e *Endpoint) authenticate(id, secret string) *consumer.Credential {
	tried := false
	for _, ix := range e.indexes {
		for _, cr := range ix.Find(spec.CredOAuth2, id) {
			tried = true
			if !cr.Expired() && cr.CheckSecret(secret) {
				return cr
			}
		}
	}
	if !tried {
		_ = sha256.Sum256([]byte(secret))
	}
	return nil
}

// answerError writes an RFC 6749 §5.2 error.
func answerError(ex *plugin.Exchange, e *Error) bool {
	var b strings.Builder
	b.WriteString(`{"error":"`)
	b.WriteString(e.Code) // constants: nothing to escape
	b.WriteString(`","error_description":"`)
	b.WriteString(e.Description)
	b.WriteString("\"}\n")
	ex.Respond(e.Status, []byte(b.String()))
	return true
}
