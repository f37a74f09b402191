// Package jwtauth admits requests that carry a JSON Web Token signed with
// an application's jwt-auth credential: HS256/384/512 with its secret,
// RS256 or ES256 with its public key. The token's "key" claim names the
// credential; exp is required unless require_exp is false (a token without
// one would never expire), nbf is checked when present. Parsing and
// verification are golang-jwt's.
package jwtauth

import (
	"errors"
	"net/textproto"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// Config of jwt-auth: where the token is read (header, with or without
// "Bearer ", default Authorization; then the query parameter, default
// jwt), how much clock skew exp and nbf allow (seconds, default 0), and
// whether a token without exp is refused (default true; only an explicit
// false admits tokens that never expire).
type Config struct {
	Header     string `json:"header,omitempty" default:"Authorization"`
	Query      string `json:"query,omitempty" default:"jwt"`
	ClockSkew  int    `json:"clock_skew,omitempty"`
	RequireExp *bool  `json:"require_exp,omitempty" default:"true"`
}

// Filter is a compiled jwt-auth.
type Filter struct {
	header string
	query  string
	ix     *consumer.Index
	parser *jwt.Parser
}

// maxToken bounds what is parsed.
const maxToken = 8 << 10

// New validates cfg over the group's consumer index.
func New(cfg Config, ix *consumer.Index) (*Filter, error) {
	if cfg.Header == "" {
		cfg.Header = "Authorization"
	}
	if cfg.Query == "" {
		cfg.Query = "jwt"
	}
	if cfg.ClockSkew < 0 || cfg.ClockSkew > 3600 {
		return nil, errors.New("clock_skew: must be between 0 and 3600 seconds")
	}
	if strings.ContainsAny(cfg.Header, " :") || strings.ContainsAny(cfg.Query, "&=#? ") {
		return nil, errors.New("header and query must be a header and a parameter name")
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(spec.JWTAlgorithms),
		jwt.WithLeeway(time.Duration(cfg.ClockSkew) * time.Second),
	}
	if cfg.RequireExp == nil || *cfg.RequireExp {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	return &Filter{header: textproto.CanonicalMIMEHeaderKey(cfg.Header), query: cfg.Query, ix: ix,
		parser: jwt.NewParser(opts...)}, nil
}

// OnRequest admits a request with a valid token of an admitted application.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	raw := ex.Header(f.header)
	fromQuery := false
	if raw == "" {
		raw, fromQuery = ex.Query(f.query), true
	}
	if len(raw) > 7 && strings.EqualFold(raw[:7], "bearer ") {
		raw = strings.TrimSpace(raw[7:])
	}
	if raw == "" || len(raw) > maxToken {
		return consumer.Unauthorized(ex)
	}
	cr, ok := f.Verify(raw)
	if !ok {
		return consumer.Unauthorized(ex)
	}
	if consumer.Admit(ex, cr) {
		return true
	}
	if fromQuery {
		ex.SetUpstreamQuery(withoutParam(ex.QueryForUpstream(), f.query))
	} else {
		ex.DelUpstreamHeader(f.header)
	}
	return false
}

// Verify checks a compact token and returns the credential that signed it.
func (f *Filter) Verify(raw string) (*consumer.Credential, bool) {
	var match *consumer.Credential
	_, err := f.parser.Parse(raw, func(tok *jwt.Token) (any, error) {
		claims, _ := tok.Claims.(jwt.MapClaims)
		key, _ := claims["key"].(string)
		if key == "" {
			return nil, errors.New("no key claim")
		}
		alg := tok.Method.Alg()
		var cands []*consumer.Credential
		for _, cr := range f.ix.Find(spec.CredJWTAuth, key) {
			if !cr.Expired() && cr.Algorithm == alg {
				cands = append(cands, cr)
			}
		}
		if len(cands) == 1 { // the usual case: the parser verifies once
			match = cands[0]
			return verificationKey(match), nil
		}
		// A rotation's overlap: find which secret signed it (either is the
		// application's).
		signed := tok.Raw[:strings.LastIndexByte(tok.Raw, '.')]
		for _, cr := range cands {
			if tok.Method.Verify(signed, tok.Signature, verificationKey(cr)) == nil {
				match = cr
				return verificationKey(cr), nil
			}
		}
		return nil, errors.New("no credential verifies the token")
	})
	return match, err == nil && match != nil
}

func verificationKey(cr *consumer.Credential) any {
	if cr.PublicKey != nil {
		return cr.PublicKey
	}
	return cr.Secret
}

// withoutParam drops parameter name from a raw query.
func withoutParam(raw, name string) string {
	var kept []string
	for seg := range strings.SplitSeq(raw, "&") {
		k, _, _ := strings.Cut(seg, "=")
		if k != name && seg != "" {
			kept = append(kept, seg)
		}
	}
	return strings.Join(kept, "&")
}
