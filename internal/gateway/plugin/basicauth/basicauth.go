// Package basicauth admits requests with an application's basic-auth
// username and password (RFC 7617). Passwords are checked with bcrypt once
// and then against a cached SHA-256 (consumer.Credential.CheckPassword),
// so the hot path is not a bcrypt per request.
package basicauth

import (
	"encoding/base64"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/portico-gw/portico/internal/gateway/consumer"
	"github.com/portico-gw/portico/internal/gateway/plugin"
	"github.com/portico-gw/portico/internal/spec"
)

// Config has no options yet; {} turns basic-auth on.
type Config struct{}

// Filter is a compiled basic-auth.
type Filter struct{ ix *consumer.Index }

// New returns the filter over the group's consumer index.
func New(_ Config, ix *consumer.Index) (*Filter, error) { return &Filter{ix: ix}, nil }

const challenge = `Basic realm="portico", charset="UTF-8"`

// OnRequest admits a request whose Authorization names a known user with
// the right password.
func (f *Filter) OnRequest(ex *plugin.Exchange) bool {
	user, pw, ok := Parse(ex.Header("Authorization"))
	if !ok {
		return deny(ex)
	}
	var match *consumer.Credential
	for _, cr := range f.ix.Find(spec.CredBasicAuth, user) {
		if !cr.Expired() && cr.CheckPassword(pw) {
			match = cr
			break
		}
	}
	if match == nil {
		if len(f.ix.Find(spec.CredBasicAuth, user)) == 0 {
			spendBcrypt(pw) // an unknown user takes as long as a wrong password
		}
		return deny(ex)
	}
	if consumer.Admit(ex, match) {
		return true
	}
	ex.DelUpstreamHeader("Authorization")
	return false
}

func deny(ex *plugin.Exchange) bool {
	ex.SetResponseHeader("WWW-Authenticate", challenge)
	return consumer.Unauthorized(ex)
}

var (
	dummyOnce sync.Once
	dummyHash []byte
)

// spendBcrypt runs one bcrypt comparison that always fails.
func spendBcrypt(pw string) {
	dummyOnce.Do(func() {
		dummyHash, _ = bcrypt.GenerateFromPassword([]byte("portico-dummy-password"), bcrypt.DefaultCost)
	})
	_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
}

// maxHeader bounds what is decoded: a username and a 72-byte password fit
// many times over.
const maxHeader = 1024

// Parse reads "Basic base64(user:password)". The scheme is
// case-insensitive; the user may not be empty; the password may hold ':'.
func Parse(h string) (user, pw string, ok bool) {
	const prefix = "basic "
	if len(h) <= len(prefix) || len(h) > maxHeader || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	user, pw, ok = strings.Cut(string(b), ":")
	if !ok || user == "" {
		return "", "", false
	}
	for i := range len(user) {
		if user[i] < 0x20 || user[i] == 0x7f {
			return "", "", false
		}
	}
	return user, pw, true
}
